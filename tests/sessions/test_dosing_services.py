"""The dosing-chart services on real PostgreSQL, every gate at its boundary (R1, R3, R6, R10-R16,
R20), and the database's own dose gate (the trigger of migration 0002)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction

from patients.courses.services import course_advance
from patients.models import CourseTransition, Phase, Prescription
from patients.referrals import services as referral_services
from sessions import signals
from sessions.dosing import services as dosing
from sessions.dosing.selectors import chart_state, session_for_chart
from sessions.dosing.services import DosingError, PreparationIncomplete
from sessions.models import (
    BloodPressureReading,
    DoseAdministration,
    DosingChart,
    PrescriberNotice,
    Session,
    SessionStatus,
)
from sessions.scheduling.services import SessionError, session_cancel, session_schedule
from tests import factories
from tests.factories_sessions import SessionFactory, course_ready_for_dosing, dosing_ready_session
from tests.patients.questionnaire_helpers import PHQ9_CALM, PHQ9_ITEM9, submit
from tests.sessions.dosing_helpers import MORNING, give_dose, prepare

# The chart is prepared at 9:10 and the pre-dose reading taken from 9:15 on the session's day.
PREPARED = MORNING + timedelta(minutes=10)
T0 = MORNING + timedelta(minutes=15)


@pytest.fixture
def clock():
    with time_machine.travel(MORNING, tick=False) as traveller:
        yield traveller


@pytest.fixture
def session(clock, client_record):
    """A dosing session at 9:00 on Mar 12, 2025 for Maya Patel (therapist Sam Rivera): intake,
    approved referral with a 100 mg x 1 tablet, 6-dose, 14-day prescription, three completed
    preparation sessions, course in preparation."""
    return dosing_ready_session(client_record)


@pytest.fixture
def prepared(session):
    prepare(session, now=PREPARED)
    return session


def bp(session, systolic, diastolic, *, at, moment="pre_dose", pulse=72, now=None):
    return dosing.bp_record(
        session=session,
        by=session.therapist,
        moment=moment,
        systolic=systolic,
        diastolic=diastolic,
        pulse=pulse,
        taken_at=at,
        now=now or at,
    )


def dose(session, *, at, now=None, **fields):
    values = {"dose_mg": 100, "tablets": 1} | fields
    return dosing.dose_record(
        session=session, by=session.therapist, given_at=at, now=now or at, **values
    )


def state(session, *, now):
    """The chart page's view of ``session`` (fetched afresh, as the page does)."""
    fresh = session_for_chart(client=session.client, session_id=session.pk)
    return chart_state(session=fresh, now=now)


def chart(session) -> DosingChart:
    return DosingChart.objects.get(session=session)


# --- R16: physiological limits on entry ----------------------------------------------------------


@pytest.mark.parametrize(
    ("systolic", "diastolic", "pulse", "message"),
    [
        (59, 40, 70, "Systolic must be between 60 and 260 mmHg (you entered 59)."),
        (261, 90, 70, "Systolic must be between 60 and 260 mmHg (you entered 261)."),
        (120, 29, 70, "Diastolic must be between 30 and 160 mmHg (you entered 29)."),
        (200, 161, 70, "Diastolic must be between 30 and 160 mmHg (you entered 161)."),
        (120, 80, 29, "Pulse must be between 30 and 220 beats per minute (you entered 29)."),
        (120, 80, 221, "Pulse must be between 30 and 220 beats per minute (you entered 221)."),
        (90, 90, 70, "Diastolic (90) must be lower than systolic (90)."),
    ],
)
def test_r16_impossible_readings_refused_naming_the_allowed_range(
    prepared, systolic, diastolic, pulse, message
):
    with pytest.raises(DosingError) as refused:
        bp(prepared, systolic, diastolic, pulse=pulse, at=T0)
    assert message in str(refused.value)
    assert not BloodPressureReading.objects.exists()


@pytest.mark.parametrize(("systolic", "diastolic", "pulse"), [(60, 30, 30), (260, 159, 220)])
def test_r16_readings_at_the_limits_are_recorded(prepared, systolic, diastolic, pulse):
    reading = bp(prepared, systolic, diastolic, pulse=pulse, at=T0)
    assert (reading.systolic, reading.diastolic, reading.pulse) == (systolic, diastolic, pulse)


# --- R11-R13: the pre-dose reading and its rechecks ----------------------------------------------


def test_r10_no_blood_pressure_before_the_preparation_is_done(session, clock):
    dosing.chart_open(session=session, by=session.therapist, now=PREPARED)
    with pytest.raises(DosingError, match="Complete the preparation"):
        bp(session, 120, 80, at=T0)


def test_r12_139_89_is_in_range_and_opens_the_dose(prepared):
    reading = bp(prepared, 139, 89, at=T0)
    assert reading.result == "in_range"
    shown = state(prepared, now=T0)
    assert shown.gate.state == "open"
    assert shown.phase == "administration"


@pytest.mark.parametrize(("systolic", "diastolic"), [(140, 89), (139, 90), (179, 99)])
def test_r12_high_readings_ask_for_a_recheck_and_keep_the_chart_open(prepared, systolic, diastolic):
    reading = bp(prepared, systolic, diastolic, at=T0)
    assert reading.result == "high"
    assert chart(prepared).outcome == DosingChart.Outcome.OPEN
    shown = state(prepared, now=T0)
    assert shown.gate.state == "recheck"
    assert shown.gate.next_reading_at == T0 + timedelta(minutes=5)


def test_r12_recheck_refused_before_five_minutes_accepted_at_exactly_five(prepared):
    bp(prepared, 150, 85, at=T0)
    with pytest.raises(DosingError, match="Let the client rest: the recheck can be taken from"):
        bp(prepared, 130, 80, at=T0 + timedelta(minutes=4, seconds=59))
    assert BloodPressureReading.objects.count() == 1
    recheck = bp(prepared, 130, 80, at=T0 + timedelta(minutes=5))
    assert recheck.result == "in_range"


def test_r12_recheck_wait_follows_the_clinic_setting(prepared, settings):
    settings.BP_RECHECK_WAIT_MINUTES = 10
    bp(prepared, 150, 85, at=T0)
    with pytest.raises(DosingError, match="10 minutes after the last reading"):
        bp(prepared, 130, 80, at=T0 + timedelta(minutes=9))
    bp(prepared, 130, 80, at=T0 + timedelta(minutes=10))


def test_r12_high_then_two_high_rechecks_defers_without_telling_the_prescriber(prepared):
    for n in range(3):
        bp(prepared, 150, 85, at=T0 + timedelta(minutes=5 * n))
    kept = chart(prepared)
    assert kept.outcome == DosingChart.Outcome.DEFERRED
    assert kept.deferral_reason == DosingChart.DeferralReason.BP_HIGH
    assert kept.deferred_at == T0 + timedelta(minutes=10)
    assert "after 2 rechecks" in kept.deferral_note
    prepared.refresh_from_db()
    assert prepared.status == SessionStatus.COMPLETED
    assert not PrescriberNotice.objects.exists()
    # R12: every reading is kept; the closed chart takes no more.
    assert [r.result for r in BloodPressureReading.objects.all()] == ["high"] * 3
    with pytest.raises(DosingError, match="deferred for today"):
        bp(prepared, 120, 80, at=T0 + timedelta(minutes=20))


def test_r12_high_then_one_high_recheck_still_allows_a_last_recheck(prepared):
    bp(prepared, 150, 85, at=T0)
    bp(prepared, 150, 85, at=T0 + timedelta(minutes=5))
    assert chart(prepared).outcome == DosingChart.Outcome.OPEN
    assert state(prepared, now=T0 + timedelta(minutes=5)).gate.rechecks_left == 1
    bp(prepared, 135, 85, at=T0 + timedelta(minutes=10))
    assert state(prepared, now=T0 + timedelta(minutes=10)).gate.state == "open"


@pytest.mark.parametrize(("systolic", "diastolic"), [(180, 99), (179, 100)])
def test_r13_hard_stop_defers_at_once_and_asks_to_inform_the_prescriber(
    prepared, systolic, diastolic
):
    reading = bp(prepared, systolic, diastolic, at=T0)
    assert reading.result == "hard_stop"
    kept = chart(prepared)
    assert kept.outcome == DosingChart.Outcome.DEFERRED
    assert kept.deferral_reason == DosingChart.DeferralReason.BP_HARD_STOP
    prepared.refresh_from_db()
    assert prepared.status == SessionStatus.COMPLETED
    [notice] = PrescriberNotice.objects.all()
    assert notice.session == prepared
    assert notice.done_at is None
    assert f"{systolic}/{diastolic}" in notice.reason


def test_r13_a_hard_stop_after_an_in_range_reading_defers_too(prepared):
    bp(prepared, 120, 80, at=T0)
    bp(prepared, 185, 95, at=T0 + timedelta(minutes=1))
    assert chart(prepared).deferral_reason == DosingChart.DeferralReason.BP_HARD_STOP
    assert PrescriberNotice.objects.count() == 1
    with pytest.raises(DosingError, match="deferred for today"):
        dose(prepared, at=T0 + timedelta(minutes=2))


def test_r12_r13_each_reading_keeps_the_thresholds_in_force_when_taken(prepared, settings):
    first = bp(prepared, 145, 85, at=T0)
    settings.BP_DEFER_SYSTOLIC = 150
    settings.BP_HARD_STOP_SYSTOLIC = 190
    second = bp(prepared, 145, 85, at=T0 + timedelta(minutes=5))
    first.refresh_from_db()
    assert (first.result, first.defer_systolic, first.hard_stop_systolic) == ("high", 140, 180)
    assert (second.result, second.defer_systolic, second.hard_stop_systolic) == (
        "in_range",
        150,
        190,
    )
    assert (second.defer_diastolic, second.hard_stop_diastolic) == (90, 100)


def test_r12_a_new_reading_cannot_be_earlier_than_the_last(prepared):
    bp(prepared, 120, 80, at=T0)
    with pytest.raises(DosingError, match="cannot be earlier than the last one"):
        bp(prepared, 120, 80, at=T0 - timedelta(minutes=1), now=T0)


def test_a_reading_in_the_future_is_refused(prepared):
    with pytest.raises(DosingError, match="is in the future"):
        bp(prepared, 120, 80, at=T0 + timedelta(minutes=3), now=T0)


# --- R11: the 30 minutes before the dose ---------------------------------------------------------


def test_r11_dose_at_exactly_30_minutes_after_the_reading(prepared):
    reading = bp(prepared, 128, 82, at=T0)
    given = dose(prepared, at=T0 + timedelta(minutes=30))
    assert given.pre_dose_reading == reading
    assert given.prescription.doses.count() == 1


def test_r11_dose_30_minutes_and_1_second_after_the_reading_is_refused(prepared):
    bp(prepared, 128, 82, at=T0)
    with pytest.raises(DosingError) as refused:
        dose(prepared, at=T0 + timedelta(minutes=30, seconds=1))
    assert "pre-dose blood pressure in range taken in the 30 minutes before" in str(refused.value)
    assert "more than 30 minutes old" in str(refused.value)
    assert not DoseAdministration.objects.exists()


def test_r11_no_reading_no_dose(prepared):
    with pytest.raises(DosingError, match="Take the pre-dose blood pressure"):
        dose(prepared, at=T0)
    assert not DoseAdministration.objects.exists()


def test_r12_a_high_reading_after_an_in_range_one_blocks_the_dose(prepared):
    bp(prepared, 128, 82, at=T0)
    bp(prepared, 142, 82, at=T0 + timedelta(minutes=2))
    with pytest.raises(DosingError, match="Do not give the dose"):
        dose(prepared, at=T0 + timedelta(minutes=3))


def test_r12_a_dose_timed_before_a_later_high_reading_is_refused(prepared):
    """A dose entered afterwards, timed between an in-range reading and a high one."""
    bp(prepared, 128, 82, at=T0)
    bp(prepared, 142, 82, at=T0 + timedelta(minutes=10))
    with pytest.raises(DosingError, match="cannot be given"):
        dose(prepared, at=T0 + timedelta(minutes=5), now=T0 + timedelta(minutes=11))


def test_r11_dose_before_the_preparation_is_done_is_refused(session):
    dosing.chart_open(session=session, by=session.therapist, now=PREPARED)
    with pytest.raises(DosingError, match="Complete the preparation"):
        dose(session, at=T0)


# --- R11/R13 in PostgreSQL: the dose-gate trigger ------------------------------------------------

# The trigger is PostgreSQL's (migration 0002); `make run`'s SQLite relies on the service. CI runs
# on PostgreSQL with --require-services, so these never skip there.
POSTGRES_ONLY = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the dose-gate trigger exists on PostgreSQL only"
)


def _raw_dose(session, reading, *, at):
    return DoseAdministration.objects.create(
        session=session,
        prescription=chart(session).prescription,
        pre_dose_reading=reading,
        given_at=at,
        dose_mg=100,
        tablets=1,
        recorded_by=session.therapist,
    )


@POSTGRES_ONLY
def test_r11_trigger_refuses_a_raw_dose_on_a_high_reading(prepared):
    high = bp(prepared, 150, 85, at=T0)
    with pytest.raises(IntegrityError, match="R11"), transaction.atomic():
        _raw_dose(prepared, high, at=T0 + timedelta(minutes=1))
    assert not DoseAdministration.objects.exists()


@POSTGRES_ONLY
def test_r11_trigger_refuses_a_raw_dose_on_a_stale_reading(prepared):
    reading = bp(prepared, 120, 80, at=T0)
    with pytest.raises(IntegrityError, match="R11"), transaction.atomic():
        _raw_dose(prepared, reading, at=T0 + timedelta(minutes=30, seconds=1))
    with pytest.raises(IntegrityError, match="R11"), transaction.atomic():
        _raw_dose(prepared, reading, at=T0 - timedelta(seconds=1))


@POSTGRES_ONLY
def test_r13_trigger_refuses_a_raw_dose_after_a_hard_stop_that_day(prepared):
    reading = bp(prepared, 120, 80, at=T0)
    bp(prepared, 181, 90, at=T0 + timedelta(minutes=1))
    with pytest.raises(IntegrityError, match="R12/R13"), transaction.atomic():
        _raw_dose(prepared, reading, at=T0 + timedelta(minutes=2))


@POSTGRES_ONLY
def test_r11_trigger_refuses_a_reading_of_another_session(prepared, clock):
    reading = bp(prepared, 120, 80, at=T0)
    other = SessionFactory(
        client=prepared.client, kind="dosing", starts_at=MORNING + timedelta(hours=4)
    )
    with pytest.raises(IntegrityError, match="R11"), transaction.atomic():
        DoseAdministration.objects.create(
            session=other,
            prescription=chart(prepared).prescription,
            pre_dose_reading=reading,
            given_at=T0 + timedelta(minutes=1),
            dose_mg=100,
            tablets=1,
            recorded_by=prepared.therapist,
        )


def test_r11_trigger_accepts_a_raw_dose_on_a_fresh_in_range_reading(prepared):
    reading = bp(prepared, 120, 80, at=T0)
    with transaction.atomic():
        _raw_dose(prepared, reading, at=T0 + timedelta(minutes=30))
    assert DoseAdministration.objects.count() == 1


# --- R3 and R6 at the dose -----------------------------------------------------------------------


def _prescription(session) -> Prescription:
    return Prescription.objects.get(client=session.client, superseded_at__isnull=True)


def test_r3_prescription_valid_until_today_still_allows_the_dose(prepared):
    today = MORNING.date()
    Prescription.objects.filter(pk=_prescription(prepared).pk).update(
        received_on=today - timedelta(days=30), valid_until=today
    )
    bp(prepared, 120, 80, at=T0)
    assert dose(prepared, at=T0 + timedelta(minutes=5))


def test_r3_prescription_expired_yesterday_refuses_the_dose(prepared):
    today = MORNING.date()
    Prescription.objects.filter(pk=_prescription(prepared).pk).update(
        received_on=today - timedelta(days=30), valid_until=today - timedelta(days=1)
    )
    bp(prepared, 120, 80, at=T0)
    with pytest.raises(DosingError, match="The prescription expired on Mar 11, 2025"):
        dose(prepared, at=T0 + timedelta(minutes=5))


def test_r3_prescription_expired_refuses_the_chart(session):
    today = MORNING.date()
    Prescription.objects.filter(pk=_prescription(session).pk).update(
        received_on=today - timedelta(days=30), valid_until=today - timedelta(days=1)
    )
    with pytest.raises(DosingError, match="The dose cannot go ahead today: The prescription"):
        dosing.chart_open(session=session, by=session.therapist, now=PREPARED)
    assert not DosingChart.objects.exists()


def test_r3_r5_all_authorised_doses_used_refuses_the_dose(clock, client_record):
    first = dosing_ready_session(client_record, doses_authorised=2)
    give_dose(first, at=T0)
    clock.move_to(MORNING + timedelta(days=14))
    second = session_schedule(
        client=client_record,
        kind="dosing",
        starts_at=MORNING + timedelta(days=14),
        by=first.therapist,
        acknowledge_integration=True,
    )
    prepare(second, now=PREPARED + timedelta(days=14))
    bp(second, 120, 80, at=T0 + timedelta(days=14))
    # The prescription on file now authorises one dose only (a correction at the prescriber's).
    Prescription.objects.filter(pk=_prescription(second).pk).update(doses_authorised=1)
    with pytest.raises(DosingError, match="All 1 authorised doses have been used"):
        dose(second, at=T0 + timedelta(days=14, minutes=5))


def test_r3_superseded_prescription_without_a_replacement_refuses_the_dose(prepared):
    Prescription.objects.filter(pk=_prescription(prepared).pk).update(superseded_at=T0)
    bp(prepared, 120, 80, at=T0)
    with pytest.raises(DosingError, match="no approved referral with a prescription on file"):
        dose(prepared, at=T0 + timedelta(minutes=5))


def test_r3_r4_a_renewal_after_the_chart_started_is_the_prescription_the_dose_uses(prepared):
    """The dose counts against the prescription in force, and is checked against its dose."""
    old = _prescription(prepared)
    renewed = referral_services.prescription_supersede(
        prescription=old, by=prepared.therapist, kind="change", dose_mg=150
    )
    bp(prepared, 120, 80, at=T0)
    with pytest.raises(DosingError, match="The prescription is 150 mg as 1 tablet"):
        dose(prepared, at=T0 + timedelta(minutes=5))
    given = dose(prepared, at=T0 + timedelta(minutes=5), dose_mg=150)
    assert given.prescription == renewed
    assert not old.doses.exists()


@pytest.mark.parametrize("route", ["intramuscular", "intravenous", "intranasal"])
def test_r4_a_chart_is_not_started_for_a_route_the_office_does_not_chart(session, route):
    Prescription.objects.filter(pk=_prescription(session).pk).update(route=route)
    with pytest.raises(DosingError, match="the dosing chart records only a dose the client takes"):
        dosing.chart_open(session=session, by=session.therapist, now=PREPARED)
    assert not DosingChart.objects.exists()


@pytest.mark.parametrize("route", ["sublingual", "buccal", "oral"])
def test_r4_office_routes_are_charted(prepared, route):
    Prescription.objects.filter(pk=_prescription(prepared).pk).update(route=route)
    bp(prepared, 120, 80, at=T0)
    assert dose(prepared, at=T0 + timedelta(minutes=5)).prescription.route == route


def test_r4_an_im_prescription_recorded_after_the_chart_started_refuses_the_dose(prepared):
    """The service checks the route of the prescription in force at the dose, whatever the page
    showed when the chart was started (a crafted POST gets the same refusal)."""
    referral_services.prescription_supersede(
        prescription=_prescription(prepared),
        by=prepared.therapist,
        kind="change",
        route="intramuscular",
    )
    bp(prepared, 120, 80, at=T0)
    with pytest.raises(DosingError, match=r"route is intramuscular \(IM\): the dosing chart"):
        dose(prepared, at=T0 + timedelta(minutes=5))
    assert not DoseAdministration.objects.exists()


def _second_session_on(client_record, first, days: int) -> Session:
    """A dosing session ``days`` after the first dose, written directly (the scheduling service
    would refuse 13 days: this tests the check on the day itself)."""
    return SessionFactory(
        client=client_record,
        course=first.course,
        kind="dosing",
        starts_at=MORNING + timedelta(days=days),
    )


def test_r6_chart_refused_13_days_after_the_previous_dose(clock, client_record):
    first = dosing_ready_session(client_record)
    give_dose(first, at=T0)
    second = _second_session_on(client_record, first, 13)
    clock.move_to(MORNING + timedelta(days=13))
    with pytest.raises(DosingError) as refused:
        dosing.chart_open(session=second, by=second.therapist, now=PREPARED + timedelta(days=13))
    assert "The last dose was on Mar 12, 2025, so the next one can be on Mar 26, 2025" in str(
        refused.value
    )


def _dosing_session_in_a_new_course(clock, client_record, first, days: int) -> Session:
    """The first course discontinued after its dose, a new course made ready for dosing (a new
    referral and prescription), and a dosing session in it ``days`` after the first dose."""
    course_advance(
        course=first.course, to_phase=Phase.DISCONTINUED, by=first.therapist, reason="Paused"
    )
    clock.move_to(MORNING + timedelta(days=days) - timedelta(hours=1))
    course, _prescription = course_ready_for_dosing(
        client_record, min_days_between_doses=14, prep_earlier=timedelta(hours=2)
    )
    return SessionFactory(
        client=client_record,
        course=course,
        kind="dosing",
        starts_at=MORNING + timedelta(days=days),
    )


def test_r6_the_dose_of_an_earlier_course_counts_at_the_chart(clock, client_record):
    first = dosing_ready_session(client_record)
    give_dose(first, at=T0)
    second = _dosing_session_in_a_new_course(clock, client_record, first, 7)
    with pytest.raises(DosingError, match="the next one can be on Mar 26, 2025"):
        dosing.chart_open(session=second, by=second.therapist, now=PREPARED + timedelta(days=7))


@POSTGRES_ONLY
def test_r6_trigger_refuses_a_raw_dose_too_soon_after_an_earlier_course_dose(clock, client_record):
    first = dosing_ready_session(client_record)
    give_dose(first, at=T0)
    second = _dosing_session_in_a_new_course(clock, client_record, first, 7)
    given_at = T0 + timedelta(days=7, minutes=5)
    with pytest.raises(IntegrityError, match="R6"), transaction.atomic():
        _raw_dose_in(second, at=given_at)
    assert DoseAdministration.objects.count() == 1


def _raw_dose_in(session, *, at):
    """A pre-dose reading in range 5 minutes before ``at`` and the dose, written directly."""
    reading = BloodPressureReading.objects.create(
        session=session,
        moment="pre_dose",
        systolic=120,
        diastolic=80,
        taken_at=at - timedelta(minutes=5),
        result="in_range",
        defer_systolic=140,
        defer_diastolic=90,
        hard_stop_systolic=180,
        hard_stop_diastolic=100,
        recorded_by=session.therapist,
    )
    return DoseAdministration.objects.create(
        session=session,
        prescription=Prescription.objects.in_force().get(client=session.client),
        pre_dose_reading=reading,
        given_at=at,
        dose_mg=100,
        tablets=1,
        recorded_by=session.therapist,
    )


@POSTGRES_ONLY
def test_r6_trigger_allows_the_earliest_day_whatever_the_hour(clock, client_record):
    # Mar 12, 9:20 to Mar 26, 0:30 (clinic time) is 13 days and 15 hours: R6 counts clinic dates,
    # and the trigger, a backstop for the services' exact check, never refuses a dose they allow.
    first = dosing_ready_session(client_record)
    give_dose(first, at=T0)
    second = _dosing_session_in_a_new_course(clock, client_record, first, 14)
    early = MORNING.replace(hour=0, minute=30) + timedelta(days=14)
    with transaction.atomic():
        _raw_dose_in(second, at=early)
    assert DoseAdministration.objects.count() == 2


def test_r6_booking_13_days_after_the_previous_dose_is_refused_14_accepted(clock, client_record):
    first = dosing_ready_session(client_record)
    give_dose(first, at=T0)
    with pytest.raises(SessionError, match="Mar 26, 2025 or later"):
        session_schedule(
            client=client_record,
            kind="dosing",
            starts_at=MORNING + timedelta(days=13),
            by=first.therapist,
            acknowledge_integration=True,
        )
    assert session_schedule(
        client=client_record,
        kind="dosing",
        starts_at=MORNING + timedelta(days=14),
        by=first.therapist,
        acknowledge_integration=True,
    )


def test_r6_second_dose_14_days_after_the_first(clock, client_record):
    first = dosing_ready_session(client_record)
    give_dose(first, at=T0)
    second = _second_session_on(client_record, first, 14)
    clock.move_to(MORNING + timedelta(days=14))
    given = give_dose(second, at=T0 + timedelta(days=14))
    assert given.prescription.doses.count() == 2


# --- R4: what was given, R1: the first dose starts dosing ----------------------------------------


@pytest.mark.parametrize(("mg", "tablets"), [(150, 1), (100, 2)])
def test_r4_a_dose_that_differs_from_the_prescription_needs_an_explanation(prepared, mg, tablets):
    bp(prepared, 120, 80, at=T0)
    with pytest.raises(DosingError, match="Explain why the dose given") as refused:
        dose(prepared, at=T0 + timedelta(minutes=5), dose_mg=mg, tablets=tablets)
    assert "The prescription is 100 mg as 1 tablet." in str(refused.value)
    given = dose(
        prepared,
        at=T0 + timedelta(minutes=5),
        dose_mg=mg,
        tablets=tablets,
        mismatch_reason="Prescriber's instruction by phone this morning",
    )
    assert given.mismatch_reason == "Prescriber's instruction by phone this morning"


def test_r1_the_first_dose_moves_the_course_from_preparation_to_dosing(prepared):
    course = prepared.course
    assert course.phase == Phase.PREPARATION
    bp(prepared, 120, 80, at=T0)
    dose(prepared, at=T0 + timedelta(minutes=5))
    course.refresh_from_db()
    assert course.phase == Phase.DOSING
    step = CourseTransition.objects.filter(course=course).latest("at", "id")
    assert (step.from_phase, step.to_phase, step.by) == (
        Phase.PREPARATION,
        Phase.DOSING,
        prepared.therapist,
    )


def test_one_dose_per_session(prepared):
    bp(prepared, 120, 80, at=T0)
    dose(prepared, at=T0 + timedelta(minutes=5))
    with pytest.raises(DosingError, match="already been recorded"):
        dose(prepared, at=T0 + timedelta(minutes=6))


def test_dose_recorded_is_sent_inside_the_transaction(prepared):
    recorded = []

    def on_recorded(sender, dose, **kwargs):
        # Inside the transaction: the dose row is visible to a receiver that writes rows.
        recorded.append((dose.pk, DoseAdministration.objects.filter(pk=dose.pk).exists()))

    signals.dose_recorded.connect(on_recorded)
    try:
        bp(prepared, 120, 80, at=T0)
        given = dose(prepared, at=T0 + timedelta(minutes=5))
        assert recorded == [(given.pk, True)]
    finally:
        signals.dose_recorded.disconnect(on_recorded)


def test_a_failing_dose_recorded_receiver_rolls_the_dose_back(
    prepared, django_capture_on_commit_callbacks
):
    def broken(sender, dose, **kwargs):
        raise RuntimeError("receiver failed")

    signals.dose_recorded.connect(broken)
    try:
        bp(prepared, 120, 80, at=T0)
        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            pytest.raises(RuntimeError),
        ):
            dose(prepared, at=T0 + timedelta(minutes=5))
    finally:
        signals.dose_recorded.disconnect(broken)
    assert not DoseAdministration.objects.exists()
    prepared.course.refresh_from_db()
    assert prepared.course.phase == Phase.PREPARATION
    # Nothing was queued for after a commit that never happened (no reminder task, no e-mail).
    assert callbacks == []


def test_r1_no_dose_while_the_course_is_on_hold(prepared):
    course_advance(
        course=prepared.course, to_phase=Phase.ON_HOLD, by=prepared.therapist, reason="Travel"
    )
    bp(prepared, 120, 80, at=T0)
    with pytest.raises(DosingError, match="The course is on hold: no dose can be recorded"):
        dose(prepared, at=T0 + timedelta(minutes=5))


def test_r1_no_chart_is_started_while_the_course_is_on_hold(session):
    course_advance(
        course=session.course, to_phase=Phase.ON_HOLD, by=session.therapist, reason="Travel"
    )
    with pytest.raises(DosingError, match="The course is on hold: resume it"):
        dosing.chart_open(session=session, by=session.therapist, now=PREPARED)
    assert not DosingChart.objects.exists()


def test_r10_defer_for_another_reason_needs_the_reason_and_closes_the_chart(prepared):
    with pytest.raises(DosingError, match="Give the reason for deferring the dose"):
        dosing.chart_defer(session=prepared, by=prepared.therapist, note="  ", now=T0)
    dosing.chart_defer(session=prepared, by=prepared.therapist, note="Client feels unwell", now=T0)
    kept = chart(prepared)
    assert (kept.outcome, kept.deferral_reason, kept.deferral_note) == (
        DosingChart.Outcome.DEFERRED,
        DosingChart.DeferralReason.OTHER,
        "Client feels unwell",
    )
    prepared.refresh_from_db()
    assert prepared.status == SessionStatus.COMPLETED
    assert not PrescriberNotice.objects.exists()


# --- R14, R15: after the dose ------------------------------------------------------------------


@pytest.fixture
def dosed(prepared):
    bp(prepared, 120, 80, at=T0)
    dose(prepared, at=T0 + timedelta(minutes=5))
    return prepared


GIVEN = T0 + timedelta(minutes=5)


def _return(session, *, name="Ravi Patel", expected=GIVEN + timedelta(hours=2)):
    dosing.chart_return_save(
        session=session,
        by=session.therapist,
        return_notes="",
        chaperone_name=name,
        chaperone_phone="+1 555 201 7777",
        pickup_expected_at=expected,
    )


def _discharge(session, *, at, pickup=None):
    """Discharge at ``at``; the chaperone arrived at ``pickup`` (default: ``at``)."""
    return dosing.discharge(session=session, by=session.therapist, pickup_at=pickup or at, now=at)


def test_r14_post_dose_reading_before_the_dose_is_refused(prepared):
    bp(prepared, 120, 80, at=T0)
    with pytest.raises(DosingError, match="recorded after the dose is given"):
        bp(prepared, 120, 80, at=T0 + timedelta(minutes=2), moment="post_dose")


def test_r14_post_dose_reading_timed_before_the_dose_is_refused(dosed):
    with pytest.raises(DosingError, match="taken after the time the dose was given"):
        bp(
            dosed,
            120,
            80,
            at=GIVEN - timedelta(minutes=1),
            moment="post_dose",
            now=GIVEN + timedelta(minutes=40),
        )
    reading = bp(dosed, 150, 95, at=GIVEN + timedelta(minutes=40), moment="post_dose")
    assert reading.result == "high"
    # A high post-dose reading is kept and flagged; it does not close the chart.
    assert chart(dosed).outcome == DosingChart.Outcome.OPEN


def test_r10_end_of_the_hold_is_recorded_past_the_dose_gate_trigger(dosed):
    """The trigger also runs on UPDATE: recording the time spat out must still pass it."""
    with pytest.raises(DosingError, match="after the time the dose was given"):
        dosing.dose_hold_end(
            session=dosed,
            by=dosed.therapist,
            spat_at=GIVEN - timedelta(minutes=1),
            swallowed=False,
            now=GIVEN,
        )
    with pytest.raises(DosingError, match="within an hour"):
        dosing.dose_hold_end(
            session=dosed,
            by=dosed.therapist,
            spat_at=GIVEN + timedelta(minutes=61),
            swallowed=False,
            now=GIVEN + timedelta(minutes=61),
        )
    kept = dosing.dose_hold_end(
        session=dosed,
        by=dosed.therapist,
        spat_at=GIVEN + timedelta(minutes=15),
        swallowed=False,
        now=GIVEN + timedelta(minutes=15),
    )
    kept.refresh_from_db()
    assert (kept.spat_at, kept.swallowed) == (GIVEN + timedelta(minutes=15), False)


def test_r10_no_deferral_after_the_dose(dosed):
    with pytest.raises(DosingError, match="can no longer be deferred"):
        dosing.chart_defer(session=dosed, by=dosed.therapist, note="Changed mind", now=GIVEN)


def test_r15_discharge_refused_without_the_chaperone_name(dosed):
    _return(dosed, name="")
    with pytest.raises(DosingError, match="Record the chaperone's name"):
        _discharge(dosed, at=GIVEN + timedelta(hours=2))


def test_r15_discharge_refused_without_the_time_the_chaperone_arrived(dosed):
    _return(dosed)
    with pytest.raises(DosingError, match="Enter the time the chaperone arrived"):
        dosing.discharge(
            session=dosed, by=dosed.therapist, pickup_at=None, now=GIVEN + timedelta(hours=2)
        )
    assert chart(dosed).outcome == DosingChart.Outcome.OPEN


def test_r15_discharge_refused_before_the_chaperone_arrived(dosed):
    """The issue: discharged "into the care of" a chaperone due fifteen minutes later."""
    _return(dosed, expected=GIVEN + timedelta(hours=2, minutes=15))
    at = GIVEN + timedelta(hours=2)
    # 11:21 is one minute ahead of the discharge: within the clock-skew allowance, so refused by
    # R15 itself rather than as a time in the future.
    refused = r"The chaperone arrived at 11:21 AM, after the discharge time \(11:20 AM\)"
    with pytest.raises(DosingError, match=refused):
        _discharge(dosed, at=at, pickup=at + timedelta(minutes=1))
    kept = chart(dosed)
    assert (kept.outcome, kept.pickup_at, kept.discharged_at) == (
        DosingChart.Outcome.OPEN,
        None,
        None,
    )


def test_r15_a_pickup_time_in_the_future_is_refused(dosed):
    _return(dosed, expected=GIVEN + timedelta(hours=2, minutes=15))
    at = GIVEN + timedelta(hours=2)
    with pytest.raises(DosingError, match=r"The time the chaperone arrived \(11:35 AM\) is in the"):
        _discharge(dosed, at=at, pickup=at + timedelta(minutes=15))
    assert chart(dosed).outcome == DosingChart.Outcome.OPEN


def test_r15_a_pickup_before_the_session_is_refused(dosed):
    _return(dosed)
    with pytest.raises(DosingError, match="before the session started"):
        _discharge(dosed, at=GIVEN + timedelta(hours=2), pickup=MORNING - timedelta(hours=2))


def test_r15_discharge_records_when_the_chaperone_arrived(dosed):
    _return(dosed, expected=GIVEN + timedelta(hours=2, minutes=15))
    at = GIVEN + timedelta(hours=2, minutes=20)
    arrived = GIVEN + timedelta(hours=2, minutes=10)  # earlier than expected: fine
    _discharge(dosed, at=at, pickup=arrived)
    kept = chart(dosed)
    assert (kept.outcome, kept.pickup_at, kept.pickup_expected_at, kept.discharged_at) == (
        DosingChart.Outcome.DISCHARGED,
        arrived,
        GIVEN + timedelta(hours=2, minutes=15),
        at,
    )


def test_r15_discharge_refused_at_1_59_59_after_the_dose(dosed):
    _return(dosed)
    with pytest.raises(DosingError, match="observed for at least 2 h after the dose"):
        _discharge(dosed, at=GIVEN + timedelta(hours=1, minutes=59, seconds=59))
    assert chart(dosed).outcome == DosingChart.Outcome.OPEN


def test_r15_discharge_at_exactly_two_hours_completes_the_session(dosed):
    _return(dosed)
    at = GIVEN + timedelta(hours=2)
    _discharge(dosed, at=at)
    kept = chart(dosed)
    assert (kept.outcome, kept.discharged_at, kept.discharged_by, kept.pickup_at) == (
        DosingChart.Outcome.DISCHARGED,
        at,
        dosed.therapist,
        at,
    )
    dosed.refresh_from_db()
    assert dosed.status == SessionStatus.COMPLETED


def test_r15_discharge_refused_without_a_dose(prepared):
    _return(prepared)
    with pytest.raises(DosingError, match="No dose has been given"):
        _discharge(prepared, at=T0 + timedelta(hours=3))


# --- Starting the chart, the preparation (R10) and the safety check (R20) ------------------------


def test_chart_opens_on_the_sessions_day_only(session):
    by = session.therapist
    for now in (MORNING - timedelta(days=1), MORNING + timedelta(days=1)):
        with pytest.raises(DosingError, match="started on the day of the session"):
            dosing.chart_open(session=session, by=by, now=now)
    opened = dosing.chart_open(session=session, by=by, now=MORNING + timedelta(hours=14))
    assert opened.prescription == _prescription(session)
    # The default chaperone from the intake (R17) is copied onto the chart.
    assert opened.chaperone_name == "Leah Patel"
    # Idempotent: opening again returns the same chart.
    assert dosing.chart_open(session=session, by=by, now=PREPARED) == opened


def test_chart_refused_for_a_cancelled_dosing_session(session):
    session_cancel(session=session, reason="Client unwell", by=session.therapist)
    with pytest.raises(DosingError, match="This session is cancelled"):
        dosing.chart_open(session=session, by=session.therapist, now=PREPARED)


def test_chart_refused_for_a_preparation_session(session):
    preparation = Session.objects.filter(course=session.course, kind="preparation").first()
    with pytest.raises(DosingError, match="Only a dosing session has a dosing chart"):
        dosing.chart_open(session=preparation, by=session.therapist, now=PREPARED)


def test_chart_refused_to_a_therapist_who_may_not_see_the_client(session, other_therapist):
    with pytest.raises(DosingError, match="You cannot chart this client's sessions"):
        dosing.chart_open(session=session, by=other_therapist, now=PREPARED)
    with pytest.raises(DosingError, match="You cannot chart this client's sessions"):
        dosing.chart_open(session=session, by=session.client.user, now=PREPARED)
    assert not DosingChart.objects.exists()


def test_a_shared_therapist_may_chart(session, other_therapist):
    factories.ClientShareFactory(client=session.client, therapist=other_therapist)
    assert dosing.chart_open(session=session, by=other_therapist, now=PREPARED)


def test_r10_incomplete_preparation_is_saved_as_typed(session):
    dosing.chart_open(session=session, by=session.therapist, now=PREPARED)
    with pytest.raises(PreparationIncomplete) as incomplete:
        dosing.chart_prepare(
            session=session,
            by=session.therapist,
            check_in="Nervous",
            intention="To listen to my body",
            fasting_confirmed=False,
            chaperone_confirmed=True,
            now=PREPARED,
        )
    assert str(incomplete.value) == (
        "Saved. Before the blood-pressure check, record that the client has fasted."
    )
    kept = chart(session)
    assert (kept.check_in, kept.intention, kept.chaperone_confirmed) == (
        "Nervous",
        "To listen to my body",
        True,
    )
    assert kept.preparation_done_at is None


def test_r20_item_9_needs_the_acknowledgement_and_records_who_and_when(session, therapist):
    submit(session.client, "phq9", PHQ9_ITEM9, by=therapist)
    dosing.chart_open(session=session, by=therapist, now=PREPARED)
    fields = {
        "check_in": "",
        "intention": "Rest",
        "fasting_confirmed": True,
        "chaperone_confirmed": True,
    }
    with pytest.raises(PreparationIncomplete, match="reviewed the self-harm answer"):
        dosing.chart_prepare(session=session, by=therapist, now=PREPARED, **fields)
    assert chart(session).preparation_done_at is None
    with pytest.raises(DosingError, match="Complete the preparation"):
        bp(session, 120, 80, at=T0)
    dosing.chart_prepare(session=session, by=therapist, now=T0, acknowledge_safety=True, **fields)
    kept = chart(session)
    assert (kept.safety_alert_acknowledged_by, kept.safety_alert_acknowledged_at) == (
        therapist,
        T0,
    )
    assert kept.preparation_done_at == T0


def test_r20_a_later_phq9_without_item_9_needs_no_acknowledgement(session, therapist):
    submit(session.client, "phq9", PHQ9_ITEM9, by=therapist)
    with time_machine.travel(MORNING + timedelta(minutes=1), tick=False):
        submit(session.client, "phq9", PHQ9_CALM, by=therapist)
    dosing.chart_open(session=session, by=therapist, now=PREPARED)
    kept = dosing.chart_prepare(
        session=session,
        by=therapist,
        check_in="",
        intention="Rest",
        fasting_confirmed=True,
        chaperone_confirmed=True,
        now=PREPARED,
    )
    assert kept.preparation_done_at == PREPARED
    assert kept.safety_alert_acknowledged_at is None
