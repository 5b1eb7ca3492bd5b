"""The one reader of the clinic's settings: the admin's saved value where there is one, else the
server configuration (kap_clinic/settings.py, from the environment).

Only the row's non-empty overrides are cached; the fallback is read from django.conf.settings on
every call, so a change of configuration (or a test's ``settings`` fixture) applies at once."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from clinic import table
from clinic.models import ClinicSettings

CACHE_KEY = "clinic-settings:v1"
CACHE_SECONDS = 60

# model field -> the server setting it overrides (clinic/table.py)
SETTING_NAMES: dict[str, str] = {row.field: row.setting_name for row in table.CLINIC_SETTINGS}
DAY_LISTS = frozenset(row.field for row in table.DAY_LISTS)


@dataclass(frozen=True)
class Effective:
    prep_sessions_required: int
    session_minutes: int
    dosing_session_minutes: int
    bp_defer_systolic: int
    bp_defer_diastolic: int
    bp_hard_stop_systolic: int
    bp_hard_stop_diastolic: int
    bp_recheck_wait_minutes: int
    bp_rechecks: int
    post_dose_vitals_minutes: int
    min_observation_minutes: int
    dose_hold_minutes: int
    reminder_days: tuple[int, ...]
    appointment_reminders: bool
    appointment_reminder_days: tuple[int, ...]
    reminder_send_hour: int
    quiet_hours_start: int
    quiet_hours_end: int
    reminder_signature: str
    calendar_feed_shows_kind: bool
    clinic_phone: str
    reply_to_email: str
    self_booking_url: str
    dosing_day_checklist: str
    idle_timeout_seconds: int
    overridden: frozenset[str]


def _server_value(field: str):
    value = getattr(settings, SETTING_NAMES[field])
    if field in DAY_LISTS:
        return tuple(sorted(set(value)))
    return value


def overrides() -> dict:
    """The saved, non-empty values (cached; cleared by clinic_settings_update)."""
    cached = cache.get(CACHE_KEY)
    if cached is None:
        row = ClinicSettings.objects.filter(pk=1).values(*SETTING_NAMES).first() or {}
        cached = {name: value for name, value in row.items() if value not in (None, "")}
        cache.set(CACHE_KEY, cached, CACHE_SECONDS)
    return cached


def clear() -> None:
    cache.delete(CACHE_KEY)


def prime(saved: dict) -> None:
    """Set the cached overrides (tests: a fresh database has none)."""
    cache.set(CACHE_KEY, saved, CACHE_SECONDS)


def current() -> Effective:
    saved = overrides()
    values = {}
    for field in SETTING_NAMES:
        if field in saved:
            value = saved[field]
            if field in DAY_LISTS:
                value = table.parse_days(value)
            elif field == "idle_timeout_minutes":
                value *= 60
        else:
            value = _server_value(field)
        values["idle_timeout_seconds" if field == "idle_timeout_minutes" else field] = value
    return Effective(**values, overridden=frozenset(saved))


def server_values() -> dict:
    """What applies when nothing is saved, for the settings page."""
    return {field: _server_value(field) for field in SETTING_NAMES}
