"""The prescribers directory form (R24: prescribers are deactivated, never deleted)."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Fieldset, Layout, Row
from django import forms

from kap_clinic.fields import model_formfield
from patients.clients.validators import normalize_phone
from patients.models import Prescriber


class PrescriberForm(forms.ModelForm):
    class Meta:
        model = Prescriber
        formfield_callback = model_formfield
        fields = (
            "clinician_name",
            "credentials",
            "organisation",
            "email",
            "phone",
            "fax",
            "notes",
        )
        labels = {
            "clinician_name": "Clinician's name",
            "organisation": "Organisation or practice",
            "email": "E-mail address",
            "phone": "Phone",
            "fax": "Fax",
        }
        help_texts = {
            "organisation": "e.g. a KAP prescribing service. Leave blank for a solo practice.",
            "notes": "How referrals are made (portal, fax, e-mail), turnaround, contacts.",
        }
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Fieldset(
                "Prescriber",
                Row(Column("clinician_name"), Column("credentials")),
                "organisation",
            ),
            Fieldset("Contact", Row(Column("email"), Column("phone"), Column("fax"))),
            "notes",
        )

    def clean_email(self):
        return (self.cleaned_data.get("email") or "").strip().lower()

    def clean_phone(self):
        return normalize_phone(self.cleaned_data.get("phone", ""))

    def clean_fax(self):
        return normalize_phone(self.cleaned_data.get("fax", ""))


class PrescriberSearchForm(forms.Form):
    q = forms.CharField(label="Search by name or organisation", required=False, max_length=100)
