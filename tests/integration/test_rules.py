"""The timing rules of the integration reminders (R8) as pure functions: quiet hours across
midnight, a send hour moved out of them, the client's own time zone across a DST change, and the
bounded backoff of a transient SMTP failure."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from integration import rules

UTC = ZoneInfo("UTC")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def due(dose_day: date, day: int, zone: ZoneInfo, *, send_hour: int = 10) -> datetime:
    return rules.due_at(
        dose_day=dose_day, day=day, zone=zone, send_hour=send_hour, quiet_start=21, quiet_end=8
    )


@pytest.mark.parametrize(
    ("hour", "quiet"),
    [(20, False), (21, True), (23, True), (0, True), (7, True), (8, False), (12, False)],
)
def test_quiet_hours_run_across_midnight(hour, quiet):
    assert rules.in_quiet_hours(hour, start=21, end=8) is quiet


@pytest.mark.parametrize(
    ("clock", "moved"),
    [
        ((20, 59), False),  # 20:59 still goes out
        ((21, 0), True),  # 21:00 is quiet
        ((7, 59), True),
        ((8, 0), False),
    ],
)
def test_quiet_hours_to_the_minute(clock, moved):
    local = datetime(2025, 3, 13, *clock, tzinfo=NEW_YORK)
    assert (rules.out_of_quiet_hours(local, start=21, end=8) != local) is moved


def test_quiet_hours_within_one_day_and_none():
    assert rules.in_quiet_hours(13, start=12, end=14)
    assert not rules.in_quiet_hours(14, start=12, end=14)
    assert not rules.in_quiet_hours(3, start=8, end=8)  # equal start and end: no quiet hours


def test_an_evening_time_moves_to_the_next_morning_and_a_night_time_to_the_same_one():
    evening = datetime(2025, 3, 13, 22, 30, tzinfo=NEW_YORK)
    night = datetime(2025, 3, 14, 3, 0, tzinfo=NEW_YORK)
    assert rules.out_of_quiet_hours(evening, start=21, end=8) == datetime(
        2025, 3, 14, 8, 0, tzinfo=NEW_YORK
    )
    assert rules.out_of_quiet_hours(night, start=21, end=8) == datetime(
        2025, 3, 14, 8, 0, tzinfo=NEW_YORK
    )


@pytest.mark.parametrize(("send_hour", "expected_hour"), [(6, 8), (7, 8), (8, 8), (20, 20)])
def test_a_send_hour_inside_the_quiet_hours_moves_to_their_end(send_hour, expected_hour):
    moment = due(date(2025, 3, 12), 1, NEW_YORK, send_hour=send_hour)
    assert moment == datetime(2025, 3, 13, expected_hour, 0, tzinfo=NEW_YORK)


def test_an_evening_send_hour_moves_to_the_next_morning():
    moment = due(date(2025, 3, 12), 1, NEW_YORK, send_hour=22)
    assert moment == datetime(2025, 3, 14, 8, 0, tzinfo=NEW_YORK)


def test_due_at_is_the_send_hour_of_the_clients_zone_across_the_dst_change():
    """Los Angeles leaves daylight time at 2:00 on Sunday, Nov 1, 2026: 10:00 local is 17:00 UTC
    before it (PDT, UTC-7) and 18:00 UTC from that day on (PST, UTC-8)."""
    before = [due(date(2026, 10, 30), day, LOS_ANGELES) for day in (1, 2, 3)]
    assert [moment.astimezone(UTC) for moment in before] == [
        datetime(2026, 10, 31, 17, 0, tzinfo=UTC),  # Saturday, still daylight time
        datetime(2026, 11, 1, 18, 0, tzinfo=UTC),  # the day of the change
        datetime(2026, 11, 2, 18, 0, tzinfo=UTC),
    ]
    after_oct_31 = due(date(2026, 10, 31), 1, LOS_ANGELES)
    assert after_oct_31.astimezone(UTC) == datetime(2026, 11, 1, 18, 0, tzinfo=UTC)
    assert all(moment.astimezone(LOS_ANGELES).hour == 10 for moment in before)


def test_a_client_in_london_gets_ten_oclock_london_time():
    moment = due(date(2025, 6, 10), 1, LONDON)
    assert moment.astimezone(LONDON).hour == 10
    assert moment.astimezone(UTC) == datetime(2025, 6, 11, 9, 0, tzinfo=UTC)  # BST
    # The same day in the clinic's zone is five hours earlier.
    assert moment.astimezone(NEW_YORK).hour == 5


@pytest.mark.parametrize(
    ("attempts", "seconds"), [(0, 60), (1, 60), (2, 120), (3, 240), (4, 480), (6, 1920)]
)
def test_backoff_doubles(attempts, seconds):
    assert rules.backoff(attempts, base_seconds=60) == timedelta(seconds=seconds)


def test_backoff_is_capped():
    assert rules.backoff(7, base_seconds=60) == timedelta(seconds=3600)
    assert rules.backoff(30, base_seconds=60) == timedelta(seconds=3600)
    assert rules.backoff(3, base_seconds=60, cap_seconds=200) == timedelta(seconds=200)
