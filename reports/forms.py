"""The dashboard's two GET forms: the period of the figures, and the table's filters."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone

from accounts.models import Role, User
from kap_clinic.fields import ClinicDateField
from patients.models import Phase
from reports.selectors import ACTIVE_PHASES, ALERT_TYPES, SORTS, Filters

DEFAULT_PERIOD_DAYS = 90


class PeriodForm(forms.Form):
    start = ClinicDateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = ClinicDateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError("The start of the period must be on or before its end.")
        return data

    @staticmethod
    def default_period():
        today = timezone.localdate()
        return today - timedelta(days=DEFAULT_PERIOD_DAYS), today

    def period(self):
        """The chosen period, or the last 90 days when none (or an invalid one) was given."""
        if self.is_bound and self.is_valid():
            return self.cleaned_data["start"], self.cleaned_data["end"]
        return self.default_period()


class TherapistField(forms.ModelChoiceField):
    """The therapist filter, from one read of the therapists: the options and the check of the
    value sent come from the same list (a plain ModelChoiceField counts the rows, reads them to
    render the options and looks the value up again: three queries on every dashboard)."""

    def use(self, therapists: list[User]) -> None:
        self._by_pk = {str(therapist.pk): therapist for therapist in therapists}
        self.choices = [("", self.empty_label)] + [
            (therapist.pk, self.label_from_instance(therapist)) for therapist in therapists
        ]

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return self._by_pk[str(value)]
        except KeyError:
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            ) from None


class FilterForm(forms.Form):
    therapist = TherapistField(
        queryset=User.objects.none(), required=False, empty_label="All therapists"
    )
    phase = forms.ChoiceField(required=False)
    alert = forms.ChoiceField(
        label="Alert", required=False, choices=[("", "Any or none"), *ALERT_TYPES]
    )
    opened_from = ClinicDateField(
        label="Course opened from",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    opened_to = ClinicDateField(
        label="Course opened to", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    sort = forms.ChoiceField(required=False, choices=[(key, key) for key in SORTS])
    dir = forms.ChoiceField(required=False, choices=[("asc", "asc"), ("desc", "desc")])

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        therapists = User.objects.filter(role=Role.THERAPIST, is_active=True)
        if not user.is_admin:
            therapists = therapists.filter(pk=user.pk)
        therapists = therapists.order_by("last_name", "first_name")
        self.fields["therapist"].queryset = therapists
        self.fields["therapist"].use(list(therapists))
        labels = dict(Phase.choices)
        self.fields["phase"].choices = [("", "All active phases")] + [
            (phase, labels[phase]) for phase in ACTIVE_PHASES
        ]

    def filters(self) -> Filters:
        """The filters as typed; an invalid field is ignored (its error shows on the form)."""
        if not self.is_bound:
            return Filters()
        self.is_valid()
        data = self.cleaned_data
        therapist = data.get("therapist")
        return Filters(
            therapist_id=therapist.pk if therapist else None,
            phase=data.get("phase") or "",
            alert=data.get("alert") or "",
            opened_from=data.get("opened_from"),
            opened_to=data.get("opened_to"),
            sort=data.get("sort") or "client",
            descending=data.get("dir") == "desc",
        )
