"""Input boundary for questionnaires. The answer form has one radio group per question and
nothing else: no total, no band. Anything else in the POST is ignored (R19: scored server-side)."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from kap_clinic.fields import ClinicDateField
from patients.models.questionnaires import Instrument
from patients.questionnaires import scoring


class AnswersForm(forms.Form):
    """One required radio group per item, named item_1 … item_N, values 0–3 (PCL-5 0–4)."""

    # Server-side checks give the accessible error summary; a browser's own "required" bubble
    # would stop the form before it and say less.
    use_required_attribute = False

    def __init__(self, *args, instrument: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.definition = scoring.definition(instrument)
        choices = [(str(value), label) for value, label in self.definition.choices]
        for number, text in enumerate(self.definition.items, start=1):
            self.fields[f"item_{number}"] = forms.TypedChoiceField(
                label=text,
                choices=choices,
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": f"Choose an answer for question {number}."},
            )

    def answers(self) -> list[int]:
        return [self.cleaned_data[f"item_{n}"] for n in range(1, len(self.definition.items) + 1)]

    def questions(self):
        """(number, bound field) pairs for the template."""
        return [(number, self[f"item_{number}"]) for number in range(1, len(self.fields) + 1)]

    def missing_count(self) -> int:
        return sum(1 for _number, field in self.questions() if field.errors)

    def error_links(self):
        """(anchor, message) for the error summary: each links to its question's first answer."""
        links = [("", error) for error in self.non_field_errors()]
        for _number, field in self.questions():
            links.extend((f"{field.auto_id}_0", error) for error in field.errors)
        return links


class RequestForm(forms.Form):
    instrument = forms.ChoiceField(label="Questionnaire", choices=Instrument.choices)
    due_date = ClinicDateField(
        label="Due by (optional)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The client sees it as due in their portal until they complete it.",
    )

    def clean_due_date(self):
        due_date = self.cleaned_data.get("due_date")
        if due_date is not None and due_date < timezone.localdate():
            raise forms.ValidationError("The due date cannot be in the past.")
        return due_date
