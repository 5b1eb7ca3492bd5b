"""The therapist calendar: who sees what (own sessions; an admin everyone's or one therapist's;
never a client the user may not see), the week and day grids in the clinic's time zone (also
across the daylight-saving change), the htmx partial, empty slots that book, cancelled sessions,
a fixed number of queries; booking from the calendar (prefill, errors, crafted POSTs)."""

from __future__ import annotations

import html
import re
from datetime import date, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from patients.models import ClientShare
from sessions.models import Session, SessionKind
from sessions.scheduling.services import session_cancel
from tests import factories
from tests.conftest import sign_in
from tests.factories_sessions import SessionFactory, course_ready_for_dosing

WEEK = reverse("calendar:week")
NEW = reverse("calendar:new")


@pytest.fixture(autouse=True)
def _frozen_clock(db):
    # Monday, March 2, 2026, 9:00 in the clinic's zone.
    with time_machine.travel(timezone.make_aware(datetime(2026, 3, 2, 9)), tick=False):
        yield


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour, minute))


def words(response) -> str:
    inline = re.sub(r"</?(?:strong|a|span|i|time|em)\b[^>]*>", "", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", inline)))


@pytest.fixture
def mine(client_record):
    return SessionFactory(client=client_record, kind="general", starts_at=at(date(2026, 3, 3), 10))


@pytest.fixture
def theirs(other_client_record):
    return SessionFactory(
        client=other_client_record, kind="general", starts_at=at(date(2026, 3, 4), 14)
    )


# --- Access and who sees what -------------------------------------------------------------------


@pytest.mark.parametrize("target", [WEEK, NEW, f"{WEEK}?view=day"])
def test_access(client, target, therapist, admin_user, client_record):
    response = client.get(target)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    for user, status in ((therapist, 200), (admin_user, 200), (client_record.user, 404)):
        client.logout()
        sign_in(client, user)
        assert client.get(target).status_code == status, user.role
    client.logout()
    sign_in(client, client_record.user)
    assert client.post(NEW, {}).status_code == 404


def test_a_therapist_sees_only_their_own_sessions(as_user, therapist, mine, theirs):
    page = words(as_user(therapist).get(WEEK))
    assert "Maya Patel" in page
    assert theirs.client.full_name not in page
    assert mine.get_absolute_url() in as_user(therapist).get(WEEK).content.decode()


def test_the_other_therapist_does_not_see_the_owners_sessions(
    as_user, other_therapist, mine, theirs
):
    page = words(as_user(other_therapist).get(WEEK))
    assert "Maya Patel" not in page
    assert theirs.client.full_name in page


def test_a_session_of_a_client_no_longer_visible_is_hidden(as_user, other_therapist, client_record):
    """A therapist covering a shared client sees the sessions they hold; after the share is
    revoked, those sessions leave their calendar too (visible_clients)."""
    share = factories.ClientShareFactory(client=client_record, therapist=other_therapist)
    SessionFactory(
        client=client_record,
        kind="general",
        therapist=other_therapist,
        created_by=other_therapist,
        starts_at=at(date(2026, 3, 5), 11),
    )
    web = as_user(other_therapist)
    assert "Maya Patel" in words(web.get(WEEK))
    ClientShare.objects.filter(pk=share.pk).update(revoked_at=timezone.now())
    assert "Maya Patel" not in words(web.get(WEEK))


def test_an_admin_sees_everyone_labelled_and_can_pick_a_therapist(
    as_user, admin_user, therapist, other_therapist, mine, theirs
):
    web = as_user(admin_user)
    page = words(web.get(WEEK))
    assert "Maya Patel Sam Rivera" in page
    assert f"{theirs.client.full_name} Jordan Chen" in page
    assert "All therapists" in page
    picked = words(web.get(f"{WEEK}?therapist={other_therapist.pk}"))
    assert theirs.client.full_name in picked
    assert "Maya Patel" not in picked
    # Not a therapist's id: everyone, as by default.
    assert "Maya Patel" in words(web.get(f"{WEEK}?therapist={admin_user.pk}"))
    assert "Maya Patel" in words(web.get(f"{WEEK}?therapist=abc"))


def test_a_large_practice_shows_its_therapists_a_group_at_a_time(as_user, admin_user):
    """500 therapists' week is ~11,000 sessions: the all-therapists view shows twelve therapists
    at a time, in the picker's order, with links to the next and previous twelve."""
    therapists = [
        factories.TherapistFactory(first_name="T", last_name=f"Name{n:02d}") for n in range(14)
    ]
    for n, therapist in enumerate(therapists):
        client = factories.ClientFactory(
            primary_therapist=therapist, first_name="Client", last_name=f"Of{n:02d}"
        )
        SessionFactory(
            client=client,
            therapist=therapist,
            kind="general",
            starts_at=at(date(2026, 3, 3), 8 + n % 10),
        )
    web = as_user(admin_user)
    first = web.get(WEEK)
    page = words(first)
    assert "Therapists 1–12 (Name00 – Name11), of 14 therapists." in page
    assert "Client Of11" in page
    assert "Client Of12" not in page
    assert first.context["links"]["group_previous"] == ""
    second = web.get(first.context["links"]["group_next"])
    page = words(second)
    assert "Therapists 13–14 (Name12 – Name13), of 14 therapists." in page
    assert "Client Of12" in page
    assert "Client Of11" not in page
    # The next week keeps the group; a group past the end shows the last one.
    assert "group=2" in second.context["links"]["next"]
    assert "Client Of13" in words(web.get(f"{WEEK}?group=99"))
    assert "Client Of00" in words(web.get(f"{WEEK}?group=x"))
    # Picking one therapist shows theirs only, whatever their group.
    assert "Client Of13" in words(web.get(f"{WEEK}?therapist={therapists[13].pk}&group=1"))


# --- The grid -----------------------------------------------------------------------------------


def test_the_week_grid(as_user, therapist, mine):
    response = as_user(therapist).get(WEEK)
    page = words(response)
    assert "March 2 – 8, 2026" in page
    for day in ("Mon Mar 2", "Tue Mar 3", "Sun Mar 8"):
        assert day in page
    assert "7 AM" in page
    assert "8 PM" in page
    assert "9 PM" not in page
    assert "10:00–10:50 AM Psychotherapy Maya Patel" in page
    body = response.content.decode()
    assert "kind-general" in body
    # Empty hours link to the booking form with their start; the session's hour does not.
    assert f'href="{NEW}?start=2026-03-03T11:00"' in body
    assert f'href="{NEW}?start=2026-03-03T10:00"' not in body
    assert "Book a session on Tuesday, March 3 at 11 AM" in page


def test_a_long_session_keeps_the_hours_it_covers(as_user, therapist, client_record):
    course_ready_for_dosing(client_record)
    SessionFactory(client=client_record, kind="dosing", starts_at=at(date(2026, 3, 4), 9))
    body = as_user(therapist).get(WEEK).content.decode()
    assert "9:00 AM–12:00 PM" in body
    for hour in ("09", "10", "11"):
        assert f"?start=2026-03-04T{hour}:00" not in body
    assert "?start=2026-03-04T12:00" in body


def test_date_picks_the_week_and_day_view_shows_one_day(as_user, therapist, mine):
    web = as_user(therapist)
    page = words(web.get(f"{WEEK}?date=2026-03-12"))
    assert "March 9 – 15, 2026" in page
    assert "Maya Patel" not in page
    day = words(web.get(f"{WEEK}?date=2026-03-03&view=day"))
    assert "Tuesday, March 3, 2026" in day
    assert "Maya Patel" in day
    assert "Wed Mar 4" not in day
    # A date that is not one: this week.
    assert "March 2 – 8, 2026" in words(web.get(f"{WEEK}?date=not-a-date"))


def test_previous_and_next_use_htmx_and_plain_links(as_user, therapist):
    body = as_user(therapist).get(f"{WEEK}?date=2026-03-02").content.decode()
    nxt = f"{WEEK}?date=2026-03-09&amp;view=week"
    assert f'href="{nxt}" hx-get="{nxt}" hx-target="#calendar" hx-push-url="true"' in body
    assert f"{WEEK}?date=2026-02-23&amp;view=week" in body


def test_htmx_gets_only_the_calendar(as_user, therapist, mine):
    web = as_user(therapist)
    partial = web.get(f"{WEEK}?date=2026-03-03", headers={"HX-Request": "true"})
    body = partial.content.decode()
    assert "<html" not in body
    assert "calendar-grid" in body
    assert "Maya Patel" in body
    assert "HX-Request" in partial["Vary"]
    # htmx restoring history asks for the whole page.
    full = web.get(
        f"{WEEK}?date=2026-03-03",
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    assert "<html" in full.content.decode()


def test_cancelled_sessions_are_hidden_unless_asked_for(as_user, therapist, mine):
    session_cancel(session=mine, reason="Client unwell", by=therapist)
    web = as_user(therapist)
    assert "Maya Patel" not in words(web.get(WEEK))
    shown = web.get(f"{WEEK}?cancelled=1").content.decode()
    assert "cal-cancelled" in shown
    assert "Maya Patel" in shown
    assert "Psychotherapy · cancelled" in words(web.get(f"{WEEK}?cancelled=1"))
    # The freed hour can be booked again.
    assert f"{NEW}?start=2026-03-03T10:00" in shown


def test_query_count_is_constant(as_user, therapist, client_record):
    clients = [client_record] + [
        factories.ClientFactory(primary_therapist=therapist) for _ in range(4)
    ]
    web = as_user(therapist)

    def add(n: int) -> None:
        for i in range(n):
            SessionFactory(
                client=clients[i % len(clients)],
                kind="general",
                starts_at=at(date(2026, 3, 2 + i % 7), 7 + i // 7),
            )

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert web.get(WEEK).status_code == 200
        return len(queries)

    add(2)
    web.get(WEEK)
    small = count()
    Session.objects.all().delete()
    add(20)
    assert count() == small


def test_admin_query_count_is_constant(as_user, admin_user, therapist, other_therapist):
    web = as_user(admin_user)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            web.get(WEEK)
        return len(queries)

    web.get(WEEK)
    for n in range(2):
        SessionFactory(kind="general", starts_at=at(date(2026, 3, 3), 8 + n))
    small = count()
    for n in range(20):
        SessionFactory(kind="general", starts_at=at(date(2026, 3, 2 + n % 7), 7 + n // 7 * 3))
    assert count() == small


def test_the_week_across_the_dst_change(settings, as_user, therapist, client_record):
    """Los Angeles leaves daylight saving on Sunday Nov 1, 2026: 10:00 on the Friday before and
    the Monday after are both at 10:00 on the grid, an hour apart in UTC."""
    settings.TIME_ZONE = "America/Los_Angeles"
    friday = SessionFactory(
        client=client_record, kind="general", starts_at=at(date(2026, 10, 30), 10)
    )
    monday = SessionFactory(
        client=client_record, kind="general", starts_at=at(date(2026, 11, 2), 10)
    )
    assert friday.starts_at.utctimetuple().tm_hour == 17
    assert monday.starts_at.utctimetuple().tm_hour == 18
    web = as_user(therapist)
    before = words(web.get(f"{WEEK}?date=2026-10-30"))
    after = words(web.get(f"{WEEK}?date=2026-11-02"))
    assert "10:00–10:50 AM Psychotherapy Maya Patel" in before
    assert "10:00–10:50 AM Psychotherapy Maya Patel" in after
    assert "America/Los_Angeles" in after
    # In the day grid, each sits in the 10 AM row.
    for day, session in (("2026-10-30", friday), ("2026-11-02", monday)):
        body = web.get(f"{WEEK}?date={day}&view=day").content.decode()
        row = body.split(">10 AM</th>")[1].split("</tr>")[0]
        assert session.get_absolute_url() in row


# --- Booking from the calendar ------------------------------------------------------------------


def test_new_prefills_the_slot_and_the_client(as_user, therapist, client_record):
    body = as_user(therapist).get(f"{NEW}?start=2026-03-03T11:00&client={client_record.pk}")
    page = body.content.decode()
    assert 'value="2026-03-03"' in page
    assert 'value="11:00"' in page
    assert f'<option value="{client_record.pk}" selected>' in page


def test_new_lists_only_visible_active_clients(
    as_user, therapist, client_record, other_client_record
):
    archived = factories.ClientFactory(
        primary_therapist=therapist,
        first_name="Old",
        archived_at=timezone.now(),
        archived_reason="Moved away",
    )
    page = as_user(therapist).get(f"{NEW}?client={other_client_record.pk}").content.decode()
    assert f'value="{client_record.pk}"' in page
    assert f'value="{other_client_record.pk}"' not in page
    assert f'value="{archived.pk}"' not in page


def test_new_books_and_redirects(as_user, therapist, client_record):
    response = as_user(therapist).post(
        NEW,
        {
            "client": client_record.pk,
            "kind": "general",
            "date": "2026-03-03",
            "start_time": "11:00",
        },
    )
    session = Session.objects.get(client=client_record)
    assert response["Location"] == session.get_absolute_url()
    assert session.starts_at == at(date(2026, 3, 3), 11)
    assert session.minutes == 50


def test_new_with_another_therapists_client_is_refused(as_user, therapist, other_client_record):
    response = as_user(therapist).post(
        NEW,
        {
            "client": other_client_record.pk,
            "kind": "general",
            "date": "2026-03-03",
            "start_time": "11:00",
        },
    )
    assert response.status_code == 200
    assert "Select a valid choice" in words(response)
    assert not Session.objects.exists()


def test_new_keeps_the_input_on_a_refusal(as_user, therapist, client_record):
    """A KAP session for a client without a course: the service's message, nothing lost."""
    response = as_user(therapist).post(
        NEW,
        {
            "client": client_record.pk,
            "kind": "preparation",
            "date": "2026-03-03",
            "start_time": "11:00",
            "location": "Room 4",
        },
    )
    page = words(response)
    assert "This can't be done yet: Maya Patel has no active treatment course" in page
    assert "What you typed is still in the form." in page
    assert "Please correct" not in page
    assert 'value="Room 4"' in response.content.decode()
    assert not Session.objects.exists()


def test_a_crafted_dosing_post_that_breaks_a_gate_writes_nothing(as_user, therapist, client_record):
    course_ready_for_dosing(client_record, prep_done=3, valid_until=date(2026, 3, 9))
    response = as_user(therapist).post(
        NEW,
        {
            "client": client_record.pk,
            "kind": SessionKind.DOSING,
            "date": "2026-03-10",
            "start_time": "09:00",
        },
    )
    assert "The prescription expired on Mar 9, 2026" in words(response)
    assert not Session.objects.filter(kind=SessionKind.DOSING).exists()
