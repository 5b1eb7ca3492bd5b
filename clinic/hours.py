"""The clinic's quiet hours (R8, and every message sent to a client at a time of the clinic's
choosing: integration and appointment reminders, measure requests), as pure functions."""

from __future__ import annotations

from datetime import datetime, time, timedelta


def in_quiet_hours(hour: int, *, start: int, end: int) -> bool:
    """Quiet hours from ``start`` to ``end`` o'clock, across midnight when start > end (21-8)."""
    if start == end:
        return False
    if start > end:
        return hour >= start or hour < end
    return start <= hour < end


def out_of_quiet_hours(local: datetime, *, start: int, end: int) -> datetime:
    """``local`` itself, or the end of the quiet hours it falls in (the same morning, or the next
    one for an evening time)."""
    if not in_quiet_hours(local.hour, start=start, end=end):
        return local
    day = local.date()
    if start > end and local.hour >= start:
        day += timedelta(days=1)
    return datetime.combine(day, time(end), tzinfo=local.tzinfo)
