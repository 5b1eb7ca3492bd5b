from django import forms

from accounts.models import User
from kap_clinic.fields import ClinicDateField
from patients.models import Client


class AuditFilterForm(forms.Form):
    user = forms.ModelChoiceField(
        queryset=User.objects.order_by("last_name", "first_name"),
        required=False,
        empty_label="Anyone",
        label="Who",
    )
    client = forms.ModelChoiceField(
        queryset=Client.objects.order_by("last_name", "first_name"),
        required=False,
        empty_label="Any client",
        label="Client",
    )
    date_from = ClinicDateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = ClinicDateField(
        required=False, label="To (inclusive)", widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The end date must be on or after the start date.")
        return data
