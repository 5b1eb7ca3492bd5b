"""The settings page's form: every field optional (empty = the server configuration), each
refused outside its DOMAIN.md range with the range in the message."""

from __future__ import annotations

import re

from django import forms

from clinic import settings_reader
from clinic.models import RANGES, REMINDER_DAYS_PATTERN, ClinicSettings

GROUPS: list[tuple[str, list[str]]] = [
    (
        "Dosing session safety",
        [
            "bp_defer_systolic",
            "bp_defer_diastolic",
            "bp_hard_stop_systolic",
            "bp_hard_stop_diastolic",
            "bp_recheck_wait_minutes",
            "bp_rechecks",
            "post_dose_vitals_minutes",
            "min_observation_minutes",
            "dose_hold_minutes",
        ],
    ),
    ("Scheduling", ["prep_sessions_required", "session_minutes", "dosing_session_minutes"]),
    (
        "Reminders",
        [
            "reminder_days",
            "reminder_send_hour",
            "quiet_hours_start",
            "quiet_hours_end",
            "reminder_signature",
        ],
    ),
    ("Security", ["idle_timeout_minutes"]),
]


def allowed_text(name: str) -> str:
    if name == "reminder_days":
        return "Allowed: days 1 to 7 after the dose, separated by commas (e.g. 1,2,3) (R8)."
    if name == "reminder_signature":
        return "Allowed: up to 200 characters; no clinical detail (R25)."
    low, high, rule = RANGES[name]
    return f"Allowed: {low} to {high} ({rule})."


class ClinicSettingsForm(forms.ModelForm):
    class Meta:
        model = ClinicSettings
        fields = list(settings_reader.SETTING_NAMES)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.required = False
            field.help_text = allowed_text(name)
            if name in RANGES:
                low, high, rule = RANGES[name]
                field.min_value, field.max_value = low, high
                field.widget.attrs.update({"min": low, "max": high})
                message = f"Enter a whole number from {low} to {high} ({rule})."
                field.error_messages.update(
                    {"min_value": message, "max_value": message, "invalid": message}
                )
                field.validators = []  # the range check below gives one message

    def _check_range(self, name: str):
        value = self.cleaned_data.get(name)
        if value is None or name not in RANGES:
            return value
        low, high, rule = RANGES[name]
        if not low <= value <= high:
            raise forms.ValidationError(f"Enter a whole number from {low} to {high} ({rule}).")
        return value

    def clean(self):
        cleaned = super().clean()
        for name in RANGES:
            if name in cleaned and name not in self.errors:
                try:
                    cleaned[name] = self._check_range(name)
                except forms.ValidationError as error:
                    self.add_error(name, error)
        days = (cleaned.get("reminder_days") or "").replace(" ", "")
        if days and not re.match(REMINDER_DAYS_PATTERN, days):
            self.add_error("reminder_days", allowed_text("reminder_days"))
        elif days:
            cleaned["reminder_days"] = ",".join(str(d) for d in settings_reader.parse_days(days))
        signature = cleaned.get("reminder_signature")
        cleaned["reminder_signature"] = (signature or "").strip() or None
        # R13 above R12, compared with what will apply (a saved value or the server's).
        server = settings_reader.server_values()
        for axis in ("systolic", "diastolic"):
            defer_name, stop_name = f"bp_defer_{axis}", f"bp_hard_stop_{axis}"
            if defer_name in self.errors or stop_name in self.errors:
                continue
            defer = cleaned.get(defer_name) or server[defer_name]
            stop = cleaned.get(stop_name) or server[stop_name]
            if stop <= defer:
                self.add_error(
                    stop_name,
                    f"The hard stop ({stop}) must be above the defer threshold ({defer}) (R13).",
                )
        return cleaned

    def groups(self):
        return [(title, [self[name] for name in names]) for title, names in GROUPS]
