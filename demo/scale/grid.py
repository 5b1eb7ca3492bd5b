"""The clinic's calendar as the generator sees it: weekdays from 18 months back to 2 months ahead
in clinic time, and each therapist's booked hours, so no two sessions that hold a slot overlap
(the exclusion constraint session_no_double_booking would refuse them).

A therapist works 8:00-18:00 with a lunch hour; a 50-minute session starts on the hour and holds
that hour; a dosing session (R9: 180 minutes) holds three (9:00-12:00 or 13:00-16:00)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

# Hours a 50-minute session may start at, in the order a therapist fills them.
HOURS = (10, 11, 14, 15, 9, 13, 16, 17, 8)
DOSING_HOURS = (9, 13)
DAYS_BACK = 548  # 18 months
DAYS_AHEAD = 61  # 2 months


def _mask(start: int, hours: int) -> int:
    return ((1 << hours) - 1) << start


class Grid:
    """Day numbers count from the first day of the window (0) to the last; ``today`` is the day
    number of today. Times are whole seconds since the epoch (UTC)."""

    def __init__(self, today: date, *, therapists: list[int]):
        self.zone = ZoneInfo(settings.TIME_ZONE)
        self.first = today - timedelta(days=DAYS_BACK)
        self.today = DAYS_BACK
        self.last = DAYS_BACK + DAYS_AHEAD
        self.size = self.last + 1
        self.weekday = [(self.first + timedelta(days=n)).weekday() < 5 for n in range(self.size)]
        # Local midnight of each day in UTC seconds, taken at noon so a DST change at 2:00 does
        # not shift the day's working hours.
        self._midnight = []
        for n in range(self.size):
            noon = datetime.combine(self.first + timedelta(days=n), time(12), tzinfo=self.zone)
            self._midnight.append(int(noon.timestamp()) - 12 * 3600)
        self.busy = {therapist: [0] * self.size for therapist in therapists}

    def date(self, day: int) -> date:
        return self.first + timedelta(days=day)

    def at(self, day: int, hour: int, minute: int = 0) -> int:
        """Clinic time on day ``day`` as UTC seconds. Days outside the window are extrapolated
        (clients and courses can be older than the window)."""
        if 0 <= day < self.size:
            return self._midnight[day] + hour * 3600 + minute * 60
        local = datetime.combine(self.date(day), time(hour, minute), tzinfo=self.zone)
        return int(local.timestamp())

    def day_of(self, ts: int) -> int:
        """The clinic day number of a moment."""
        moment = datetime.fromtimestamp(ts, tz=UTC).astimezone(self.zone)
        return (moment.date() - self.first).days

    def hold(self, therapist: int, start: int, end: int) -> None:
        """Mark an existing session (the plain demo's) as taken on the grid."""
        day = self.day_of(start)
        if not 0 <= day < self.size:
            return
        first = (start - self._midnight[day]) // 3600
        last = (end - 1 - self._midnight[day]) // 3600
        self.busy[therapist][day] |= _mask(first, last - first + 1)

    def place(
        self,
        therapist: int,
        day: int,
        *,
        dosing: bool = False,
        hours: tuple[int, ...] = HOURS,
        until: int | None = None,
        hold: bool = True,
    ) -> tuple[int, int] | None:
        """The first free slot on or after ``day`` (a weekday; up to ``until``, at most three
        weeks on): (day, hour), held unless ``hold`` is False (a cancelled session frees its
        slot). None when the window ends first."""
        busy = self.busy[therapist]
        day = max(day, 0)
        stop = min(self.size, (until if until is not None else day + 21) + 1)
        order = DOSING_HOURS if dosing else hours
        length = 3 if dosing else 1
        for n in range(day, stop):
            if not self.weekday[n]:
                continue
            taken = busy[n]
            for hour in order:
                mask = _mask(hour, length)
                if not taken & mask:
                    if hold:
                        busy[n] = taken | mask
                    return n, hour
        return None
