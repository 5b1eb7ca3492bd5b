"""Input rules shared by every form that takes client details (R17)."""

from __future__ import annotations

from datetime import date
from zoneinfo import available_timezones

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

MIN_AGE = 18  # KAP is offered to adults only
MAX_AGE = 110


def normalize_phone(value: str) -> str:
    """A phone number in international format (+15551234567), or a ValidationError that says what
    a valid number looks like. Numbers without a country code use the clinic's PHONE_REGION."""
    value = (value or "").strip()
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, settings.PHONE_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_possible_number(number):
        raise ValidationError(
            "Enter a phone number we can call, e.g. (555) 123-4567, or +44 20 7946 0958 "
            "for a number in another country.",
            code="phone",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(value: str) -> str:
    """For display: national format for the clinic's country, international otherwise."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, settings.PHONE_REGION)
    except phonenumbers.NumberParseException:
        return value
    # By country code, not exact region: fictional 555 numbers have no region but are local.
    local = phonenumbers.country_code_for_region(settings.PHONE_REGION) == number.country_code
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if local
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


def validate_date_of_birth(value: date | None) -> None:
    if value is None:
        return
    today = timezone.localdate()
    if value >= today:
        raise ValidationError("The date of birth must be in the past.", code="future")
    age = today.year - value.year - ((today.month, today.day) < (value.month, value.day))
    if age < MIN_AGE:
        raise ValidationError(
            f"Clients must be at least {MIN_AGE} years old for this treatment.", code="too_young"
        )
    if age > MAX_AGE:
        raise ValidationError(
            "Please check the year of birth: it makes the client over 110.", code="implausible"
        )


def validate_time_zone(value: str) -> None:
    """An IANA time zone name such as America/Los_Angeles (R8: reminders at the client's local
    send hour)."""

    if value and value not in available_timezones():
        raise ValidationError(
            f"'{value}' is not a time zone name. Use a name such as America/Los_Angeles or "
            "Europe/London."
        )
