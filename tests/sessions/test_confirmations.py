"""The client's confirmations of a booking, a move and a cancellation, through the outbox (R25:
first name, day, time, place or video link; no session kind, nothing clinical), and the client
portal's list of their appointments."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from outbox.models import MessageKind, OutboxMessage
from patients.clients.services import client_archive
from patients.models import Client
from sessions.models import SessionKind
from sessions.scheduling.services import (
    SessionError,
    session_cancel,
    session_reschedule,
    session_schedule,
)
from tests.conftest import sign_in
from tests.factories_sessions import SessionFactory
from tests.outbox_helpers import send_outbox

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("America/New_York"))
CLINICAL = re.compile(
    r"ketamine|dosing|dose|integration|preparation|psychotherapy|lozenge|kap\b|phq|gad", re.I
)


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def confirmations():
    return OutboxMessage.objects.filter(kind=MessageKind.APPOINTMENT_CONFIRMATION).order_by("id")


def book(client_record, *, days=1, **kwargs):
    return session_schedule(
        client=client_record,
        kind=SessionKind.GENERAL,
        starts_at=NOW + timedelta(days=days, hours=1),
        by=client_record.primary_therapist,
        **kwargs,
    )


def test_a_booking_is_confirmed_in_the_clients_time_without_clinical_words(client_record):
    Client.objects.filter(pk=client_record.pk).update(time_zone="America/Los_Angeles")
    client_record.refresh_from_db()
    book(client_record, location="Room 2, 14 Elm Street")
    (row,) = confirmations()
    assert row.to == client_record.email
    assert row.expires_at == NOW + timedelta(days=1, hours=1)  # of no use once it started
    assert send_outbox().sent == 1
    (email,) = mail.outbox
    assert email.subject == "Your appointment on Tuesday, March 3"
    # 10:00 in New York is 7:00 in Los Angeles, the client's zone.
    assert "Your appointment with Sam is booked for Tuesday, March 3 at 7:00 AM (your time)" in (
        email.body
    )
    assert "Where: Room 2, 14 Elm Street" in email.body
    assert not CLINICAL.search(email.subject + email.body)
    assert "Patel" not in email.subject + email.body


def test_an_online_session_gives_the_link(client_record):
    book(client_record, telehealth_url="https://video.example.org/room/42")
    send_outbox()
    assert "Join here at the time: https://video.example.org/room/42" in mail.outbox[0].body


def test_a_move_replaces_a_confirmation_not_yet_sent_and_a_cancellation_follows(client_record):
    session = book(client_record)
    session_reschedule(
        session=session, starts_at=NOW + timedelta(days=2, hours=1), by=session.therapist
    )
    first, second = confirmations()
    assert first.status == "cancelled"
    assert first.cancelled_reason == "Replaced by a newer message about the same thing."
    assert second.subject == "Your appointment has moved to Wednesday, March 4"
    assert send_outbox().sent == 1
    session_cancel(session=session, reason="The client is unwell", by=session.therapist)
    assert send_outbox().sent == 1
    cancelled = mail.outbox[-1]
    assert cancelled.subject == "Your appointment on Wednesday, March 4 is cancelled"
    assert "is cancelled" in cancelled.body
    assert "unwell" not in cancelled.body  # the reason is the clinic's record, not the e-mail


def test_no_confirmation_without_an_address_for_an_archived_record_or_a_past_session(
    client_record, therapist
):
    no_email = SessionFactory(client__email="", client__primary_therapist=therapist).client
    book(no_email)
    archived = SessionFactory(client__primary_therapist=therapist).client
    client_archive(by=therapist, client=archived, reason="Moved away")
    with pytest.raises(SessionError, match="archived"):
        book(archived)
    past = book(client_record, days=-1)
    assert past.pk
    assert not confirmations().exists()


def test_replies_go_to_the_clinics_reply_address_when_it_has_one(client_record, settings):
    settings.REPLY_TO_EMAIL = ""
    book(client_record)
    settings.REPLY_TO_EMAIL = "frontdesk@riverside.example.org"
    settings.CLINIC_PHONE = ""
    book(client_record, days=3)
    send_outbox()
    without, with_reply = mail.outbox
    assert without.extra_headers.get("Reply-To") is None
    assert "reply to this e-mail" not in without.body  # nobody would read it
    assert "please get in touch with the clinic" in without.body
    assert with_reply.extra_headers["Reply-To"] == "frontdesk@riverside.example.org"
    assert "please reply to this e-mail." in with_reply.body


# --- The portal ----------------------------------------------------------------------------------


def test_the_portal_lists_the_clients_appointments(client, client_record, other_therapist):
    book(client_record, telehealth_url="https://video.example.org/room/42")
    book(client_record, days=-7)
    cancelled = book(client_record, days=5)
    session_cancel(session=cancelled, reason="Clash", by=cancelled.therapist)
    SessionFactory(client__primary_therapist=other_therapist, starts_at=NOW + timedelta(days=1))
    sign_in(client, client_record.user)
    page = client.get(reverse("portal:home")).content.decode()
    assert "Your appointments" in page
    assert "Tuesday, March 3 at 10:00 AM" in page
    assert 'href="https://video.example.org/room/42"' in page
    assert "Recent appointments" in page
    assert "Mon, Feb 23 at 10:00 AM" in page
    assert "Saturday, March 7" not in page  # cancelled
    assert page.count("data-session=") == 1  # not another client's


def test_the_portal_home_query_count_is_the_same_at_two_sizes(client, client_record):
    sign_in(client, client_record.user)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("portal:home")).status_code == 200
        return len(captured)

    book(client_record)
    small = queries()
    for day in range(2, 14):
        book(client_record, days=day)
        book(client_record, days=-day)
    assert queries() == small
    assert timezone.now() == NOW
