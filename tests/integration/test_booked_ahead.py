"""R7, R8: a booked, not-yet-held integration session after the dose is named in the reminder
(its day and time), however it came to be on the calendar. The link an integration session gets
at booking (``follows_dose``) names the dosing session on the calendar then, so it was missing or
wrong when the integration session was booked before its dosing session, or when that dosing
session was cancelled, or its dose deferred, and the dose given in another one: the reminder then
asked the client to book a session they had. All through the real booking and charting
services."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine

from integration.dispatch import dispatch_due, integrations_of
from integration.models import ReminderStatus
from sessions.dosing import services as dosing
from sessions.models import Session, SessionKind, SessionStatus
from sessions.scheduling.services import session_cancel, session_mark, session_schedule
from tests.factories_sessions import course_ready_for_dosing, dosing_ready_session
from tests.integration.reminder_helpers import (
    CLINIC_TZ,
    DOSE_DAY,
    GIVEN_AT,
    client_rows,
    record_dose,
    therapist_row,
)
from tests.sessions.dosing_helpers import give_dose, prepare

pytestmark = pytest.mark.django_db


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """``day`` days after the dose day, at ``hour``:``minute`` clinic time."""
    return datetime.combine(
        DOSE_DAY.date() + timedelta(days=day), datetime.min.time(), tzinfo=CLINIC_TZ
    ).replace(hour=hour, minute=minute)


def book(client, kind: str, starts_at: datetime) -> Session:
    return session_schedule(
        client=client,
        kind=kind,
        starts_at=starts_at,
        by=client.primary_therapist,
        location="Room 2",
    )


def send(moment: datetime):
    with time_machine.travel(moment, tick=False):
        return dispatch_due(now=moment)


def client_mails(mailoutbox, client) -> list:
    return [email for email in mailoutbox if email.to == [client.email]]


def assert_named(mailoutbox, client, day_text: str) -> None:
    """Every reminder the client got names the booked session, none asks them to book."""
    mails = client_mails(mailoutbox, client)
    assert mails
    for email in mails:
        assert "please book" not in email.subject.lower()
        assert day_text in email.body


def test_the_issue_booked_before_the_dosing_session_named_on_day_3(client_record, mailoutbox):
    """The report: on day 3 the reminder said "please book your next session" although the
    integration session was booked for the next day. It had been booked before the dosing
    session, so it followed no dose."""
    with time_machine.travel(DOSE_DAY - timedelta(days=3), tick=False):
        course_ready_for_dosing(client_record)
        integration = book(client_record, SessionKind.INTEGRATION, at(4, 15))
        dosing_session = book(client_record, SessionKind.DOSING, DOSE_DAY)
    assert integration.follows_dose is None
    with time_machine.travel(GIVEN_AT, tick=False):
        dose = give_dose(dosing_session, at=GIVEN_AT)
    for day in (1, 2, 3):
        send(at(day, 10, 1))
    assert [(row.status, row.variant) for row in client_rows(dose)] == [
        (ReminderStatus.SENT, "booked")
    ] * 3
    # Sunday, March 16, 2025 at 3:00 PM: the day after day 3.
    assert_named(mailoutbox, client_record, "Sunday, March 16 at 3:00 PM")
    # R8: nor was the therapist alerted that nothing was booked.
    assert therapist_row(dose).status == ReminderStatus.CANCELLED


def test_booked_for_a_dosing_session_since_cancelled_and_rebooked(client_record, mailoutbox):
    with time_machine.travel(DOSE_DAY - timedelta(days=3), tick=False):
        first = dosing_ready_session(client_record, starts_at=DOSE_DAY - timedelta(days=1))
        integration = book(client_record, SessionKind.INTEGRATION, at(2, 15))
        session_cancel(session=first, reason="The chaperone cannot come.", by=first.therapist)
        second = book(client_record, SessionKind.DOSING, DOSE_DAY)
    assert integration.follows_dose == first
    with time_machine.travel(GIVEN_AT, tick=False):
        dose = give_dose(second, at=GIVEN_AT)
    send(at(1, 10, 1))
    assert client_rows(dose).get(day=1).variant == "booked"
    assert_named(mailoutbox, client_record, "Friday, March 14 at 3:00 PM")


def test_booked_for_a_dose_deferred_then_given_the_next_day(client_record, mailoutbox):
    deferred_day = DOSE_DAY - timedelta(days=1)
    with time_machine.travel(deferred_day - timedelta(days=2), tick=False):
        first = dosing_ready_session(client_record, starts_at=deferred_day)
        book(client_record, SessionKind.INTEGRATION, at(2, 15))
    with time_machine.travel(deferred_day, tick=False):
        prepare(first, now=deferred_day)
        dosing.chart_defer(
            session=first, by=first.therapist, note="Unwell.", now=deferred_day + timedelta(1 / 24)
        )
        second = book(client_record, SessionKind.DOSING, DOSE_DAY)
    with time_machine.travel(GIVEN_AT, tick=False):
        dose = give_dose(second, at=GIVEN_AT)
    send(at(1, 10, 1))
    assert client_rows(dose).get(day=1).variant == "booked"
    assert_named(mailoutbox, client_record, "Friday, March 14 at 3:00 PM")


def test_a_session_held_counts_however_it_was_linked(client_record, mailoutbox):
    """R8: the reminders stop once the integration session has happened."""
    with time_machine.travel(DOSE_DAY - timedelta(days=3), tick=False):
        course_ready_for_dosing(client_record)
        integration = book(client_record, SessionKind.INTEGRATION, at(1, 15))
        dosing_session = book(client_record, SessionKind.DOSING, DOSE_DAY)
    with time_machine.travel(GIVEN_AT, tick=False):
        dose = give_dose(dosing_session, at=GIVEN_AT)
    with time_machine.travel(at(1, 16), tick=False):
        session_mark(session=integration, status=SessionStatus.COMPLETED, by=integration.therapist)
    send(at(2, 10, 1))
    day_two = client_rows(dose).get(day=2)
    assert day_two.status == ReminderStatus.CANCELLED
    assert day_two.cancelled_reason == "The integration session took place."


def test_the_next_doses_integration_session_is_not_this_doses(client_record, mailoutbox):
    """The time rule stops at the course's next dosing session: a session booked after the next
    dose is that dose's, and this dose's reminder still asks to book."""
    dose = record_dose(client_record)
    with time_machine.travel(GIVEN_AT + timedelta(hours=1), tick=False):
        session_schedule(
            client=client_record,
            kind=SessionKind.DOSING,
            starts_at=DOSE_DAY + timedelta(days=14),
            by=client_record.primary_therapist,
            acknowledge_integration=True,  # R7: booked with no integration session yet
        )
        later = book(client_record, SessionKind.INTEGRATION, at(15, 15))
    assert later.follows_dose.starts_at == DOSE_DAY + timedelta(days=14)
    assert integrations_of(client_rows(dose).first()) == []
    send(at(1, 10, 1))
    assert client_rows(dose).get(day=1).variant == "not_booked"


def test_the_integration_sessions_of_a_dose_are_one_query(client_record, django_assert_num_queries):
    with time_machine.travel(DOSE_DAY - timedelta(days=3), tick=False):
        course_ready_for_dosing(client_record)
        ahead = book(client_record, SessionKind.INTEGRATION, at(1, 15))
        dosing_session = book(client_record, SessionKind.DOSING, DOSE_DAY)
    with time_machine.travel(GIVEN_AT, tick=False):
        dose = give_dose(dosing_session, at=GIVEN_AT)
        linked = book(client_record, SessionKind.INTEGRATION, at(3, 15))
    reminder = client_rows(dose).select_related("dose").first()
    with django_assert_num_queries(1):
        found = integrations_of(reminder)
    assert found == [ahead, linked]
