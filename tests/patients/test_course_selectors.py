"""Course reads: the client-record summary, the stepper, the numbers and the partial (R1, R2, R5,
R6)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import time_machine
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext

from patients.courses import selectors as course_selectors
from patients.models import Phase, Prescription, Referral
from patients.referrals import services as referral_services
from sessions.models import DoseAdministration
from tests import factories
from tests.factories_referrals import PrescriptionFactory, ReferralFactory
from tests.factories_sessions import SessionFactory, dosing_ready_session
from tests.patients.test_course_services import make_course
from tests.sessions.dosing_helpers import CLINIC_TZ, MORNING, give_dose


def test_summary_without_a_course(client_record):
    assert course_selectors.course_summary(client=client_record) is None
    html = render_to_string(
        "patients/_course_summary.html", {"client": client_record, "course_summary": None}
    )
    assert "No treatment course yet." in html
    assert "Open a treatment course" in html


def test_summary_prefers_the_active_course_and_counts_queries(client_record):
    active = make_course(client_record, Phase.ON_HOLD, before=Phase.REFERRAL)
    make_course(client_record, Phase.COMPLETE)  # newer, but closed
    PrescriptionFactory(
        referral=ReferralFactory(client=client_record, status=Referral.Status.APPROVED),
        doses_authorised=4,
    )
    with CaptureQueriesContext(connection) as queries:
        summary = course_selectors.course_summary(client=client_record)
    # the course with its facts and last dose, the prescription with its doses counted, the flags
    assert len(queries) == 3
    assert summary["course"] == active
    numbers = summary["numbers"]
    assert (numbers.prep_done, numbers.prep_required) == (0, 3)
    assert (numbers.doses_used, numbers.doses_authorised, numbers.doses_left) == (0, 4, 4)
    assert numbers.next_dose is None
    assert numbers.next_dose_note == "No dose yet"
    assert [s.state for s in summary["stepper"]] == ["done", "stopped", "todo", "todo", "todo"]
    html = render_to_string(
        "patients/_course_summary.html", {"client": client_record, "course_summary": summary}
    )
    assert "On hold" in html
    assert "Doses: 0 of 4 used" in html


def test_stepper_states(db):
    record = factories.ClientFactory()
    complete = make_course(record, Phase.COMPLETE)
    assert {s.state for s in course_selectors.stepper(complete, stopped_at="")} == {"done"}
    stopped = make_course(record, Phase.DISCONTINUED, before=Phase.PREPARATION)
    states = [s.state for s in course_selectors.stepper(stopped, stopped_at=Phase.PREPARATION)]
    assert states == ["done", "done", "stopped", "todo", "todo"]


def test_counts_are_zero_before_any_session(client_record):
    course = make_course(client_record, Phase.PREPARATION)
    assert course_selectors.doses_used(None) == 0
    assert course_selectors.prep_sessions_completed(course) == 0
    assert course_selectors.last_dose_on(course) is None


def test_r2_only_completed_preparation_sessions_of_the_course_count(client_record):
    course = make_course(client_record, Phase.PREPARATION)
    for status in ("completed", "completed", "scheduled", "no_show"):
        SessionFactory(client=client_record, kind="preparation", status=status)
    SessionFactory(client=client_record, kind="integration", status="completed")
    other = make_course(factories.ClientFactory(), Phase.PREPARATION)
    SessionFactory(client=other.client, kind="preparation", status="completed")
    with CaptureQueriesContext(connection) as queries:
        assert course_selectors.prep_sessions_completed(course) == 2
    assert len(queries) == 1


def test_r5_r6_numbers_after_one_real_dose(db):
    """After the first dose: 1 of 6 used, and the next dose no earlier than the dose's date plus
    the prescription's 14 days (R6)."""
    at = MORNING + timedelta(minutes=30)
    with time_machine.travel(MORNING, tick=False):
        session = dosing_ready_session()
        dose = give_dose(session, at=at)
        course = session.course
        course.refresh_from_db()
        with CaptureQueriesContext(connection) as queries:
            assert course_selectors.doses_used(dose.prescription) == 1
            assert course_selectors.prep_sessions_completed(course) == 3
            assert course_selectors.last_dose_on(course) == date(2025, 3, 12)
        assert len(queries) == 3
        numbers = course_selectors.course_summary(client=course.client)["numbers"]
    assert course.phase == Phase.DOSING
    assert (numbers.doses_used, numbers.doses_authorised, numbers.doses_left) == (1, 6, 5)
    assert numbers.last_dose == date(2025, 3, 12)
    assert numbers.next_dose == date(2025, 3, 26)
    assert numbers.next_dose_note == ""
    html = render_to_string("courses/_numbers.html", {"numbers": numbers, "client": course.client})
    assert "1 of 6" in html
    assert "Mar 26, 2025" in html
    assert "last dose Mar 12, 2025; at least 14 days between doses" in html


def test_r6_last_dose_is_the_clinic_date_not_the_utc_date(db):
    """A dose at 11:40 PM in New York is already the next day in UTC: the clinic's date counts."""
    evening = datetime(2025, 3, 12, 23, 0, tzinfo=CLINIC_TZ)
    with time_machine.travel(evening, tick=False):
        session = dosing_ready_session()
        dose = give_dose(session, at=evening + timedelta(minutes=40))
    assert dose.given_at.astimezone(UTC).date() == date(2025, 3, 13)
    assert course_selectors.last_dose_on(session.course) == date(2025, 3, 12)


def test_r5_no_next_dose_date_once_every_authorised_dose_is_used(db):
    with time_machine.travel(MORNING, tick=False):
        session = dosing_ready_session(doses_authorised=1)
        give_dose(session, at=MORNING + timedelta(minutes=30))
        numbers = course_selectors.course_summary(client=session.client)["numbers"]
    assert (numbers.doses_used, numbers.doses_left) == (1, 0)
    assert numbers.next_dose is None
    assert numbers.next_dose_note == "None left"
    html = render_to_string("courses/_numbers.html", {"numbers": numbers})
    assert "No dose left" in html
    assert "the prescriber must renew the prescription" in html


def test_r5_doses_count_under_their_prescription_only(db):
    """A renewal is a new prescription: its count starts again (the old one keeps its dose)."""
    with time_machine.travel(MORNING, tick=False):
        session = dosing_ready_session()
        dose = give_dose(session, at=MORNING + timedelta(minutes=30))
        renewed = referral_services.prescription_supersede(
            prescription=dose.prescription, by=session.therapist, kind="renewal", doses_authorised=4
        )
        changed = referral_services.prescription_supersede(
            prescription=renewed, by=session.therapist, kind="change", dose_mg=150
        )
    assert course_selectors.doses_used(dose.prescription) == 1
    assert course_selectors.doses_used(renewed) == 0
    assert course_selectors.doses_used(changed) == 0


def test_r5_a_change_to_the_prescription_keeps_counting_the_doses_given(db):
    """A renewal is the prescriber's new authorisation: its count starts again. A change (a new
    dose, say) is the same authorisation: recording one never gives doses back."""
    with time_machine.travel(MORNING, tick=False):
        session = dosing_ready_session()
        dose = give_dose(session, at=MORNING + timedelta(minutes=30))
        changed = referral_services.prescription_supersede(
            prescription=dose.prescription, by=session.therapist, kind="change", dose_mg=150
        )
        changed_again = referral_services.prescription_supersede(
            prescription=changed, by=session.therapist, kind="change", tablets_per_dose=2
        )
    assert course_selectors.doses_used(changed) == 1
    assert course_selectors.doses_used(changed_again) == 1
    assert changed_again.authorisation == dose.prescription
    assert changed_again.kind == "change"


def test_r5_the_annotated_count_is_the_count(db):
    """The pages read the doses used from an annotation of the prescription (no query of its
    own): it counts what DoseAdministration.objects.counted_against counts, through approvals,
    renewals and changes."""
    with time_machine.travel(MORNING, tick=False):
        session = dosing_ready_session()
        dose = give_dose(session, at=MORNING + timedelta(minutes=30))
        changed = referral_services.prescription_supersede(
            prescription=dose.prescription, by=session.therapist, kind="change", dose_mg=150
        )
        renewed = referral_services.prescription_supersede(
            prescription=changed, by=session.therapist, kind="renewal", doses_authorised=4
        )
        changed_again = referral_services.prescription_supersede(
            prescription=renewed, by=session.therapist, kind="change", tablets_per_dose=2
        )
    prescriptions = (dose.prescription, changed, renewed, changed_again)
    annotated = course_selectors.with_doses_counted(Prescription.objects.all()).in_bulk(
        [p.pk for p in prescriptions]
    )
    assert [annotated[p.pk].doses_counted for p in prescriptions] == [
        DoseAdministration.objects.counted_against(p).count() for p in prescriptions
    ]
    assert [annotated[p.pk].doses_counted for p in prescriptions] == [1, 1, 0, 0]
    in_force = course_selectors.prescription_in_force(client=session.client)
    assert in_force == changed_again
    with CaptureQueriesContext(connection) as queries:
        assert course_selectors.doses_used(in_force) == 0
    assert len(queries) == 0
