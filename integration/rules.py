"""When integration reminders are due (R8), as pure functions: the send hour of the client's own
time zone on days 1-3 after the dose, never inside the clinic's quiet hours."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from clinic.hours import in_quiet_hours, out_of_quiet_hours

__all__ = ["backoff", "due_at", "in_quiet_hours", "out_of_quiet_hours"]


def due_at(
    *,
    dose_day: date,
    day: int,
    zone: ZoneInfo,
    send_hour: int,
    quiet_start: int,
    quiet_end: int,
) -> datetime:
    """R8: the reminder for ``day`` days after a dose given on ``dose_day`` (the client's local
    date), at ``send_hour`` in the client's zone, moved out of the quiet hours. Aware."""
    local = datetime.combine(dose_day + timedelta(days=day), time(send_hour), tzinfo=zone)
    return out_of_quiet_hours(local, start=quiet_start, end=quiet_end)


def backoff(attempts: int, *, base_seconds: int, cap_seconds: int = 3600) -> timedelta:
    """Bounded exponential backoff after ``attempts`` failed attempts: base, 2x, 4x ... cap."""
    return timedelta(seconds=min(base_seconds * 2 ** max(attempts - 1, 0), cap_seconds))
