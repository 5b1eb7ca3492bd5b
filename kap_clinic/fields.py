"""Form fields with a rule of their own, for every form of the app."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.db import models

ASCII_DIGITS = frozenset("0123456789")


class ClinicalNumberField(forms.IntegerField):
    """A whole number typed with the digits 0-9 only. Python reads "١٢٠" or "１２０" as 120, so
    Django's IntegerField stores a reading typed in another script as if it had been typed in
    digits; a clinical number must be what the clinician saw on the device, so it is refused."""

    def to_python(self, value):
        if isinstance(value, str):
            text = value.strip()
            if text.startswith(("-", "+")):
                text = text[1:]
            if text and not set(text) <= ASCII_DIGITS:
                raise ValidationError(
                    "Type the number with the digits 0 to 9 only.", code="invalid"
                )
        return super().to_python(value)


def model_formfield(model_field, **kwargs):
    """``Meta.formfield_callback`` for model forms: their whole numbers are ClinicalNumberFields."""
    if isinstance(model_field, models.IntegerField) and not model_field.choices:
        kwargs.setdefault("form_class", ClinicalNumberField)
    return model_field.formfield(**kwargs)
