"""Writes of the clinic's settings (R22: audited)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from clinic import settings_reader
from clinic.models import ClinicSettings

if TYPE_CHECKING:
    from accounts.models import User


def clinic_settings_update(*, by: User, **values) -> ClinicSettings:
    """Save the admin's values (None = use the server configuration). Applies from now on: past
    readings keep the thresholds stored with them."""
    if not by.is_admin:
        raise PermissionError("Only admins change the clinic settings.")
    unknown = set(values) - set(settings_reader.SETTING_NAMES)
    if unknown:
        raise ValueError(f"Unknown clinic settings: {sorted(unknown)}")
    # R22: auditlog's middleware records the admin and their address as the actor of the change.
    with transaction.atomic():
        row, _created = ClinicSettings.objects.select_for_update().get_or_create(pk=1)
        for name, value in values.items():
            setattr(row, name, None if value in ("", None) else value)
        row.updated_by = by
        row.full_clean()
        row.save()
        transaction.on_commit(settings_reader.clear)
    settings_reader.clear()
    return row
