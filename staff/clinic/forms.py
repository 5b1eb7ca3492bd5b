"""The settings page's form: every field optional (empty = the server configuration), each
refused outside its DOMAIN.md range with the range in the message."""

from __future__ import annotations

import re

from django import forms

from clinic import settings_reader, table
from clinic.models import ClinicSettings
from kap_clinic.fields import model_formfield


class ClinicSettingsForm(forms.ModelForm):
    class Meta:
        model = ClinicSettings
        formfield_callback = model_formfield
        fields = [row.field for row in table.CLINIC_SETTINGS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            row = table.BY_FIELD[name]
            field.required = False
            field.help_text = row.allowed
            if row.lines:
                field.widget = forms.Textarea(attrs={"rows": 7, "maxlength": row.high})
            if row.kind == table.INTEGER:
                field.min_value, field.max_value = row.low, row.high
                field.widget.attrs.update({"min": row.low, "max": row.high})
                field.error_messages.update(
                    {
                        "min_value": row.out_of_range,
                        "max_value": row.out_of_range,
                        "invalid": row.out_of_range,
                    }
                )
                field.validators = []  # the range check below gives one message

    def clean(self):
        cleaned = super().clean()
        for row in table.RANGED:
            value = cleaned.get(row.field)
            in_error = row.field in self.errors
            if value is not None and not in_error and not row.low <= value <= row.high:
                self.add_error(row.field, row.out_of_range)
        self._clean_day_lists(cleaned)
        for row in table.CLINIC_SETTINGS:
            if row.kind == table.TEXT and row.field not in self.errors:
                cleaned[row.field] = (cleaned.get(row.field) or "").strip() or None
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

    def _clean_day_lists(self, cleaned: dict) -> None:
        """Each list of days as the database keeps it ("3, 1" -> "1,3"), or its message."""
        for row in table.DAY_LISTS:
            days = (cleaned.get(row.field) or "").replace(" ", "")
            if days and not re.match(table.REMINDER_DAYS_PATTERN, days):
                self.add_error(row.field, row.allowed)
            elif days:
                cleaned[row.field] = ",".join(str(d) for d in table.parse_days(days))

    def groups(self):
        """The page's fieldsets, in the table's order."""
        return [
            (group, [self[row.field] for row in table.CLINIC_SETTINGS if row.group == group])
            for group in table.GROUPS
        ]
