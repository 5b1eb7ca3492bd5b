"""Input for scheduling (R2, R3, R6, R7, R9). The forms shape the input; the scheduling services
check every rule again (a crafted POST gets the same answer as the page)."""

from __future__ import annotations

from datetime import datetime

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django import forms
from django.utils import timezone

from kap_clinic.fields import ClinicalNumberField, ClinicDateField
from sessions.dosing.rules import default_minutes
from sessions.models import SessionKind, SessionStatus

ACKNOWLEDGE_LABEL = "I have read this warning and want to book the dosing session anyway"


def _helper(*layout) -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    if layout:
        helper.layout = Layout(*layout)
    return helper


def _minutes_help() -> str:
    return (
        f"Leave blank for the usual length: {default_minutes(SessionKind.DOSING)} minutes for a "
        f"dosing session, {default_minutes(SessionKind.PREPARATION)} minutes for other sessions."
    )


class _WhenForm(forms.Form):
    """Date, start time and length, in the clinic's time zone; where the session takes place; and
    the integration acknowledgement (R7) shown only after the warning."""

    # Server-side checks give the accessible error summary (templates/partials/form_errors.html).
    use_required_attribute = False

    date = ClinicDateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    start_time = forms.TimeField(
        label="Start time", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    minutes = ClinicalNumberField(
        label="Length (minutes)", required=False, min_value=10, max_value=480
    )
    location = forms.CharField(
        max_length=200,
        required=False,
        # R25: the place goes into the client's confirmation and reminder e-mails.
        help_text="For example: Room 2. The client's e-mails show it: no clinical words.",
    )
    telehealth_url = forms.URLField(
        label="Telehealth link",
        assume_scheme="https",
        max_length=500,
        required=False,
        help_text="Only for sessions held online.",
    )
    acknowledge_integration = forms.BooleanField(label=ACKNOWLEDGE_LABEL, required=False)
    # Set when the page showed the integration warning: the box is then required.
    warning_shown = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["minutes"].help_text = _minutes_help()
        # The box is checked by the service's answer, not here: the warning may no longer apply
        # (an integration session was completed meanwhile), and when it does the page shows it
        # again with the box (require_acknowledgement).
        self.integration_warning = ""

    @property
    def starts_at(self) -> datetime:
        """The aware start in the clinic's time zone."""
        return timezone.make_aware(
            datetime.combine(self.cleaned_data["date"], self.cleaned_data["start_time"])
        )

    def require_acknowledgement(self, message: str) -> None:
        """R7: re-show the form with the warning and the box to tick."""
        if self.data.get("warning_shown") and not self.cleaned_data.get("acknowledge_integration"):
            self.add_error(
                "acknowledge_integration", "Tick the box to book the dosing session anyway."
            )
        self.integration_warning = message
        self.data = self.data.copy()
        self.data["warning_shown"] = "on"
        self.fields["acknowledge_integration"].required = True

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "starts_at": self.starts_at,
            "minutes": data.get("minutes") or None,
            "location": data.get("location") or "",
            "telehealth_url": data.get("telehealth_url") or "",
            "acknowledge_integration": bool(data.get("acknowledge_integration")),
        }


class SessionForm(_WhenForm):
    """Book a session. ``clients`` given: a client select (the calendar); else the page is one
    client's and has no client field."""

    client = forms.ModelChoiceField(queryset=None, empty_label="Choose a client")
    kind = forms.ChoiceField(label="Kind of session", choices=SessionKind.choices)

    field_order = ["client", "kind", "date", "start_time", "minutes", "location"]

    def __init__(self, *args, clients=None, **kwargs):
        super().__init__(*args, **kwargs)
        if clients is None:
            del self.fields["client"]
        else:
            self.fields["client"].queryset = clients
        self.fields["kind"].choices = [("", "Choose the kind of session"), *SessionKind.choices]
        self.helper = _helper(
            *(["client"] if clients is not None else []),
            "kind",
            Row(
                Column("date", css_class="col-sm-5"),
                Column("start_time", css_class="col-sm-3"),
                Column("minutes", css_class="col-sm-4"),
            ),
            Row(Column("location", css_class="col-sm-5"), Column("telehealth_url")),
            "warning_shown",
        )


class RescheduleForm(_WhenForm):
    """Move a scheduled session (its client and kind stay)."""

    def __init__(self, *args, session=None, **kwargs):
        if session is not None:
            local = timezone.localtime(session.starts_at)
            kwargs.setdefault(
                "initial",
                {
                    "date": local.date(),
                    "start_time": local.time().replace(second=0, microsecond=0),
                    "minutes": session.minutes,
                    "location": session.location,
                    "telehealth_url": session.telehealth_url,
                },
            )
        super().__init__(*args, **kwargs)
        self.fields["minutes"].help_text = "Leave as it is to keep the session's length."
        self.helper = _helper(
            Row(
                Column("date", css_class="col-sm-5"),
                Column("start_time", css_class="col-sm-3"),
                Column("minutes", css_class="col-sm-4"),
            ),
            Row(Column("location", css_class="col-sm-5"), Column("telehealth_url")),
            "warning_shown",
        )


class CancelForm(forms.Form):
    use_required_attribute = False

    reason = forms.CharField(
        label="Reason for cancelling",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept with the session, for example: client unwell, rebooked next week.",
        error_messages={"required": "Give a reason for cancelling the session."},
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_cancel_%s")
        super().__init__(*args, **kwargs)
        self.helper = _helper()


class StatusForm(forms.Form):
    status = forms.ChoiceField(
        choices=[
            (SessionStatus.COMPLETED, "Completed"),
            (SessionStatus.NO_SHOW, "No-show"),
        ]
    )


def parse_start(value: str) -> dict:
    """``?start=2026-03-02T10:00`` (a calendar slot) as the form's initial date and start time."""
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return {}
    return {"date": moment.date(), "start_time": moment.time().replace(second=0, microsecond=0)}
