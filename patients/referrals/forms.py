"""Input for referrals and prescriptions (R3, R4, R6). The services check the same rules again;
the forms say what is allowed next to the field."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Fieldset, Layout, Row
from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone

from kap_clinic.fields import ClinicDateField, model_formfield
from patients.models import Prescription, Referral
from patients.models.referrals import OFFICE_ROUTES
from patients.referrals.selectors import active_prescribers
from patients.referrals.services import (
    DOSE_WARN_MAX_MG,
    DOSE_WARN_MIN_MG,
    INTERVAL_MAX_DAYS,
    INTERVAL_MIN_DAYS,
    REASON_REQUIRED,
    dose_out_of_range,
)

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

# R4: every route a prescriber may use, the office ones (charted at a dosing session) first.
ROUTE_CHOICES = [
    (
        "Taken by mouth at the dosing session",
        [(value, label) for value, label in Prescription.Route.choices if value in OFFICE_ROUTES],
    ),
    (
        "Given by the prescriber (not charted here)",
        [
            (value, label)
            for value, label in Prescription.Route.choices
            if value not in OFFICE_ROUTES
        ],
    ),
]


def _helper(*layout) -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    if layout:
        helper.layout = Layout(*layout)
    return helper


class ReferralForm(forms.Form):
    prescriber = forms.ModelChoiceField(
        queryset=None,
        empty_label="Choose a prescriber",
        help_text="Only active prescribers are listed. Add a new one in the Prescribers page.",
    )
    reason = forms.CharField(
        label="Reason for referral",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="What you would like the prescriber to assess, e.g. treatment-resistant "
        "depression and what has been tried. The prescriber reads this first.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["prescriber"].queryset = active_prescribers()
        self.helper = _helper()


class TransitionForm(forms.Form):
    """One step of the referral: the target status comes from the button pressed."""

    to_status = forms.ChoiceField(choices=Referral.Status.choices, widget=forms.HiddenInput)
    happened_on = ClinicDateField(label="Date", widget=DATE_WIDGET)
    reason = forms.CharField(
        label="Reason or note",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    REASON_LABELS = {
        Referral.Status.DECLINED: "Reason for the decline (required)",
        Referral.Status.WITHDRAWN: "Reason for withdrawing (required)",
    }

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("happened_on", timezone.localdate())
        super().__init__(*args, **kwargs)
        status = (self.data.get("to_status") if self.is_bound else None) or self.initial.get(
            "to_status"
        )
        self.fields["reason"].label = self.REASON_LABELS.get(status, "Note (optional)")
        self.fields["reason"].required = status in REASON_REQUIRED
        self.helper = _helper()

    def clean_happened_on(self):
        value = self.cleaned_data["happened_on"]
        if value > timezone.localdate():
            raise forms.ValidationError("The date cannot be in the future.")
        return value

    def clean(self):
        data = super().clean()
        if data.get("to_status") in REASON_REQUIRED and not (data.get("reason") or "").strip():
            self.add_error("reason", "Give the reason: it stays on the referral's history.")
        return data


class PrescriptionForm(forms.ModelForm):
    """R4: what the prescriber authorised, copied from the prescription. An unusual dose needs
    the box ticked; it is never refused (the prescriber decides the dose)."""

    dose_confirmed = forms.BooleanField(
        label="I have checked this dose with the prescription",
        required=False,
    )

    class Meta:
        model = Prescription
        formfield_callback = model_formfield
        fields = (
            "medication",
            "form",
            "route",
            "dose_mg",
            "tablets_per_dose",
            "doses_authorised",
            "min_days_between_doses",
            "valid_until",
            "received_on",
        )
        labels = {
            "dose_mg": "Dose per session (mg)",
            "tablets_per_dose": "Tablets per dose",
            "doses_authorised": "Doses authorised",
            "min_days_between_doses": "Minimum days between doses",
            "valid_until": "Valid until",
            "received_on": "Date received",
        }
        help_texts = {
            "dose_mg": f"Usually {DOSE_WARN_MIN_MG}–{DOSE_WARN_MAX_MG} mg.",
            "doses_authorised": "The number of dosing sessions the prescription covers.",
            "min_days_between_doses": f"Default 14; allowed {INTERVAL_MIN_DAYS}–"
            f"{INTERVAL_MAX_DAYS}.",
        }
        widgets = {
            "valid_until": DATE_WIDGET,
            "received_on": DATE_WIDGET,
            "dose_mg": forms.NumberInput(attrs={"min": 1, "max": 2000}),
            "min_days_between_doses": forms.NumberInput(
                attrs={"min": INTERVAL_MIN_DAYS, "max": INTERVAL_MAX_DAYS}
            ),
        }

    def __init__(self, *args, with_date: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        # "Valid until" is left blank on purpose: it must be copied from the prescription.
        if not self.initial.get("received_on"):
            self.initial["received_on"] = today
        self.fields["min_days_between_doses"].validators = [
            MinValueValidator(INTERVAL_MIN_DAYS),
            MaxValueValidator(INTERVAL_MAX_DAYS),
        ]
        self.fields["min_days_between_doses"].error_messages["min_value"] = (
            f"Must be between {INTERVAL_MIN_DAYS} and {INTERVAL_MAX_DAYS} days."
        )
        self.fields["min_days_between_doses"].error_messages["max_value"] = (
            f"Must be between {INTERVAL_MIN_DAYS} and {INTERVAL_MAX_DAYS} days."
        )
        self.fields["route"].choices = ROUTE_CHOICES
        self.dose_warning = False
        dates = ["received_on", "valid_until"]
        if with_date:
            self.fields["happened_on"] = ClinicDateField(
                label="Date approved", widget=DATE_WIDGET, initial=today
            )
            dates.insert(0, "happened_on")
        self.helper = _helper(
            Fieldset(
                "Medication",
                Row(
                    Column("medication", css_class="col-md-3"),
                    Column("form", css_class="col-md-5"),
                    Column("route", css_class="col-md-4"),
                ),
            ),
            Fieldset(
                "Dose",
                Row(Column("dose_mg"), Column("tablets_per_dose")),
                "dose_confirmed",
            ),
            Fieldset(
                "Course",
                Row(Column("doses_authorised"), Column("min_days_between_doses")),
                Row(*(Column(name) for name in dates)),
            ),
        )

    def clean_happened_on(self):
        value = self.cleaned_data["happened_on"]
        if value > timezone.localdate():
            raise forms.ValidationError("The date cannot be in the future.")
        return value

    def clean_received_on(self):
        value = self.cleaned_data["received_on"]
        if value and value > timezone.localdate():
            raise forms.ValidationError("The date received cannot be in the future.")
        return value

    def clean(self):
        data = super().clean()
        dose = data.get("dose_mg")
        if dose_out_of_range(dose):
            self.dose_warning = True
            if not data.get("dose_confirmed"):
                self.add_error(
                    "dose_confirmed",
                    f"{dose} mg is outside the usual {DOSE_WARN_MIN_MG}–{DOSE_WARN_MAX_MG} mg. "
                    "Check it against the prescription, then tick this box to confirm.",
                )
        received, valid = data.get("received_on"), data.get("valid_until")
        if received and valid and valid < received:
            self.add_error("valid_until", "Must be on or after the date received.")
        return data

    def _post_clean(self):
        # The service creates the row; skip the model's own validation of a half-built instance
        # (its constraints need client/referral, which the form does not have).
        pass

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class SupersedeForm(PrescriptionForm):
    """A new prescription replacing the current one: the clinician says which it is (R5)."""

    kind = forms.ChoiceField(
        label="What is this new prescription?",
        choices=[
            (
                "renewal",
                "A renewal: the prescriber has authorised a new number of doses "
                "(the count of doses starts again)",
            ),
            (
                "change",
                "A change to the current prescription under the same authorisation "
                "(the doses already given still count)",
            ),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether this is a renewal or a change."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper.layout.insert(0, "kind")
