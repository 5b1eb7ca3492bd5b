"""Form fields with a rule of their own, for every form of the app."""

from __future__ import annotations

from datetime import date

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


# The dates a clinic's record can hold: a date of birth to the end of a valid-until. Outside them
# a date is a typing slip, and date arithmetic on it (a week after 9999-12-31) would overflow.
DATE_MIN = date(1800, 1, 1)
DATE_MAX = date(2199, 12, 31)


class ClinicDateField(forms.DateField):
    """A date between 1800 and 2199 (the narrower rules of a field, such as a date of birth,
    say their own message inside that)."""

    def validate(self, value):
        super().validate(value)
        if value is not None and not DATE_MIN <= value <= DATE_MAX:
            raise ValidationError(
                "Enter a date between 1800 and 2199 (YYYY-MM-DD).", code="out_of_range"
            )


def model_formfield(model_field, **kwargs):
    """``Meta.formfield_callback`` for model forms: their whole numbers are ClinicalNumberFields,
    their dates ClinicDateFields, and an address typed without a scheme is https."""
    if isinstance(model_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    if isinstance(model_field, models.IntegerField) and not model_field.choices:
        kwargs.setdefault("form_class", ClinicalNumberField)
    elif isinstance(model_field, models.DateField) and not isinstance(
        model_field, models.DateTimeField
    ):
        kwargs.setdefault("form_class", ClinicDateField)
    return model_field.formfield(**kwargs)


def within_dates(day: date) -> date:
    """``day`` held between DATE_MIN and DATE_MAX (for a date in a page's address)."""
    return min(max(day, DATE_MIN), DATE_MAX)
