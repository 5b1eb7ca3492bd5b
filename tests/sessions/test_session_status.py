"""One status vocabulary wherever a session is listed (the client's sessions, the session page,
the calendar): Upcoming is scheduled and not yet ended; a scheduled session whose time has passed
is "Not marked yet"; a dosing session whose chart is open is "In progress", the chart's own word
(R10), whatever the clock says; a deferred dose says so. The list stays at a fixed query count."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sessions.dosing import services as dosing
from sessions.models import DosingChart, SessionKind, SessionStatus
from sessions.scheduling.rules import shown_status
from sessions.scheduling.services import session_cancel, session_mark
from tests.factories_sessions import SessionFactory, dosing_ready_session
from tests.sessions.dosing_helpers import MORNING, give_dose, prepare

pytestmark = pytest.mark.django_db


def words(response) -> str:
    """What a person reads: the page without its tags."""
    inline = re.sub(r"</?(?:strong|a|span|i|time|em)\b[^>]*>", "", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", inline)))


def sections(response) -> tuple[str, str]:
    """The Upcoming and the Past and cancelled sections of the sessions list."""
    page = response.content.decode()
    upcoming, past = page.split('id="upcoming-heading"')[1].split('id="past-heading"')
    strip = lambda part: re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", part)))  # noqa: E731
    return strip(upcoming), strip(past)


def list_url(client) -> str:
    return reverse("patients:sessions:list", kwargs={"client_id": client.pk})


def week_url(day) -> str:
    return reverse("calendar:week") + f"?date={day:%Y-%m-%d}"


@pytest.fixture
def dosed(client_record):
    """A dosing session 9:00-12:00 with its dose given at 9:20; the chart is still open (no
    discharge recorded): through the real booking and charting services."""
    with time_machine.travel(MORNING, tick=False):
        session = dosing_ready_session(client_record, starts_at=MORNING)
    given = MORNING + timedelta(minutes=20)
    with time_machine.travel(given, tick=False):
        give_dose(session, at=given)
    return session


def test_a_completed_session_still_within_its_time_is_not_upcoming(
    as_user, therapist, client_record
):
    start = MORNING.replace(hour=14)
    held = SessionFactory(client=client_record, kind=SessionKind.INTEGRATION, starts_at=start)
    later = SessionFactory(
        client=client_record, kind=SessionKind.INTEGRATION, starts_at=start + timedelta(days=7)
    )
    cancelled = SessionFactory(
        client=client_record, kind=SessionKind.PREPARATION, starts_at=start + timedelta(days=3)
    )
    with time_machine.travel(start + timedelta(minutes=40), tick=False):
        session_mark(session=held, status=SessionStatus.COMPLETED, by=therapist)
        session_cancel(session=cancelled, reason="The client is travelling.", by=therapist)
        # 14:45: the completed session's slot runs to 14:50.
        upcoming, past = sections(as_user(therapist).get(list_url(client_record)))
    assert f"{later.starts_at:%a %b} {later.starts_at.day}" in upcoming
    assert "Scheduled" in upcoming
    assert "Completed" not in upcoming
    assert "Cancelled" not in upcoming
    assert "Completed" in past
    assert "Cancelled" in past


def test_a_dosed_session_with_its_chart_open_is_in_progress_everywhere(
    as_user, therapist, client_record, dosed
):
    # 13:00: the session's time (9:00-12:00) has passed; no discharge recorded yet.
    with time_machine.travel(MORNING + timedelta(hours=4), tick=False):
        web = as_user(therapist)
        upcoming, past = sections(web.get(list_url(client_record)))
        assert "In progress" in past
        assert "Not marked yet" not in past
        assert "Dosing" not in upcoming
        page = words(web.get(dosed.get_absolute_url()))
        assert "Dosing session · Maya Patel In progress" in page
        calendar = words(web.get(week_url(MORNING.date())))
        assert "Dosing · in progress" in calendar
        chart = words(
            web.get(
                reverse(
                    "patients:sessions:dosing_chart",
                    kwargs={"client_id": client_record.pk, "session_id": dosed.pk},
                )
            )
        )
        assert "In progress" in chart


def test_an_open_chart_within_the_session_time_is_listed_upcoming_and_in_progress(
    as_user, therapist, client_record, dosed
):
    with time_machine.travel(MORNING + timedelta(hours=1), tick=False):
        upcoming, _past = sections(as_user(therapist).get(list_url(client_record)))
    assert "Dosing" in upcoming
    assert "In progress" in upcoming


def test_a_past_session_nobody_marked_needs_marking_in_the_list_and_the_calendar(
    as_user, therapist, client_record
):
    start = MORNING.replace(hour=14)
    SessionFactory(client=client_record, kind=SessionKind.GENERAL, starts_at=start)
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        web = as_user(therapist)
        _upcoming, past = sections(web.get(list_url(client_record)))
        assert "Not marked yet" in past
        assert "Psychotherapy · not marked yet" in words(web.get(week_url(start.date())))


def test_a_deferred_dose_says_so(as_user, therapist, client_record):
    with time_machine.travel(MORNING, tick=False):
        session = dosing_ready_session(client_record, starts_at=MORNING)
        prepare(session, now=MORNING)
        dosing.chart_defer(
            session=session, by=therapist, note="Unwell today.", now=MORNING + timedelta(minutes=5)
        )
        web = as_user(therapist)
        _upcoming, past = sections(web.get(list_url(client_record)))
        assert "Dose deferred" in past
        assert "Dosing · dose deferred" in words(web.get(week_url(MORNING.date())))


@pytest.mark.parametrize(
    ("status", "ends_in", "outcome", "expected"),
    [
        ("scheduled", 1, None, ("scheduled", "Scheduled")),
        ("scheduled", -1, None, ("unmarked", "Not marked yet")),
        ("scheduled", -1, "open", ("in_progress", "In progress")),
        ("scheduled", 1, "open", ("in_progress", "In progress")),
        ("completed", -1, "discharged", ("completed", "Completed")),
        ("completed", -1, "deferred", ("deferred", "Dose deferred")),
        ("completed", 1, None, ("completed", "Completed")),
        ("cancelled", 1, "open", ("cancelled", "Cancelled")),
        ("no_show", -1, None, ("no_show", "No-show")),
    ],
)
def test_the_vocabulary(status, ends_in, outcome, expected):
    now = MORNING
    shown = shown_status(
        status=status, ends_at=now + timedelta(hours=ends_in), chart_outcome=outcome, now=now
    )
    assert (shown.key, shown.label) == expected
    # The chart's words are the chart's labels.
    if outcome == "open" and status == "scheduled":
        assert shown.label == DosingChart.Outcome.OPEN.label


def test_the_list_runs_a_fixed_number_of_queries_with_dosing_charts(
    as_user, therapist, client_record, dosed, django_assert_num_queries
):
    moment = MORNING + timedelta(hours=4)
    with time_machine.travel(moment, tick=False):
        web = as_user(therapist)
        web.get(list_url(client_record))
        with CaptureQueriesContext(connection) as small:
            assert web.get(list_url(client_record)).status_code == 200
        prescription = DosingChart.objects.get(session=dosed).prescription
        for n in range(8):
            other = SessionFactory(
                client=client_record,
                kind=SessionKind.DOSING,
                starts_at=MORNING + timedelta(days=14 * (n + 1)),
            )
            DosingChart.objects.create(
                session=other, prescription=prescription, created_by=therapist
            )
        with django_assert_num_queries(len(small)):
            page = web.get(list_url(client_record))
    assert page.content.decode().count("In progress") == 9
