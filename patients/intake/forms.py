"""Intake step forms, built from the schema (R17). The input boundary of the portal intake.

A step form is used three ways: bound to the POST of the step page, bound to the stored draft
answers (to tell whether a step is complete and to show its problems), and unbound with initial
values for a step not answered yet.
"""

from __future__ import annotations

from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.forms import BoundField

from kap_clinic.fields import ClinicDateField
from patients.clients.validators import format_phone, normalize_phone
from patients.intake.schema import (
    CHECKBOX,
    CHOICE,
    CONSENT_SLUG,
    DATE,
    PHONE,
    STEPS,
    TEXTAREA,
    Question,
    Section,
    Step,
)
from patients.models import Client, ConsentDocument

# Whatever is typed is kept, even when too long to accept, up to this hard bound per answer.
RAW_MAX = 10_000
REQUIRED = "Please answer this question."


class RadioButtons(forms.RadioSelect):
    """Yes / No / Unsure as radio buttons. The error summary links to the first option (Django's
    RadioSelect has no single element to link to)."""

    def id_for_label(self, id_, index=None):
        return forms.widgets.ChoiceWidget.id_for_label(self, id_, "0" if index is None else index)


class PhoneField(forms.CharField):
    """A phone number parsed and stored in international form (+15551234567)."""

    def clean(self, value):
        value = super().clean(value)
        return normalize_phone(value) if value else ""


def _field(question: Question) -> forms.Field:
    attrs = {"class": "form-control"}
    if question.autocomplete:
        attrs["autocomplete"] = question.autocomplete
    common = {
        "label": question.label,
        "required": question.required,
        "help_text": question.help_text,
        "validators": list(question.validators),
        "error_messages": {"required": REQUIRED},
    }
    if question.kind == CHOICE:
        if question.radio:
            return forms.ChoiceField(
                choices=question.choices,
                widget=RadioButtons(attrs={"class": "btn-check"}),
                **common,
            )
        return forms.ChoiceField(
            choices=[("", "Choose\u2026"), *question.choices],
            widget=forms.Select(attrs={"class": "form-select"}),
            **common,
        )
    if question.kind == CHECKBOX:
        common["error_messages"] = {"required": "Tick the box to agree."}
        return forms.BooleanField(
            widget=forms.CheckboxInput(attrs={"class": "form-check-input"}), **common
        )
    if question.kind == DATE:
        return ClinicDateField(
            widget=forms.DateInput(attrs={**attrs, "type": "date"}, format="%Y-%m-%d"),
            **{**common, "error_messages": {**common["error_messages"], "invalid": _DATE_INVALID}},
        )
    if question.kind == PHONE:
        return PhoneField(
            max_length=40,
            widget=forms.TextInput(
                attrs={**attrs, "type": "tel", "inputmode": "tel", "autocomplete": "tel"}
            ),
            **common,
        )
    widget = (
        forms.Textarea(attrs={**attrs, "rows": 4})
        if question.kind == TEXTAREA
        else forms.TextInput(attrs=attrs)
    )
    return forms.CharField(max_length=question.max_length, widget=widget, **common)


_DATE_INVALID = "Enter the date as month, day and year, for example 04/02/1990."


def _same_name(typed: str, expected: str) -> bool:
    """Case-insensitive, ignoring extra spaces (R17 consent signature)."""
    return " ".join(typed.split()).casefold() == " ".join(expected.split()).casefold()


class StepForm(forms.Form):
    step: Step

    def __init__(
        self,
        *args,
        client: Client,
        consent: ConsentDocument | None = None,
        signed_version: str | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.client = client
        self.consent = consent
        self.signed_version = signed_version

    def clean(self):
        cleaned = super().clean()
        for question in self.step.questions:
            if question.required_if is None:
                continue
            other, values = question.required_if
            if self.data.get(other) in values and not cleaned.get(question.key):
                self.add_error(question.key, question.required_if_message or REQUIRED)
        if self.step.slug == CONSENT_SLUG:
            self._clean_consent(cleaned)
        return cleaned

    def _clean_consent(self, cleaned: dict) -> None:
        if self.consent is None:
            raise ValidationError(
                "The consent text is not available at the moment. Please contact the clinic."
            )
        if self.signed_version and self.signed_version != self.consent.version:
            raise ValidationError(
                "The consent text was updated after you signed it. Please read it again, then "
                "sign and tick the box."
            )
        name = cleaned.get("name")
        if name and not _same_name(name, self.client.full_name):
            self.add_error(
                "name",
                f"This does not match the name on your record, \u201c{self.client.full_name}"
                "\u201d. Type your full legal name; if the name on record is wrong, tell your "
                "therapist.",
            )


def _form_class(step: Step) -> type[StepForm]:
    fields = {question.key: _field(question) for question in step.questions}
    return type(f"{step.slug.title()}StepForm", (StepForm,), {"step": step, **fields})


FORMS: dict[str, type[StepForm]] = {step.slug: _form_class(step) for step in STEPS}


def form_for(step: str, *args, **kwargs) -> StepForm:
    return FORMS[step](*args, **kwargs)


def _json_value(value):
    if isinstance(value, date):
        return value.isoformat()
    if value is None:
        return ""
    return value


def step_values(form: StepForm) -> dict:
    """What to store for a bound, validated form: the cleaned value where the answer is valid,
    what was typed where it is not (nothing is lost, R17); unknown POST keys are ignored."""
    values = {}
    for name, field in form.fields.items():
        if name in form.cleaned_data and name not in form.errors:
            values[name] = _json_value(form.cleaned_data[name])
            continue
        raw = form[name].data
        if isinstance(field, forms.BooleanField):
            values[name] = bool(raw)
        elif isinstance(field, forms.ChoiceField):
            values[name] = raw if raw in dict(field.choices) else ""
        else:
            values[name] = str(raw or "")[:RAW_MAX]
    return values


def initial_values(step: Step, *, answers: dict, client: Client) -> dict:
    """Initial values for an unbound step form: the saved draft answers, or for a step not saved
    yet, what the clinic already has on the client record (the client checks and corrects it)."""
    if step.slug in answers:
        values = dict(answers[step.slug])
    else:
        values = {}
        for question in step.questions:
            if question.client_field:
                value = getattr(client, question.client_field)
                if value:
                    values[question.key] = _json_value(value)
        if step.slug == "doctor" and client.pcp_name:
            values["has_pcp"] = "yes"
    for question in step.questions:
        if question.kind == PHONE and values.get(question.key, "").startswith("+"):
            values[question.key] = format_phone(values[question.key])
    return values


def stored_form(
    step: str, *, answers: dict, client: Client, consent: ConsentDocument | None
) -> StepForm:
    """The step form bound to the stored answers: ``is_valid()`` says whether the step is
    complete, ``errors`` what is missing."""
    values = answers.get(step) or {}
    return form_for(
        step,
        data=values,
        client=client,
        consent=consent,
        signed_version=values.get("version") if step == CONSENT_SLUG else None,
    )


def completed_steps(
    *, answers: dict, client: Client, consent: ConsentDocument | None
) -> dict[str, bool]:
    """Which steps are complete: saved and valid. Pure: no queries."""
    return {
        step.slug: step.slug in answers
        and stored_form(step.slug, answers=answers, client=client, consent=consent).is_valid()
        for step in STEPS
    }


def form_sections(form: StepForm) -> list[tuple[Section, list[tuple[Question, BoundField]]]]:
    """The step's sections with their bound fields, for the template. Marks invalid fields for
    Bootstrap and points each input at its help text and error message (screen readers)."""
    for name in form.fields:
        bound = form[name]
        attrs = bound.field.widget.attrs
        described = []
        if bound.help_text:
            described.append(f"{bound.auto_id}_helptext")
        if name in form.errors:
            described.append(f"{bound.auto_id}_error")
            if "is-invalid" not in attrs.get("class", ""):
                attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
        if described:
            attrs["aria-describedby"] = " ".join(described)
    return [
        (section, [(question, form[question.key]) for question in section.questions])
        for section in form.step.sections
    ]


def first_unfinished(completed: dict[str, bool]) -> str | None:
    return next((slug for slug, done in completed.items() if not done), None)
