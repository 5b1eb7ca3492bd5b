"""Writes to the prescribers directory. Admins and therapists manage it; a prescriber is never
deleted (R24), only made inactive, because referrals and prescriptions point at them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from kap_clinic.errors import DomainError
from patients.models import Prescriber

if TYPE_CHECKING:
    from accounts.models import User

PRESCRIBER_FIELDS = (
    "organisation",
    "clinician_name",
    "credentials",
    "email",
    "phone",
    "fax",
    "notes",
)


class PrescriberError(DomainError):
    """A rule refused the change; the message is for the clinician."""


def _require_staff(by: User) -> None:
    if not (by.is_authenticated and by.is_clinic_staff):
        raise PrescriberError("Only clinic staff manage the prescribers directory.")


def _only_fields(fields: dict) -> dict:
    unknown = set(fields) - set(PRESCRIBER_FIELDS)
    if unknown:
        raise TypeError(f"Not prescriber fields: {sorted(unknown)}")
    if not (fields.get("clinician_name") or "").strip():
        raise PrescriberError("Give the clinician's name.")
    return fields


@transaction.atomic
def prescriber_create(*, by: User, **fields) -> Prescriber:
    _require_staff(by)
    return Prescriber.objects.create(**_only_fields(fields))


@transaction.atomic
def prescriber_update(*, by: User, prescriber: Prescriber, **fields) -> Prescriber:
    _require_staff(by)
    for name, value in _only_fields(fields).items():
        setattr(prescriber, name, value)
    prescriber.save()
    return prescriber


@transaction.atomic
def prescriber_set_active(*, by: User, prescriber: Prescriber, active: bool) -> Prescriber:
    """Deactivate (no new referrals to them; their past referrals stay) or reactivate."""
    _require_staff(by)
    if prescriber.is_active == active:
        state = "active" if active else "inactive"
        raise PrescriberError(f"This prescriber is already {state}.")
    prescriber.is_active = active
    prescriber.save(update_fields=["is_active", "updated_at"])
    return prescriber
