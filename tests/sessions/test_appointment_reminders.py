"""Appointment reminders (sessions.scheduling.reminders): one before each booked session on each
of the clinic's days, at the send hour of the client's zone and outside the quiet hours; moved
with the session, cancelled with it, never after it started; R25 in what they say."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from auditlog.models import LogEntry
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from outbox.models import MessageKind, MessageStatus, OutboxMessage
from patients.clients import reminder_choice
from patients.courses.services import course_advance
from patients.models import Client, ReminderChoiceVia
from sessions.models import Session, SessionKind, SessionStatus
from sessions.scheduling import reminders
from sessions.scheduling.services import session_cancel, session_reschedule, session_schedule
from tests.factories_sessions import dosing_ready_session
from tests.outbox_helpers import send_outbox

pytestmark = pytest.mark.django_db
NEW_YORK = ZoneInfo("America/New_York")
# A Monday morning, before the 10:00 send hour.
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=NEW_YORK)
CLINICAL = re.compile(
    r"ketamine|dosing|dose|integration|preparation|psychotherapy|lozenge|kap\b|phq|gad", re.I
)


@pytest.fixture(autouse=True)
def _frozen_clock(settings):
    settings.SITE_URL = "https://clinic.example.org"
    with time_machine.travel(NOW, tick=False):
        yield


def planned(**filters):
    return list(
        OutboxMessage.objects.filter(kind=MessageKind.APPOINTMENT_REMINDER, **filters).order_by(
            "not_before", "id"
        )
    )


def confirmations_sent() -> None:
    """The bookings' own confirmations go at once; the tests look at the reminders after."""
    assert send_outbox().sent
    mail.outbox.clear()


def book(client_record, starts_at, kind=SessionKind.GENERAL, **kwargs) -> Session:
    return session_schedule(
        client=client_record,
        kind=kind,
        starts_at=starts_at,
        by=client_record.primary_therapist,
        **kwargs,
    )


def test_a_booking_plans_the_reminder_the_day_before_at_the_send_hour_of_the_clients_zone(
    client_record,
):
    Client.objects.filter(pk=client_record.pk).update(time_zone="America/Los_Angeles")
    client_record.refresh_from_db()
    # Thursday 14:00 in New York is 11:00 in Los Angeles: the reminder goes on Wednesday at
    # 10:00 in Los Angeles (13:00 in New York).
    session = book(client_record, datetime(2026, 3, 5, 14, 0, tzinfo=NEW_YORK))
    (row,) = planned()
    assert row.status == MessageStatus.PENDING
    assert row.not_before == datetime(2026, 3, 4, 10, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
    # Never after the session started: no use less than an hour before it.
    assert row.expires_at == session.starts_at - timedelta(hours=1)
    assert row.topic == reminders.topic(session.pk, 1)
    assert row.secret  # its answer link is not kept once sent
    assert row.headers["List-Unsubscribe"] == f"<{reminder_choice.stop_url(client_record)}>"
    assert row.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_the_reminder_says_when_and_where_and_nothing_clinical(client_record):
    session = book(
        client_record,
        datetime(2026, 3, 5, 14, 0, tzinfo=NEW_YORK),
        location="Room 2, 14 Elm Street",
    )
    confirmations_sent()
    with time_machine.travel(datetime(2026, 3, 4, 10, 0, 30, tzinfo=NEW_YORK), tick=False):
        assert send_outbox().sent == 1
    (email,) = mail.outbox
    assert email.subject == "Reminder: your appointment on Thursday, March 5"
    assert "A reminder of your appointment with Sam on Thursday, March 5 at 2:00 PM" in email.body
    assert "Where: Room 2, 14 Elm Street" in email.body
    assert "https://clinic.example.org/appointment/" in email.body
    assert reminder_choice.stop_url(client_record) in email.body
    assert not CLINICAL.search(email.subject + email.body)
    assert "Patel" not in email.subject + email.body
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert email.extra_headers["List-Unsubscribe"].startswith("<https://clinic.example.org/")
    (row,) = planned()
    assert row.status == MessageStatus.SENT
    assert row.text == ""  # the link is not kept
    assert session.pk == reminders.session_of(row)


def test_a_dosing_session_reminder_links_to_the_portal_without_naming_it():
    session = dosing_ready_session(starts_at=datetime(2026, 3, 5, 9, 0, tzinfo=NEW_YORK))
    (row,) = planned(client=session.client)
    assert f"https://clinic.example.org/portal/prepare/{session.pk}/" in row.text
    assert not CLINICAL.search(row.subject + row.text)


def test_each_of_the_clinics_days_gets_its_reminder(client_record, settings):
    settings.APPOINTMENT_REMINDER_DAYS = [3, 1]
    book(client_record, datetime(2026, 3, 9, 11, 0, tzinfo=NEW_YORK))
    assert [row.not_before.astimezone(NEW_YORK) for row in planned()] == [
        datetime(2026, 3, 6, 10, 0, tzinfo=NEW_YORK),
        datetime(2026, 3, 8, 10, 0, tzinfo=NEW_YORK),
    ]


def test_a_reminder_inside_the_quiet_hours_moves_to_their_end(client_record, settings):
    settings.REMINDER_SEND_HOUR = 22  # quiet from 21 to 8
    book(client_record, datetime(2026, 3, 5, 14, 0, tzinfo=NEW_YORK))
    (row,) = planned()
    assert row.not_before == datetime(2026, 3, 5, 8, 0, tzinfo=NEW_YORK)


def test_no_reminder_whose_time_has_passed_or_that_would_come_too_late(client_record, settings):
    # Tomorrow at 9:00: the day-before reminder (today 10:00) is still to come.
    book(client_record, datetime(2026, 3, 3, 12, 0, tzinfo=NEW_YORK))
    assert len(planned()) == 1
    # Booked at 9:00 today for later today: the day before has passed (the confirmation says it).
    book(client_record, datetime(2026, 3, 2, 15, 0, tzinfo=NEW_YORK))
    # A session at 8:30 with the reminder moved out of the quiet hours to 8:00: too late.
    settings.REMINDER_SEND_HOUR = 22
    book(client_record, datetime(2026, 3, 4, 8, 30, tzinfo=NEW_YORK))
    assert len(planned()) == 1


def test_across_the_change_to_summer_time_the_reminder_keeps_the_local_hour(client_record):
    # Daylight saving time starts in New York on Sunday 8 March 2026 at 2:00.
    session = book(client_record, datetime(2026, 3, 9, 11, 0, tzinfo=NEW_YORK))
    (row,) = planned()
    local = row.not_before.astimezone(NEW_YORK)
    assert (local.date(), local.hour, local.utcoffset()) == (
        datetime(2026, 3, 8).date(),
        10,
        timedelta(hours=-4),
    )
    assert session.starts_at.astimezone(NEW_YORK).utcoffset() == timedelta(hours=-4)


def test_the_clinic_or_the_client_can_turn_them_off(client_record, settings):
    settings.APPOINTMENT_REMINDERS = False
    book(client_record, datetime(2026, 3, 5, 14, 0, tzinfo=NEW_YORK))
    assert planned() == []
    settings.APPOINTMENT_REMINDERS = True
    reminder_choice.reminders_set(
        client=client_record, wanted=False, via=ReminderChoiceVia.PORTAL, by=client_record.user
    )
    client_record.refresh_from_db()
    book(client_record, datetime(2026, 3, 6, 14, 0, tzinfo=NEW_YORK))
    assert planned() == []


def test_a_reschedule_moves_the_reminder_and_a_cancellation_cancels_it(client_record):
    session = book(client_record, datetime(2026, 3, 5, 14, 0, tzinfo=NEW_YORK))
    (first,) = planned()
    moved = session_reschedule(
        session=session,
        starts_at=datetime(2026, 3, 10, 14, 0, tzinfo=NEW_YORK),
        by=client_record.primary_therapist,
    )
    first.refresh_from_db()
    assert first.status == MessageStatus.CANCELLED
    (second,) = planned(status=MessageStatus.PENDING)
    assert second.not_before == datetime(2026, 3, 9, 10, 0, tzinfo=NEW_YORK)
    assert second.expires_at == moved.starts_at - timedelta(hours=1)
    session_cancel(session=moved, reason="Client unwell", by=client_record.primary_therapist)
    second.refresh_from_db()
    assert second.status == MessageStatus.CANCELLED
    assert second.cancelled_reason == "The session was cancelled."


def test_the_outbox_asks_again_before_sending(client_record):
    """A change that bypassed the services (a bulk update): the dispatcher's check (registered in
    sessions.apps) stops the reminder of a session no longer booked, or no longer at that time."""
    held = book(client_record, datetime(2026, 3, 5, 14, 0, tzinfo=NEW_YORK))
    moved = book(client_record, datetime(2026, 3, 5, 16, 0, tzinfo=NEW_YORK))
    going = book(client_record, datetime(2026, 3, 5, 18, 0, tzinfo=NEW_YORK))
    Session.objects.filter(pk=held.pk).update(status=SessionStatus.NO_SHOW)
    Session.objects.filter(pk=moved.pk).update(
        starts_at=moved.starts_at + timedelta(minutes=30),
        ends_at=moved.ends_at + timedelta(minutes=30),
    )
    confirmations_sent()
    with time_machine.travel(datetime(2026, 3, 4, 10, 0, 30, tzinfo=NEW_YORK), tick=False):
        result = send_outbox()
    assert (result.sent, result.cancelled) == (1, 2)
    reasons = {reminders.session_of(row): row.cancelled_reason for row in planned()}
    assert reasons == {
        held.pk: "The session is no-show.",
        moved.pk: "The session was moved: a new reminder replaces it.",
        going.pk: "",
    }


def test_a_reminder_delayed_past_the_session_start_is_never_sent(client_record):
    book(client_record, datetime(2026, 3, 5, 14, 0, tzinfo=NEW_YORK))
    # The mail server was down from the send time until after the session started.
    with time_machine.travel(datetime(2026, 3, 5, 14, 5, tzinfo=NEW_YORK), tick=False):
        result = send_outbox()
    assert result.sent == 0
    (row,) = planned()
    assert row.status == MessageStatus.CANCELLED
    assert mail.outbox == []


def test_turning_reminders_off_stops_those_already_planned(client_record):
    book(client_record, datetime(2026, 3, 5, 14, 0, tzinfo=NEW_YORK))
    reminder_choice.reminders_set(client=client_record, wanted=False, via=ReminderChoiceVia.EMAIL)
    # At once (sessions.receivers), not only when it would have gone.
    (row,) = planned()
    assert row.status == MessageStatus.CANCELLED
    assert row.cancelled_reason == reminder_choice.TURNED_OFF
    with time_machine.travel(datetime(2026, 3, 4, 10, 0, 30, tzinfo=NEW_YORK), tick=False):
        send_outbox()
    # The booking's confirmation was sent all the same: it is not a reminder.
    assert [email.subject for email in mail.outbox] == ["Your appointment on Thursday, March 5"]


def test_the_planning_costs_a_fixed_number_of_queries(client_record, settings):
    """The same statements for one reminder day or three: the cancellation of what it replaces
    (read, update, audit) and one INSERT of the reminders and one of their audit entries."""
    counts = []
    for days, hour in (([1], 14), ([1, 2, 3], 16)):
        settings.APPOINTMENT_REMINDER_DAYS = days
        session = book(client_record, datetime(2026, 3, 9, hour, 0, tzinfo=NEW_YORK))
        session = Session.objects.select_related("client", "therapist", "course").get(pk=session.pk)
        with CaptureQueriesContext(connection) as queries:
            made = reminders.reminders_plan(session=session, now=timezone.now())
        assert len(made) == len(days)
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_a_change_of_the_clients_address_or_choice_plans_their_reminders_again(client_record):
    """sessions.receivers: the reminders follow the record, not the record at the booking."""
    reminder_choice.reminders_set(client=client_record, wanted=False, via=ReminderChoiceVia.EMAIL)
    client_record.refresh_from_db()
    book(client_record, datetime(2026, 3, 5, 14, 0, tzinfo=NEW_YORK))
    assert planned() == []
    reminder_choice.reminders_set(
        client=client_record, wanted=True, via=ReminderChoiceVia.PORTAL, by=client_record.user
    )
    (row,) = planned(status=MessageStatus.PENDING)
    assert row.to == client_record.email
    client_record.refresh_from_db()
    client_record.email = "maya.new@example.org"
    client_record.save()
    (new,) = planned(status=MessageStatus.PENDING)
    assert new.to == "maya.new@example.org"
    row.refresh_from_db()
    assert row.status == MessageStatus.CANCELLED


def test_cancelled_reminders_are_in_the_audit_trail(client_record):
    session = book(client_record, datetime(2026, 3, 5, 14, 0, tzinfo=NEW_YORK))
    (row,) = planned()
    session_cancel(session=session, reason="Client unwell", by=client_record.primary_therapist)
    entry = LogEntry.objects.get_for_object(row).filter(action=LogEntry.Action.UPDATE).get()
    assert entry.changes_dict["status"] == ["pending", "cancelled"]


def test_a_dosing_session_of_a_course_on_hold_gets_no_reminder(settings):
    session = dosing_ready_session(starts_at=datetime(2026, 3, 5, 9, 0, tzinfo=NEW_YORK))
    assert len(planned(client=session.client)) == 1
    course_advance(
        course=session.course, to_phase="on_hold", by=session.therapist, reason="Travelling"
    )
    with time_machine.travel(datetime(2026, 3, 4, 10, 0, 30, tzinfo=NEW_YORK), tick=False):
        send_outbox()
    (row,) = planned(client=session.client)
    assert row.cancelled_reason == "The course is on hold."
