"""Dates and times as the clinic's pages, messages and e-mails write them. One place, so every
screen says "Mar 5, 2026" and "9:00 AM" the same way. Pure functions: the caller passes a moment
already in the zone it means (the clinic's, or the client's for their e-mails); ``clinic_date``,
``clinic_time`` and ``day_start`` convert to and from the clinic's zone (TIME_ZONE). Templates
use the same functions through the filters of kap_clinic/templatetags/clinic_formats.py."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from django.utils import timezone


def day(on: date) -> str:
    """ "Mar 5, 2026"."""
    return f"{on:%b} {on.day}, {on.year}"


def day_short(on: date) -> str:
    """ "Mar 5" (chart axes, where the year is shown elsewhere)."""
    return f"{on:%b} {on.day}"


def weekday_day(on: date) -> str:
    """ "Thursday, Mar 5"."""
    return f"{on:%A, %b} {on.day}"


def weekday_day_long(on: date) -> str:
    """ "Thursday, March 5" (e-mails to clients)."""
    return f"{on:%A, %B} {on.day}"


def clock(moment: datetime | time) -> str:
    """ "9:00 AM"."""
    return f"{moment:%I:%M %p}".lstrip("0")


def clock_seconds(moment: datetime | time) -> str:
    """ "9:00:05 AM" (the audit trail, where the order of events within a minute matters)."""
    return f"{moment:%I:%M:%S %p}".lstrip("0")


def short_when(moment: datetime) -> str:
    """ "Thu Mar 5, 9:00 AM" (a session named in a message)."""
    return f"{moment:%a %b} {moment.day}, {clock(moment)}"


def day_time(moment: datetime) -> str:
    """ "Mar 5, 2026, 2:05 PM"."""
    return f"{day(moment)}, {clock(moment)}"


def day_short_time(moment: datetime) -> str:
    """ "Mar 5, 2:05 PM" (recent events, where the year goes without saying)."""
    return f"{day_short(moment)}, {clock(moment)}"


def day_time_seconds(moment: datetime) -> str:
    """ "Mar 5, 2026, 2:05:09 PM" (the audit trail)."""
    return f"{day(moment)}, {clock_seconds(moment)}"


def clinic_time(moment: datetime) -> datetime:
    """An aware datetime in the clinic's zone, for display. A naive one is taken as UTC, which is
    how django-auditlog writes the datetimes in its change records."""
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    return timezone.localtime(moment)


def clinic_date(moment: datetime) -> date:
    """The clinic's calendar date of an aware datetime (R6 counts days in the clinic's time)."""
    return timezone.localdate(moment)


def day_start(on: date) -> datetime:
    """Midnight at the start of ``on`` in the clinic's zone (for date-range filters)."""
    return timezone.make_aware(datetime.combine(on, time.min))
