"""The portal's dosing-day form (sessions.dosing.day): the shape of what was typed; the rules are
the service's, so a crafted POST gets the same refusal as the page."""

from __future__ import annotations

from django import forms

from sessions.dosing.forms import ClockInput


class DosingDayForm(forms.Form):
    checklist_read = forms.BooleanField(
        label="I have read the list above",
        required=False,
    )
    name = forms.CharField(
        label="Their name",
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    phone = forms.CharField(
        label="Their phone number",
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    pickup = forms.TimeField(
        label="Pickup time",
        widget=ClockInput(),
        input_formats=["%H:%M", "%H:%M:%S", "%I:%M %p"],
        error_messages={
            "required": "Enter the time they will pick you up.",
            "invalid": "Enter a time such as 2:30 PM.",
        },
    )
