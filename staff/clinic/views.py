"""The clinic settings page (admin only)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.access import admin_required
from clinic import services, settings_reader, table
from clinic.models import ClinicSettings
from staff.clinic.forms import ClinicSettingsForm


def _display(field: str, value) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if field in settings_reader.DAY_LISTS:
        return ", ".join(str(day) for day in value)
    if field == "idle_timeout_minutes":
        return f"{value / 60:g}"
    if table.BY_FIELD[field].lines:
        return "; ".join(table.lines(value))
    return str(value)


@admin_required
@require_http_methods(["GET", "POST"])
def clinic_settings(request: HttpRequest) -> HttpResponse:
    row = ClinicSettings.objects.filter(pk=1).first()
    form = ClinicSettingsForm(request.POST or None, instance=row)
    if request.method == "POST" and form.is_valid():
        services.clinic_settings_update(by=request.user, **form.cleaned_data)
        messages.success(request, "Clinic settings saved. They apply from now on.")
        return redirect("clinic:settings")
    effective = settings_reader.current()
    server = settings_reader.server_values()
    groups = []
    for title, bound_fields in form.groups():
        rows = []
        for bound in bound_fields:
            name = bound.name
            key = "idle_timeout_seconds" if name == "idle_timeout_minutes" else name
            rows.append(
                {
                    "field": bound,
                    "effective": _display(name, getattr(effective, key)),
                    "server": _display(name, server[name]),
                    "overridden": name in effective.overridden,
                    "yes_no": table.BY_FIELD[name].kind == table.YES_NO,
                    "kind": table.BY_FIELD[name].kind,
                    "lines": table.BY_FIELD[name].lines,
                    "max_length": table.BY_FIELD[name].high,
                }
            )
        groups.append((title, rows))
    return render(request, "clinic/settings.html", {"form": form, "groups": groups, "row": row})
