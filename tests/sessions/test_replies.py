"""The client's answer to an appointment reminder, from its link without signing in
(sessions.scheduling.replies): asked on GET, answered once by POST, expired at the start, useless
once the session moved; the therapist sees it on the calendar and the session's page."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from sessions.models import ClientReply, Session, SessionKind
from sessions.scheduling import replies
from sessions.scheduling.services import session_cancel, session_reschedule, session_schedule
from tests.conftest import sign_in
from tests.factories import AdminFactory

pytestmark = pytest.mark.django_db
NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=NEW_YORK)
CLINICAL = re.compile(
    r"ketamine|dosing|dose|integration|preparation|psychotherapy|lozenge|phq|gad", re.I
)


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def booked(client_record) -> Session:
    return session_schedule(
        client=client_record,
        kind=SessionKind.GENERAL,
        starts_at=datetime(2026, 3, 5, 14, 0, tzinfo=NEW_YORK),
        by=client_record.primary_therapist,
    )


def link(session: Session) -> str:
    return reverse("session_reply", kwargs={"token": replies.reply_token(session)})


def test_opening_the_link_asks_and_changes_nothing(client, booked):
    response = client.get(link(booked))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Hi Maya" in page
    assert "Thursday, March 5 at 2:00 PM" in page
    assert "Yes, I will be there" in page
    assert "I need another time" in page
    assert not CLINICAL.search(page.split("<main", 1)[-1])
    assert "Patel" not in page
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "same-origin"
    booked.refresh_from_db()
    assert booked.client_reply == ""


def test_the_client_confirms_once(client, booked):
    response = client.post(link(booked), {"answer": "confirmed"})
    assert response.status_code == 302
    booked.refresh_from_db()
    assert booked.client_reply == ClientReply.CONFIRMED
    assert booked.client_reply_at == NOW
    page = client.get(link(booked)).content.decode()
    assert "you confirmed you will be there" in page
    assert "I need another time" not in page
    # Single use: a second answer is refused and the first stands.
    response = client.post(link(booked), {"answer": "reschedule"})
    assert "You already answered: confirmed." in response.content.decode()
    booked.refresh_from_db()
    assert booked.client_reply == ClientReply.CONFIRMED


def test_a_crafted_answer_is_refused(client, booked):
    response = client.post(link(booked), {"answer": "cancelled"})
    assert response.status_code == 200
    assert "Choose one of the two answers." in response.content.decode()
    booked.refresh_from_db()
    assert booked.client_reply == ""


def test_moving_the_session_clears_the_answer_and_retires_the_old_link(client, booked):
    old = link(booked)
    client.post(old, {"answer": "reschedule"})
    moved = session_reschedule(
        session=booked,
        starts_at=datetime(2026, 3, 10, 14, 0, tzinfo=NEW_YORK),
        by=booked.therapist,
    )
    assert (moved.client_reply, moved.client_reply_at) == ("", None)
    response = client.get(old)
    assert response.status_code == 410
    assert "This appointment has moved since this e-mail was sent." in response.content.decode()
    assert client.post(old, {"answer": "confirmed"}).status_code == 410
    assert client.get(link(moved)).status_code == 200


def test_the_link_expires_when_the_session_starts_or_is_cancelled(client, booked):
    url = link(booked)
    with time_machine.travel(booked.starts_at + timedelta(minutes=1), tick=False):
        response = client.post(url, {"answer": "confirmed"})
    assert response.status_code == 410
    assert "already started" in response.content.decode()
    session_cancel(session=booked, reason="Therapist unwell", by=booked.therapist)
    assert "was cancelled" in client.get(url).content.decode()


def test_a_link_made_months_before_still_works_and_one_tampered_with_does_not(
    client, client_record
):
    """A reminder's text (and its link) is made at the booking, maybe months before it goes."""
    far = session_schedule(
        client=client_record,
        kind=SessionKind.GENERAL,
        starts_at=NOW + timedelta(days=120),
        by=client_record.primary_therapist,
    )
    url = link(far)
    with time_machine.travel(far.starts_at - timedelta(days=1), tick=False):
        assert client.get(url).status_code == 200
    assert client.get(url[:-3] + "abc/").status_code == 410
    assert client.get("/appointment/%00%01/").status_code in (404, 410)


def test_the_therapist_sees_the_answer_on_the_session_and_the_calendar(client, booked):
    client.post(link(booked), {"answer": "reschedule"})
    sign_in(client, booked.therapist)
    page = client.get(booked.get_absolute_url()).content.decode()
    assert "The client asked to reschedule" in page
    week = client.get(reverse("calendar:week") + "?date=2026-03-05").content.decode()
    assert "Client asked to reschedule" in week


@pytest.mark.parametrize("role", ["client", "other_therapist", "admin"])
def test_any_visitor_gets_the_same_page(client, booked, role, other_therapist):
    """The link is the proof: who is signed in does not matter, and it shows nothing more."""
    user = {
        "client": booked.client.user,
        "other_therapist": other_therapist,
        "admin": AdminFactory(),
    }[role]
    sign_in(client, user)
    response = client.get(link(booked))
    assert response.status_code == 200
    # The navigation names whoever is signed in; the page itself names only the first name.
    assert "Patel" not in response.content.decode().split("<main", 1)[-1]


def test_the_page_reads_one_session_whatever_the_clinic_holds(
    client, booked, django_assert_num_queries
):
    with django_assert_num_queries(1):
        assert client.get(link(booked)).status_code == 200
    for n in range(5):
        session_schedule(
            client=booked.client,
            kind=SessionKind.GENERAL,
            starts_at=booked.starts_at + timedelta(days=1 + n),
            by=booked.therapist,
        )
    client.post(link(booked), {"answer": "confirmed"})
    with django_assert_num_queries(1):
        assert client.get(link(booked)).status_code == 200


def test_an_answer_after_a_cancellation_that_came_in_between_is_refused(booked, monkeypatch):
    """The link was read as answerable, then the session was cancelled before the row lock:
    the answer is refused under the lock."""
    token = replies.reply_token(booked)
    real = replies.session_for_token

    def read_then_cancel(token):
        read = real(token)
        Session.objects.filter(pk=booked.pk).update(
            status="cancelled", cancel_reason="Therapist unwell"
        )
        return read

    monkeypatch.setattr(replies, "session_for_token", read_then_cancel)
    with pytest.raises(replies.ReplyError, match="can no longer be answered"):
        replies.session_reply(token=token, answer="confirmed")
    booked.refresh_from_db()
    assert booked.client_reply == ""
