"""A client's session pages: who opens them, booking with the form (errors keep the input, the R7
acknowledgement), crafted POSTs refused by the service, the session page (time in the clinic's
zone, actions, cancellation with its reason and who), the audit of views, fixed query counts."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent
from sessions.models import Session, SessionKind, SessionStatus
from sessions.scheduling.forms import ACKNOWLEDGE_LABEL
from sessions.scheduling.services import session_schedule
from tests.conftest import sign_in
from tests.factories import ClientFactory
from tests.factories_sessions import SessionFactory, course_ready_for_dosing, dose_given

NOW = datetime(2026, 3, 2, 9, 0)


@pytest.fixture(autouse=True)
def _frozen_clock(db):
    with time_machine.travel(timezone.make_aware(NOW), tick=False):
        yield


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour, minute))


def url(name: str, client, session: Session | None = None) -> str:
    kwargs = {"client_id": client.pk}
    if session is not None:
        kwargs["session_id"] = session.pk
    return reverse(f"patients:sessions:{name}", kwargs=kwargs)


def text(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(response.content.decode()))


def words(response) -> str:
    """What a person reads: the page without its tags."""
    inline = re.sub(r"</?(?:strong|a|span|i|time|em)\b[^>]*>", "", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", inline)))


def form_data(**overrides) -> dict:
    return {
        "kind": "preparation",
        "date": "2026-03-03",
        "start_time": "10:00",
        "minutes": "",
        "location": "Room 2",
        "telehealth_url": "",
        **overrides,
    }


@pytest.fixture
def course(client_record):
    course, _ = course_ready_for_dosing(client_record)
    return course


@pytest.fixture
def session(course, client_record):
    return SessionFactory(client=client_record, course=course, starts_at=at(date(2026, 3, 3), 10))


# --- Access -------------------------------------------------------------------------------------

PAGES = [
    ("list", False, "get"),
    ("create", False, "get"),
    ("create", False, "post"),
    ("detail", True, "get"),
    ("reschedule", True, "get"),
    ("reschedule", True, "post"),
    ("cancel", True, "post"),
    ("status", True, "post"),
]


@pytest.mark.parametrize(("page", "with_session", "method"), PAGES)
def test_access_matrix(
    client, page, with_session, method, session, therapist, other_therapist, admin_user
):
    target = url(page, session.client, session if with_session else None)
    call = client.get if method == "get" else client.post
    response = call(target)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    allowed = 200 if method == "get" else (200, 302)
    for user, expected in (
        (therapist, allowed),
        (admin_user, allowed),
        (other_therapist, 404),
        (session.client.user, 404),
    ):
        client.logout()
        sign_in(client, user)
        status = call(target).status_code
        ok = status in expected if isinstance(expected, tuple) else status == expected
        assert ok, (page, method, user.role, status)
    session.refresh_from_db()
    # The other therapist's and the client's POSTs changed nothing they could not change.
    assert session.cancel_reason == ""


def test_a_session_under_another_clients_address_is_404(as_user, therapist, session):
    other = ClientFactory(primary_therapist=therapist)
    web = as_user(therapist)
    for page in ("detail", "reschedule"):
        assert web.get(url(page, other, session)).status_code == 404
    assert web.post(url("cancel", other, session), {"reason": "x"}).status_code == 404
    session.refresh_from_db()
    assert session.status == SessionStatus.SCHEDULED


def test_views_are_audited(as_user, therapist, session):
    web = as_user(therapist)
    web.get(url("list", session.client))
    web.get(url("detail", session.client, session))
    pages = list(
        AccessEvent.objects.filter(client=session.client)
        .order_by("id")
        .values_list("page", flat=True)
    )
    assert pages == ["Sessions", "Session"]


# --- The list -----------------------------------------------------------------------------------


def test_list_shows_upcoming_then_past(as_user, therapist, course, client_record):
    SessionFactory(client=client_record, course=course, starts_at=at(date(2026, 3, 10), 10))
    page = text(as_user(therapist).get(url("list", client_record)))
    assert "Schedule a session" in page
    upcoming, past = page.split('id="upcoming-heading"')[1].split('id="past-heading"')
    assert "Tue Mar 10, 2026" in upcoming
    assert "Completed" in past
    assert "Preparation" in past
    # A past session nobody marked says so.
    SessionFactory(client=client_record, course=course, starts_at=at(date(2026, 3, 1), 10))
    page = text(as_user(therapist).get(url("list", client_record)))
    assert "Not marked yet" in page.split('id="past-heading"')[1]


def test_list_query_count_is_constant(as_user, therapist, course, client_record):
    web = as_user(therapist)
    web.get(url("list", client_record))

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert web.get(url("list", client_record)).status_code == 200
        return len(queries)

    small = count()
    for n in range(10):
        SessionFactory(client=client_record, course=course, starts_at=at(date(2026, 4, 1 + n), 10))
    assert count() == small


# --- Booking ------------------------------------------------------------------------------------


def test_the_form_explains_the_default_lengths(as_user, therapist, client_record):
    page = text(as_user(therapist).get(url("create", client_record)))
    assert "180 minutes for a dosing session, 50 minutes for other sessions" in page
    assert 'name="client"' not in page


def test_booking_redirects_to_the_session_with_a_message(as_user, therapist, course, client_record):
    response = as_user(therapist).post(url("create", client_record), form_data(), follow=True)
    session = Session.objects.get(client=client_record, status=SessionStatus.SCHEDULED)
    assert response.redirect_chain[-1][0] == session.get_absolute_url()
    assert "Preparation session booked with Maya Patel on Tuesday, Mar 3 at 10:00 AM." in text(
        response
    )
    assert session.minutes == 50


def test_a_refused_booking_keeps_what_was_typed(as_user, therapist, session, client_record):
    response = as_user(therapist).post(
        url("create", client_record),
        form_data(start_time="10:30", location="Garden room", minutes="60"),
    )
    assert response.status_code == 200
    page = text(response)
    assert "Sam Rivera already has a preparation session with Maya Patel" in page
    assert 'value="Garden room"' in page
    assert 'value="10:30"' in page
    assert 'value="60"' in page
    assert Session.objects.filter(client=client_record).count() == session.client.sessions.count()
    assert not Session.objects.filter(location="Garden room").exists()


def test_a_crafted_dosing_post_breaking_a_gate_is_refused(as_user, therapist, client_record):
    course_ready_for_dosing(client_record, prep_done=2)
    response = as_user(therapist).post(url("create", client_record), form_data(kind="dosing"))
    assert response.status_code == 200
    assert "at least 3 completed preparation sessions (2 so far)" in text(response)
    assert not Session.objects.filter(kind=SessionKind.DOSING).exists()


def test_a_gate_refusal_reads_as_a_refusal_not_a_typing_problem(as_user, therapist, client_record):
    # R2 refused the dosing booking: nothing in the form is wrong, so "Please correct 1 problem"
    # pointed at nothing to correct.
    course_ready_for_dosing(client_record, prep_done=2)
    response = as_user(therapist).post(url("create", client_record), form_data(kind="dosing"))
    page = words(response)
    assert "This can't be done yet:" in page
    assert "Dosing needs at least 3 completed preparation sessions (2 so far)." in page
    assert "What you typed is still in the form." in page
    assert "Please correct" not in page
    assert 'value="dosing" selected' in response.content.decode()


def test_r7_warning_then_acknowledged(as_user, therapist, client_record):
    _course, prescription = course_ready_for_dosing(client_record)
    first = session_schedule(
        client=client_record, kind="dosing", starts_at=at(date(2026, 2, 2), 12), by=therapist
    )
    dose_given(first, prescription=prescription)
    web = as_user(therapist)
    data = form_data(kind="dosing", date="2026-03-04", start_time="09:00")

    warned = text(web.post(url("create", client_record), data))
    assert "No integration session since the last dose" in warned
    assert ACKNOWLEDGE_LABEL in warned
    assert Session.objects.filter(kind="dosing").count() == 1

    # Sent again without ticking the box: still not booked, and the box is asked for.
    again = text(web.post(url("create", client_record), {**data, "warning_shown": "True"}))
    assert "Tick the box to book the dosing session anyway." in again
    assert Session.objects.filter(kind="dosing").count() == 1

    done = web.post(
        url("create", client_record),
        {**data, "warning_shown": "True", "acknowledge_integration": "on"},
    )
    booked = Session.objects.get(kind="dosing", starts_at=at(date(2026, 3, 4), 9))
    assert done["Location"] == booked.get_absolute_url()
    assert booked.integration_warning_acknowledged_by == therapist
    page = text(web.get(booked.get_absolute_url()))
    assert "acknowledged by Sam Rivera" in page


# --- The session page ---------------------------------------------------------------------------


def test_the_session_page(as_user, therapist, session, client_record):
    page = text(as_user(therapist).get(url("detail", client_record, session)))
    assert "Preparation session · Maya Patel" in page
    assert "Tuesday, March 3, 2026 · 10:00 AM – 10:50 AM" in page
    assert "(50 minutes)" in page
    assert "Room 2" in page
    assert "Sam Rivera" in page
    assert f"Course #{session.course_id}" in page
    assert "Reschedule" in page
    assert "Cancel the session" in page
    assert "once it has started" in page
    assert "Open the dosing chart" not in page


def test_a_dosing_session_page_links_the_chart_when_it_exists(as_user, therapist, client_record):
    course_ready_for_dosing(client_record)
    dosing = session_schedule(
        client=client_record, kind="dosing", starts_at=at(date(2026, 3, 4), 9), by=therapist
    )
    page = text(as_user(therapist).get(url("detail", client_record, dosing)))
    chart = reverse(
        "patients:sessions:dosing_chart",
        kwargs={"client_id": client_record.pk, "session_id": dosing.pk},
    )
    assert "Open the dosing chart" in page
    assert chart in page
    assert "180 minutes" in page


def test_an_integration_session_shows_the_dose_it_follows(as_user, therapist, client_record):
    _course, prescription = course_ready_for_dosing(client_record)
    dosing = session_schedule(
        client=client_record, kind="dosing", starts_at=at(date(2026, 2, 23), 12), by=therapist
    )
    dose_given(dosing, prescription=prescription)
    integration = session_schedule(
        client=client_record, kind="integration", starts_at=at(date(2026, 2, 25), 12), by=therapist
    )
    page = text(as_user(therapist).get(url("detail", client_record, integration)))
    assert "the dosing session of Monday, February 23" in page


def test_reschedule_moves_and_keeps_input_on_error(as_user, therapist, session, client_record):
    web = as_user(therapist)
    SessionFactory(client=client_record, course=session.course, starts_at=at(date(2026, 3, 5), 10))
    refused = web.post(
        url("reschedule", client_record, session),
        form_data(date="2026-03-05", start_time="10:15", location="Room 9"),
    )
    assert refused.status_code == 200
    assert 'value="Room 9"' in text(refused)
    assert "already has a preparation session" in text(refused)
    session.refresh_from_db()
    assert session.starts_at == at(date(2026, 3, 3), 10)

    moved = web.post(url("reschedule", client_record, session), form_data(date="2026-03-06"))
    assert moved.status_code == 302
    session.refresh_from_db()
    assert session.starts_at == at(date(2026, 3, 6), 10)


def test_cancel_needs_a_reason_and_then_shows_who_and_why(
    as_user, therapist, session, client_record
):
    web = as_user(therapist)
    refused = web.post(url("cancel", client_record, session), {"reason": "  "})
    assert refused.status_code == 200
    assert "Give a reason for cancelling the session." in text(refused)
    session.refresh_from_db()
    assert session.status == SessionStatus.SCHEDULED

    web.post(url("cancel", client_record, session), {"reason": "Client has the flu"})
    session.refresh_from_db()
    assert session.status == SessionStatus.CANCELLED
    assert session.status_changed_by == therapist
    page = words(web.get(url("detail", client_record, session)))
    assert "Cancelled by Sam Rivera on Mar 2, 2026 at 9:00 AM. Reason: Client has the flu" in page
    assert "Reschedule" not in page


def test_mark_completed_and_no_show(as_user, therapist, course, client_record):
    earlier = SessionFactory(client=client_record, course=course, starts_at=at(date(2026, 3, 2), 7))
    web = as_user(therapist)
    page = text(web.get(url("detail", client_record, earlier)))
    assert "Mark completed" in page
    assert "Mark no-show" in page
    web.post(url("status", client_record, earlier), {"status": "completed"})
    earlier.refresh_from_db()
    assert earlier.status == SessionStatus.COMPLETED
    assert earlier.status_changed_by == therapist
    page = words(web.get(url("detail", client_record, earlier)))
    assert "Completed: marked by Sam Rivera on Mar 2, 2026" in page

    # A crafted status the page does not offer, and a future session, change nothing.
    future = SessionFactory(client=client_record, course=course, starts_at=at(date(2026, 3, 9), 7))
    web.post(url("status", client_record, future), {"status": "cancelled"})
    web.post(url("status", client_record, future), {"status": "no_show"})
    future.refresh_from_db()
    assert future.status == SessionStatus.SCHEDULED


def test_the_detail_page_query_count_does_not_grow_with_the_clients_sessions(
    as_user, therapist, session, client_record
):
    web = as_user(therapist)
    web.get(url("detail", client_record, session))

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            web.get(url("detail", client_record, session))
        return len(queries)

    small = count()
    for n in range(10):
        SessionFactory(
            client=client_record, course=session.course, starts_at=at(date(2026, 4, 1 + n), 10)
        )
    assert count() == small


# --- Time zone ----------------------------------------------------------------------------------


def test_session_page_time_across_the_dst_change(settings, as_user, therapist, client_record):
    settings.TIME_ZONE = "America/Los_Angeles"
    with time_machine.travel(timezone.make_aware(datetime(2026, 10, 20, 9)), tick=False):
        friday = SessionFactory(
            client=client_record, kind="general", starts_at=at(date(2026, 10, 30), 10)
        )
        monday = SessionFactory(
            client=client_record, kind="general", starts_at=at(date(2026, 11, 2), 10)
        )
        # 10:00 PDT (UTC-7) and 10:00 PST (UTC-8): one hour apart in UTC.
        assert friday.starts_at.astimezone(UTC).hour == 17
        assert monday.starts_at.astimezone(UTC).hour == 18
        web = as_user(therapist)
        assert "Friday, October 30, 2026 · 10:00 AM" in text(web.get(friday.get_absolute_url()))
        assert "Monday, November 2, 2026 · 10:00 AM" in text(web.get(monday.get_absolute_url()))
        # Booked through the form at 10:00 on the Monday after the change: stored as 18:00 UTC.
        web.post(
            url("create", client_record),
            form_data(kind="general", date="2026-11-02", start_time="12:00"),
        )
        booked = Session.objects.get(client=client_record, starts_at__gt=monday.starts_at)
        assert booked.starts_at == monday.starts_at + timedelta(hours=2)
