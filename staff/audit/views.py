from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.access import admin_required
from audit.services import access_record_list
from staff.audit import selectors
from staff.audit.forms import AuditFilterForm

PAGE_SIZE = 50
KINDS = {"views": "Record views", "changes": "Changes"}


@admin_required
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    """R22: admins browse who viewed and who changed which client record. Read-only: there is no
    page, form or URL that edits or deletes an audit row."""
    kind = request.GET.get("kind") if request.GET.get("kind") in KINDS else "views"
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    filters = {key: value for key, value in filters.items() if value}
    rows = (
        selectors.access_events(**filters)
        if kind == "views"
        else selectors.change_entries(**filters)
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    if kind == "changes":
        selectors.describe_changes(page.object_list)
    if filters.get("client"):
        # The trail of one client's record is a view of it (R22), recorded after the rows shown
        # were read (the page does not list its own view).
        access_record_list(request=request, client_ids=[filters["client"].pk], page="Audit trail")
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("kind", None)
    return render(
        request,
        "audit/audit_log.html",
        {
            "form": form,
            "kind": kind,
            "kinds": KINDS,
            "page": page,
            "filter_query": query.urlencode(),
            "time_zone": settings.TIME_ZONE,
        },
    )
