"""Scheduling services (R2, R3, R6, R7, R9): no double booking (the service names the clash; on
PostgreSQL the exclusion constraint refuses it on its own), the dosing gates when a dosing session
is booked or moved, the R7 acknowledgement, the default lengths."""

from __future__ import annotations

import re
import threading
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from patients.courses.services import course_advance, course_open
from patients.models import Phase, Referral
from sessions.models import Session, SessionKind, SessionStatus
from sessions.scheduling.services import (
    IntegrationWarning,
    SessionError,
    session_cancel,
    session_mark,
    session_reschedule,
    session_schedule,
)
from tests.factories import ClientFactory
from tests.factories_referrals import ReferralFactory
from tests.factories_sessions import SessionFactory, course_ready_for_dosing, dose_given

# Monday, March 2, 2026, 9:00 in the clinic's zone: "today" for every test here.
TODAY = date(2026, 3, 2)


@pytest.fixture(autouse=True)
def _frozen_clock(db):
    moment = timezone.make_aware(datetime(2026, 3, 2, 9, 0))
    with time_machine.travel(moment, tick=False):
        yield


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """An aware datetime in the clinic's zone."""
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour, minute))


def book(client, kind=SessionKind.PREPARATION, *, when, **kwargs) -> Session:
    return session_schedule(
        client=client, kind=kind, starts_at=when, by=client.primary_therapist, **kwargs
    )


@pytest.fixture
def course(client_record):
    course, _prescription = course_ready_for_dosing(client_record)
    return course


# --- Double booking -----------------------------------------------------------------------------


def test_double_booking_is_refused_with_a_message_naming_the_clash(
    course, client_record, therapist
):
    other = ClientFactory(primary_therapist=therapist, first_name="Lee", last_name="Wong")
    book(other, SessionKind.GENERAL, when=at(date(2026, 3, 3), 10))
    with pytest.raises(SessionError) as refused:
        book(client_record, when=at(date(2026, 3, 3), 10, 30))
    message = str(refused.value)
    assert "Sam Rivera already has a psychotherapy session with Lee Wong" in message
    assert "Tue Mar 3, 10:00 AM–10:50 AM" in message
    assert not Session.objects.filter(client=client_record, starts_at__date=date(2026, 3, 3))


def test_back_to_back_sessions_are_allowed(course, client_record, therapist):
    first = book(client_record, when=at(date(2026, 3, 3), 10))
    assert first.ends_at == at(date(2026, 3, 3), 10, 50)

    second = book(
        ClientFactory(primary_therapist=therapist), SessionKind.GENERAL, when=first.ends_at
    )
    assert second.starts_at == at(date(2026, 3, 3), 10, 50)
    assert second.ends_at == at(date(2026, 3, 3), 11, 40)


def test_a_client_is_not_booked_twice_at_once_with_two_therapists(
    course, client_record, other_therapist
):
    book(client_record, when=at(date(2026, 3, 3), 10))
    with pytest.raises(SessionError, match="Maya Patel already has a preparation session with Sam"):
        session_schedule(
            client=client_record,
            kind=SessionKind.PREPARATION,
            starts_at=at(date(2026, 3, 3), 10, 20),
            by=client_record.primary_therapist,
            therapist=other_therapist,
        )


def test_a_cancelled_session_frees_its_slot(course, client_record, therapist):
    first = book(client_record, when=at(date(2026, 3, 3), 10))
    session_cancel(session=first, reason="Client unwell", by=therapist)
    again = book(client_record, when=at(date(2026, 3, 3), 10))
    assert again.pk != first.pk
    first.refresh_from_db()
    assert (first.status, first.cancel_reason) == (SessionStatus.CANCELLED, "Client unwell")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL exclusion constraint")
def test_the_database_refuses_an_overlapping_row_on_its_own(client_record, therapist):
    first = SessionFactory(client=client_record, starts_at=at(date(2026, 3, 3), 10))
    with pytest.raises(IntegrityError, match="session_no_double_booking"), transaction.atomic():
        Session.objects.create(
            client=client_record,
            course=first.course,
            therapist=therapist,
            kind=SessionKind.PREPARATION,
            starts_at=at(date(2026, 3, 3), 10, 49),
            ends_at=at(date(2026, 3, 3), 11, 39),
            created_by=therapist,
        )
    # Back to back is fine for the constraint too ([start, end) ranges).
    Session.objects.create(
        client=client_record,
        course=first.course,
        therapist=therapist,
        kind=SessionKind.PREPARATION,
        starts_at=at(date(2026, 3, 3), 10, 50),
        ends_at=at(date(2026, 3, 3), 11, 40),
        created_by=therapist,
    )


def test_the_database_refuses_a_session_over_8_hours(client_record):
    """The calendar's overlap query bounds a session's start by the longest one there can be
    (Session.objects.overlapping): a longer row would fall off the calendar, so none exists."""
    session = SessionFactory(client=client_record, starts_at=at(date(2026, 3, 3), 9))
    rows = Session.objects.filter(pk=session.pk)
    with pytest.raises(IntegrityError, match="session_at_most_8_hours"), transaction.atomic():
        rows.update(ends_at=session.starts_at + timedelta(hours=8, minutes=1))
    rows.update(ends_at=session.starts_at + timedelta(hours=8))  # 8 hours is the most


def test_overlapping_finds_a_long_session_that_started_hours_earlier(client_record):
    long = SessionFactory(client=client_record, starts_at=at(date(2026, 3, 3), 8))
    Session.objects.filter(pk=long.pk).update(ends_at=long.starts_at + timedelta(hours=8))
    found = Session.objects.overlapping(at(date(2026, 3, 3), 15, 59), at(date(2026, 3, 3), 17))
    assert list(found) == [long]
    assert not Session.objects.overlapping(at(date(2026, 3, 3), 16), at(date(2026, 3, 3), 17))


def test_a_reschedule_onto_another_session_is_refused(course, client_record):
    first = book(client_record, when=at(date(2026, 3, 3), 10))
    second = book(client_record, when=at(date(2026, 3, 3), 14))
    with pytest.raises(SessionError, match="already has a preparation session"):
        session_reschedule(
            session=second,
            starts_at=at(date(2026, 3, 3), 10, 30),
            by=client_record.primary_therapist,
        )
    # Moving a session onto its own time (a longer length) is not a clash with itself.
    moved = session_reschedule(
        session=first, starts_at=first.starts_at, minutes=60, by=client_record.primary_therapist
    )
    assert moved.minutes == 60


# --- Default lengths (R9) -----------------------------------------------------------------------


def test_default_lengths(course, client_record):
    dosing = book(client_record, SessionKind.DOSING, when=at(date(2026, 3, 4), 9))
    prep = book(client_record, when=at(date(2026, 3, 5), 9))
    integration = book(client_record, SessionKind.INTEGRATION, when=at(date(2026, 3, 6), 9))
    general = book(client_record, SessionKind.GENERAL, when=at(date(2026, 3, 6), 13))
    assert dosing.minutes == 180
    assert (prep.minutes, integration.minutes, general.minutes) == (50, 50, 50)
    assert general.course is None
    assert prep.course == course


# --- R2 preparation -----------------------------------------------------------------------------


def test_r2_fewer_than_three_completed_preparation_sessions_refused(client_record):
    course_ready_for_dosing(client_record, prep_done=2)
    with pytest.raises(
        SessionError, match=r"at least 3 completed preparation sessions \(2 so far\)"
    ):
        book(client_record, SessionKind.DOSING, when=at(date(2026, 3, 4), 9))
    assert not Session.objects.filter(kind=SessionKind.DOSING).exists()


def test_r2_a_scheduled_or_cancelled_preparation_session_does_not_count(client_record):
    course, _ = course_ready_for_dosing(client_record, prep_done=2)
    SessionFactory(client=client_record, course=course, starts_at=at(date(2026, 3, 3), 9))
    with pytest.raises(SessionError, match=r"\(2 so far\)"):
        book(client_record, SessionKind.DOSING, when=at(date(2026, 3, 4), 9))


def test_r2_the_refusal_points_at_past_preparation_sessions_not_marked_yet(client_record):
    course, _ = course_ready_for_dosing(client_record, prep_done=2)
    SessionFactory(client=client_record, course=course, starts_at=at(date(2026, 2, 27), 9))
    with pytest.raises(SessionError, match="1 past preparation session is not marked yet"):
        book(client_record, SessionKind.DOSING, when=at(date(2026, 3, 4), 9))


def test_r2_exactly_three_is_enough(client_record):
    course_ready_for_dosing(client_record, prep_done=3)
    session = book(client_record, SessionKind.DOSING, when=at(date(2026, 3, 4), 9))
    assert session.kind == SessionKind.DOSING


# --- R3 referral and prescription ---------------------------------------------------------------


def test_r3_no_approved_referral_refused(client_record, therapist):
    # A course in preparation whose client has no approved referral (the phase forced here: the
    # course services refuse to reach preparation without one): the booking gate says R3.
    course = course_open(client=client_record, by=therapist)
    course.phase = Phase.PREPARATION
    course.save()
    for n in range(3):
        SessionFactory(
            client=client_record,
            status=SessionStatus.COMPLETED,
            starts_at=at(date(2026, 2, 2), 9) + timedelta(days=n),
        )
    with pytest.raises(SessionError, match="no approved referral with a prescription on file"):
        book(client_record, SessionKind.DOSING, when=at(date(2026, 3, 4), 9))


def test_r3_a_referral_without_a_prescription_refused(client_record, therapist):
    course_ready_for_dosing(client_record)
    # The prescription is withdrawn from the record (superseded with nothing in force).
    client_record.prescriptions.update(superseded_at=timezone.now())
    ReferralFactory(client=client_record, status=Referral.Status.APPROVED)
    with pytest.raises(SessionError, match="no approved referral with a prescription on file"):
        book(client_record, SessionKind.DOSING, when=at(date(2026, 3, 4), 9))


def test_r3_prescription_expired_on_the_dosing_date_refused(client_record):
    course_ready_for_dosing(client_record, valid_until=date(2026, 3, 9))
    with pytest.raises(SessionError, match="The prescription expired on Mar 9, 2026"):
        book(client_record, SessionKind.DOSING, when=at(date(2026, 3, 10), 9))


def test_r3_prescription_valid_on_its_last_day(client_record):
    course_ready_for_dosing(client_record, valid_until=date(2026, 3, 10))
    assert book(client_record, SessionKind.DOSING, when=at(date(2026, 3, 10), 9)).pk


def test_r3_all_doses_used_refused(client_record):
    _course, prescription = course_ready_for_dosing(client_record, doses_authorised=1)
    dosing = book(client_record, SessionKind.DOSING, when=at(date(2026, 2, 2), 9))
    dose_given(dosing, prescription=prescription)
    with pytest.raises(SessionError, match="All 1 authorised doses have been used"):
        book(client_record, SessionKind.DOSING, when=at(date(2026, 3, 4), 9))


def test_r3_booked_sessions_count_against_the_doses_left(client_record):
    course_ready_for_dosing(client_record, doses_authorised=1)
    book(client_record, SessionKind.DOSING, when=at(date(2026, 3, 4), 9))
    with pytest.raises(SessionError, match="1 more is already scheduled"):
        book(client_record, SessionKind.DOSING, when=at(date(2026, 3, 25), 9))


# --- R6 interval --------------------------------------------------------------------------------


def test_r6_thirteen_days_after_a_dose_refused_fourteen_ok(client_record):
    _course, prescription = course_ready_for_dosing(client_record, min_days_between_doses=14)
    first = book(client_record, SessionKind.DOSING, when=at(date(2026, 2, 16), 12))
    dose_given(first, prescription=prescription)
    book(client_record, SessionKind.INTEGRATION, when=at(date(2026, 2, 17), 9))
    session_mark(
        session=Session.objects.get(kind=SessionKind.INTEGRATION),
        status=SessionStatus.COMPLETED,
        by=client_record.primary_therapist,
    )
    with pytest.raises(SessionError, match="next one can be on Mar 2, 2026 or later"):
        book(client_record, SessionKind.DOSING, when=at(date(2026, 3, 1), 12))
    assert book(client_record, SessionKind.DOSING, when=at(date(2026, 3, 2), 12)).pk


def test_r6_a_dose_booked_before_an_already_booked_one_keeps_the_interval(client_record):
    course_ready_for_dosing(client_record, min_days_between_doses=14)
    book(client_record, SessionKind.DOSING, when=at(date(2026, 3, 30), 9))
    with pytest.raises(SessionError, match="must be on Mar 16, 2026 or earlier"):
        book(client_record, SessionKind.DOSING, when=at(date(2026, 3, 17), 9))
    assert book(client_record, SessionKind.DOSING, when=at(date(2026, 3, 16), 9)).pk


def test_r6_a_reschedule_is_checked_against_the_other_doses(client_record):
    course_ready_for_dosing(client_record, min_days_between_doses=14)
    first = book(client_record, SessionKind.DOSING, when=at(date(2026, 3, 4), 9))
    book(client_record, SessionKind.DOSING, when=at(date(2026, 3, 18), 9))
    with pytest.raises(SessionError, match="Doses must be at least 14 days apart"):
        session_reschedule(
            session=first, starts_at=at(date(2026, 3, 5), 9), by=client_record.primary_therapist
        )
    first.refresh_from_db()
    assert first.starts_at == at(date(2026, 3, 4), 9)


def _dose_in_a_closed_course(client, *, on: date, therapist):
    """A dose given on ``on`` in a course that is then discontinued; returns the prescription."""
    old, prescription = course_ready_for_dosing(client, min_days_between_doses=14)
    dosing = SessionFactory(client=client, course=old, kind=SessionKind.DOSING, starts_at=at(on, 9))
    dose_given(dosing, prescription=prescription)
    course_advance(course=old, to_phase=Phase.DISCONTINUED, by=therapist, reason="Moved away")
    return prescription


def test_r6_counts_the_dose_of_an_earlier_course(client_record, therapist):
    # A dose 7 days ago in a discontinued course; a new course (new referral and prescription)
    # does not restart the interval: R6 is about the client's previous dose.
    _dose_in_a_closed_course(client_record, on=date(2026, 2, 24), therapist=therapist)
    course_ready_for_dosing(
        client_record, min_days_between_doses=14, prep_earlier=timedelta(hours=2)
    )
    with pytest.raises(SessionError, match="next one can be on Mar 10, 2026 or later"):
        book(client_record, SessionKind.DOSING, when=at(date(2026, 3, 4), 12))
    assert book(client_record, SessionKind.DOSING, when=at(date(2026, 3, 10), 12)).pk


# --- R7 integration warning ---------------------------------------------------------------------


def test_r7_warning_then_booked_with_the_acknowledgement_recorded(client_record, therapist):
    _course, prescription = course_ready_for_dosing(client_record)
    first = book(client_record, SessionKind.DOSING, when=at(date(2026, 2, 2), 9))
    dose_given(first, prescription=prescription)
    with pytest.raises(IntegrationWarning, match="has not had an integration session since"):
        book(client_record, SessionKind.DOSING, when=at(date(2026, 3, 4), 9))
    assert Session.objects.filter(kind=SessionKind.DOSING).count() == 1
    session = book(
        client_record,
        SessionKind.DOSING,
        when=at(date(2026, 3, 4), 9),
        acknowledge_integration=True,
    )
    assert session.integration_warning_acknowledged_by == therapist
    assert session.integration_warning_acknowledged_at == timezone.now()


def test_r7_no_warning_after_a_completed_integration_session(client_record):
    _course, prescription = course_ready_for_dosing(client_record)
    first = book(client_record, SessionKind.DOSING, when=at(date(2026, 2, 2), 9))
    dose_given(first, prescription=prescription)
    integration = book(client_record, SessionKind.INTEGRATION, when=at(date(2026, 2, 4), 9))
    assert integration.follows_dose == first
    session_mark(
        session=integration, status=SessionStatus.COMPLETED, by=client_record.primary_therapist
    )
    session = book(client_record, SessionKind.DOSING, when=at(date(2026, 3, 4), 9))
    assert session.integration_warning_acknowledged_by is None


# --- Other rules of the services ----------------------------------------------------------------


def test_a_session_is_marked_only_once_it_has_started(course, client_record, therapist):
    later = book(client_record, when=at(date(2026, 3, 3), 10))
    with pytest.raises(SessionError, match="once it has started"):
        session_mark(session=later, status=SessionStatus.COMPLETED, by=therapist)


def test_a_dosing_session_is_not_marked_completed_by_hand(client_record, therapist):
    course_ready_for_dosing(client_record)
    dosing = book(client_record, SessionKind.DOSING, when=at(date(2026, 3, 2), 8))
    with pytest.raises(SessionError, match="completed from its dosing chart"):
        session_mark(session=dosing, status=SessionStatus.COMPLETED, by=therapist)
    assert session_mark(session=dosing, status=SessionStatus.NO_SHOW, by=therapist).status == (
        SessionStatus.NO_SHOW
    )


def test_another_therapist_cannot_book_for_a_client_not_theirs(
    course, client_record, other_therapist
):
    with pytest.raises(SessionError, match="cannot change this client's sessions"):
        session_schedule(
            client=client_record,
            kind=SessionKind.PREPARATION,
            starts_at=at(date(2026, 3, 3), 10),
            by=other_therapist,
        )


def test_a_kap_session_needs_an_active_course(client_record):
    with pytest.raises(SessionError, match="has no active treatment course"):
        book(client_record, when=at(date(2026, 3, 3), 10))
    assert book(client_record, SessionKind.GENERAL, when=at(date(2026, 3, 3), 10)).course is None


@pytest.mark.parametrize("phase", [Phase.INTAKE, Phase.REFERRAL])
def test_r1_no_dosing_session_before_the_course_reaches_preparation(client_record, phase):
    # Even with the referral approved and enough preparation sessions held: the order is R1's.
    course, _ = course_ready_for_dosing(client_record)
    course.phase = phase
    course.save()
    with pytest.raises(SessionError, match=r"can be booked once the course is in preparation"):
        book(client_record, SessionKind.DOSING, when=at(date(2026, 3, 4), 9))
    assert not Session.objects.filter(kind=SessionKind.DOSING).exists()


def test_no_dosing_session_while_the_course_is_on_hold(client_record, therapist):
    course, _ = course_ready_for_dosing(client_record)
    course_advance(course=course, to_phase=Phase.ON_HOLD, by=therapist, reason="Travelling")
    with pytest.raises(SessionError, match="on hold"):
        book(client_record, SessionKind.DOSING, when=at(date(2026, 3, 4), 9))


@pytest.mark.django_db(transaction=True)
def test_two_bookings_at_the_same_moment_one_is_refused_cleanly(therapist):
    """Two receptionists book the therapist's same hour at once. One booking is saved, the other
    refused with the clash named; never a server error. On SQLite (`make run`) the second writer
    used to fail with "database is locked" (now: IMMEDIATE transactions and a busy timeout, and
    the service's clash check sees the first booking); on PostgreSQL the exclusion constraint
    backs the check up."""
    clients = [ClientFactory(primary_therapist=therapist) for _ in range(2)]
    start = threading.Barrier(2)
    outcomes: list[object] = []

    def book_at_once(record) -> None:
        try:
            start.wait(timeout=10)
            outcomes.append(book(record, SessionKind.GENERAL, when=at(date(2026, 3, 4), 11)))
        except Exception as error:  # the assertion below names it
            outcomes.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=book_at_once, args=(record,)) for record in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    saved = [o for o in outcomes if isinstance(o, Session)]
    refused = [o for o in outcomes if isinstance(o, SessionError)]
    assert (len(saved), len(refused)) == (1, 1), outcomes
    # The service's clash check names the other session; PostgreSQL's constraint, when the two
    # checks ran at the same instant, says it more plainly.
    assert re.match(r"Sam Rivera already has a (psychotherapy )?session", str(refused[0]))
    assert Session.objects.filter(therapist=therapist).count() == 1
