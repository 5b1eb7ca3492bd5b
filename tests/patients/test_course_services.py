"""Treatment-course services (R1, R2, R3): opening courses and boosters, every allowed and
forbidden phase change, the preconditions of each phase, hold / resume / discontinue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from patients.clients.services import client_archive
from patients.courses import rules as course_rules
from patients.courses.selectors import course_facts
from patients.courses.services import CourseError, course_advance, course_open
from patients.models import CourseTransition, Phase, Referral, TreatmentCourse
from tests import factories
from tests.factories_intake import submitted_intake
from tests.factories_referrals import PrescriptionFactory, ReferralFactory

R2_MESSAGE = "Dosing needs at least 3 completed preparation sessions (0 so far)."


@pytest.fixture
def ready_client(client_record):
    """A client with a submitted intake and an approved referral with a prescription in force."""
    submitted_intake(client_record)
    PrescriptionFactory(
        referral=ReferralFactory(client=client_record, status=Referral.Status.APPROVED)
    )
    return client_record


def make_course(client, phase: str, *, before: str = "") -> TreatmentCourse:
    """A course put straight into ``phase`` (the tests of each step start from it)."""
    closed = timezone.now() if phase in (Phase.COMPLETE, Phase.DISCONTINUED) else None
    return TreatmentCourse.objects.create(
        client=client,
        therapist=client.primary_therapist,
        opened_by=client.primary_therapist,
        phase=phase,
        phase_before_hold=before,
        closed_at=closed,
    )


# --- Opening ------------------------------------------------------------------------------------


def test_open_starts_in_intake_with_the_primary_therapist_and_a_history_row(
    client_record, admin_user
):
    course = course_open(client=client_record, by=admin_user)
    assert course.phase == Phase.INTAKE
    assert course.therapist == client_record.primary_therapist
    assert course.opened_by == admin_user
    [opened] = course.transitions.all()
    assert (opened.from_phase, opened.to_phase, opened.by) == ("", Phase.INTAKE, admin_user)


def test_one_active_course_per_client(client_record, therapist):
    course_open(client=client_record, by=therapist)
    with pytest.raises(CourseError, match="already has an active treatment course"):
        course_open(client=client_record, by=therapist)
    assert client_record.courses.count() == 1


def test_one_active_course_per_client_is_a_database_constraint(client_record):
    make_course(client_record, Phase.PREPARATION)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_course(client_record, Phase.ON_HOLD, before=Phase.INTAKE)


def test_a_new_course_after_a_discontinued_one(client_record, therapist):
    make_course(client_record, Phase.DISCONTINUED, before=Phase.REFERRAL)
    assert course_open(client=client_record, by=therapist).phase == Phase.INTAKE


def test_booster_only_after_a_completed_course(client_record, therapist):
    stopped = make_course(client_record, Phase.DISCONTINUED, before=Phase.REFERRAL)
    with pytest.raises(CourseError, match="only follow a completed course"):
        course_open(client=client_record, by=therapist, booster_of=stopped)
    done = make_course(client_record, Phase.COMPLETE)
    booster = course_open(client=client_record, by=therapist, booster_of=done)
    assert booster.booster_of == done
    assert booster.transitions.get().reason == f"Booster after course #{done.pk}"


def test_booster_of_another_clients_course_is_refused(client_record, therapist):
    other = factories.ClientFactory(primary_therapist=therapist)
    done = make_course(other, Phase.COMPLETE)
    with pytest.raises(CourseError, match="own courses"):
        course_open(client=client_record, by=therapist, booster_of=done)


def test_other_therapist_and_the_client_cannot_open_or_change(client_record, other_therapist):
    with pytest.raises(CourseError, match="cannot change"):
        course_open(client=client_record, by=other_therapist)
    with pytest.raises(CourseError, match="cannot change"):
        course_open(client=client_record, by=client_record.user)
    course = make_course(client_record, Phase.INTAKE)
    with pytest.raises(CourseError, match="cannot change"):
        course_advance(course=course, to_phase=Phase.ON_HOLD, by=other_therapist, reason="x")


def test_archived_client_gets_no_new_course(client_record, therapist):
    client_archive(by=therapist, client=client_record, reason="Moved away")
    with pytest.raises(CourseError, match="archived"):
        course_open(client=client_record, by=therapist)


# --- Every phase change -------------------------------------------------------------------------

# From (phase, phase before hold) → the phases R1 allows next. Dosing is allowed by R1 but blocked
# by R2 until sessions exist: checked separately below.
ALLOWED = {
    (Phase.INTAKE, ""): {Phase.REFERRAL, Phase.ON_HOLD, Phase.DISCONTINUED},
    (Phase.REFERRAL, ""): {Phase.PREPARATION, Phase.ON_HOLD, Phase.DISCONTINUED},
    (Phase.PREPARATION, ""): {Phase.ON_HOLD, Phase.DISCONTINUED},
    (Phase.DOSING, ""): {Phase.COMPLETE, Phase.ON_HOLD, Phase.DISCONTINUED},
    (Phase.ON_HOLD, Phase.REFERRAL): {Phase.REFERRAL, Phase.DISCONTINUED},
    (Phase.ON_HOLD, Phase.DOSING): {Phase.DISCONTINUED},
    (Phase.COMPLETE, ""): set(),
    (Phase.DISCONTINUED, Phase.REFERRAL): set(),
}
CASES = [
    (start, before, to, to in allowed)
    for (start, before), allowed in ALLOWED.items()
    for to in Phase.values
]


@pytest.mark.parametrize(("start", "before", "to", "allowed"), CASES)
def test_every_transition(ready_client, therapist, start, before, to, allowed):
    course = make_course(ready_client, start, before=before)
    if allowed:
        course_advance(course=course, to_phase=to, by=therapist, reason="Client asked")
        course.refresh_from_db()
        assert course.phase == to
        step = CourseTransition.objects.get(course=course)
        assert (step.from_phase, step.to_phase, step.by) == (start, to, therapist)
        assert step.reason == "Client asked"
        assert (course.closed_at is not None) == (to in (Phase.COMPLETE, Phase.DISCONTINUED))
    else:
        with pytest.raises(CourseError) as refused:
            course_advance(course=course, to_phase=to, by=therapist, reason="Client asked")
        assert str(refused.value)  # a sentence for the clinician, never empty
        course.refresh_from_db()
        assert course.phase == start
        assert not CourseTransition.objects.filter(course=course).exists()


@pytest.mark.parametrize(
    ("start", "before"), [(Phase.PREPARATION, ""), (Phase.ON_HOLD, Phase.DOSING)]
)
def test_dosing_is_refused_with_the_r2_reason_until_sessions_exist(
    ready_client, therapist, start, before
):
    course = make_course(ready_client, start, before=before)
    with pytest.raises(CourseError) as refused:
        course_advance(course=course, to_phase=Phase.DOSING, by=therapist)
    assert R2_MESSAGE in str(refused.value)
    course.refresh_from_db()
    assert course.phase == start


def test_refused_messages_name_the_next_phase_and_finality(ready_client, therapist):
    course = make_course(ready_client, Phase.INTAKE)
    with pytest.raises(CourseError, match="The next phase is referral"):
        course_advance(course=course, to_phase=Phase.DOSING, by=therapist)
    done = make_course(factories.ClientFactory(), Phase.COMPLETE)
    with pytest.raises(CourseError, match="Open a booster course"):
        course_advance(course=done, to_phase=Phase.ON_HOLD, by=done.client.primary_therapist)
    with pytest.raises(CourseError, match="not a course phase"):
        course_advance(course=course, to_phase="launched", by=therapist)


# --- Preconditions ------------------------------------------------------------------------------


def test_referral_needs_a_submitted_intake(client_record, therapist):
    course = course_open(client=client_record, by=therapist)
    with pytest.raises(CourseError, match="has not submitted their intake"):
        course_advance(course=course, to_phase=Phase.REFERRAL, by=therapist)
    submitted_intake(client_record)
    assert course_advance(course=course, to_phase=Phase.REFERRAL, by=therapist).phase == (
        Phase.REFERRAL
    )


def test_preparation_needs_an_approved_referral_with_a_prescription(client_record, therapist):
    course = make_course(client_record, Phase.REFERRAL)
    with pytest.raises(CourseError, match="no approved referral with a prescription"):
        course_advance(course=course, to_phase=Phase.PREPARATION, by=therapist)
    ReferralFactory(client=client_record, status=Referral.Status.SENT)
    with pytest.raises(CourseError, match="no approved referral"):
        course_advance(course=course, to_phase=Phase.PREPARATION, by=therapist)


def test_preparation_links_the_course_to_the_approved_referral(ready_client, therapist):
    course = make_course(ready_client, Phase.REFERRAL)
    course_advance(course=course, to_phase=Phase.PREPARATION, by=therapist)
    course.refresh_from_db()
    assert course.referral == ready_client.referrals.get(status=Referral.Status.APPROVED)


def test_an_expired_prescription_blocks_preparation(client_record, therapist):
    today = timezone.localdate()
    PrescriptionFactory(
        referral=ReferralFactory(client=client_record, status=Referral.Status.APPROVED),
        received_on=today - timedelta(days=60),
        valid_until=today - timedelta(days=1),
    )
    course = make_course(client_record, Phase.REFERRAL)
    with pytest.raises(CourseError, match="prescription expired on"):
        course_advance(course=course, to_phase=Phase.PREPARATION, by=therapist)
    course.refresh_from_db()
    assert course.phase == Phase.REFERRAL
    assert course.referral is None


def test_a_prescription_valid_until_today_is_still_in_force(client_record, therapist):
    PrescriptionFactory(
        referral=ReferralFactory(client=client_record, status=Referral.Status.APPROVED),
        valid_until=timezone.localdate(),
    )
    course = make_course(client_record, Phase.REFERRAL)
    assert course_advance(course=course, to_phase=Phase.PREPARATION, by=therapist).phase == (
        Phase.PREPARATION
    )


def test_a_superseded_prescription_is_not_in_force(client_record, therapist):
    PrescriptionFactory(
        referral=ReferralFactory(client=client_record, status=Referral.Status.APPROVED),
        superseded_at=timezone.now(),
    )
    course = make_course(client_record, Phase.REFERRAL)
    with pytest.raises(CourseError, match="no approved referral with a prescription"):
        course_advance(course=course, to_phase=Phase.PREPARATION, by=therapist)


# --- Hold, resume, discontinue ------------------------------------------------------------------


def test_hold_needs_a_reason_and_remembers_the_phase(ready_client, therapist):
    course = make_course(ready_client, Phase.PREPARATION)
    with pytest.raises(CourseError, match="reason for putting the course on hold"):
        course_advance(course=course, to_phase=Phase.ON_HOLD, by=therapist, reason="   ")
    course_advance(course=course, to_phase=Phase.ON_HOLD, by=therapist, reason="Travelling")
    course.refresh_from_db()
    assert (course.phase, course.phase_before_hold) == (Phase.ON_HOLD, Phase.PREPARATION)
    course_advance(course=course, to_phase=Phase.PREPARATION, by=therapist)
    course.refresh_from_db()
    assert (course.phase, course.phase_before_hold) == (Phase.PREPARATION, "")
    assert [(t.from_phase, t.to_phase, t.reason) for t in course.transitions.all()] == [
        (Phase.PREPARATION, Phase.ON_HOLD, "Travelling"),
        (Phase.ON_HOLD, Phase.PREPARATION, ""),
    ]


def test_resume_rechecks_the_phase_it_returns_to(client_record, therapist):
    course = make_course(client_record, Phase.ON_HOLD, before=Phase.PREPARATION)
    with pytest.raises(CourseError, match="cannot resume preparation yet"):
        course_advance(course=course, to_phase=Phase.PREPARATION, by=therapist)
    with pytest.raises(CourseError, match="can only resume preparation"):
        course_advance(course=course, to_phase=Phase.REFERRAL, by=therapist)


def test_discontinue_needs_a_reason_from_any_active_phase_and_is_final(ready_client, therapist):
    course = make_course(ready_client, Phase.ON_HOLD, before=Phase.REFERRAL)
    with pytest.raises(CourseError, match="reason for discontinuing"):
        course_advance(course=course, to_phase=Phase.DISCONTINUED, by=therapist)
    course_advance(
        course=course, to_phase=Phase.DISCONTINUED, by=therapist, reason="Client chose to stop"
    )
    course.refresh_from_db()
    assert course.phase == Phase.DISCONTINUED
    assert course.closed_at is not None
    assert course.phase_before_hold == Phase.REFERRAL  # where it stopped, for the stepper
    with pytest.raises(CourseError, match="discontinued and can no longer change"):
        course_advance(course=course, to_phase=Phase.REFERRAL, by=therapist)


def test_a_long_reason_is_refused(ready_client, therapist):
    course = make_course(ready_client, Phase.INTAKE)
    with pytest.raises(CourseError, match="under 2000 characters"):
        course_advance(course=course, to_phase=Phase.ON_HOLD, by=therapist, reason="x" * 2001)


# --- What the page offers -----------------------------------------------------------------------


def _actions(course):
    return {
        a.kind: a
        for a in course_rules.allowed_actions(course=course, facts=course_facts(course=course))
    }


def test_allowed_actions_in_preparation_block_dosing_with_the_r2_reason(ready_client):
    actions = _actions(make_course(ready_client, Phase.PREPARATION))
    assert list(actions) == ["forward", "hold", "discontinue"]
    assert not actions["forward"].possible
    assert actions["forward"].blockers == [R2_MESSAGE]
    assert actions["hold"].needs_reason
    assert actions["discontinue"].confirm


def test_allowed_actions_on_hold_offer_resume_and_discontinue(ready_client):
    actions = _actions(make_course(ready_client, Phase.ON_HOLD, before=Phase.REFERRAL))
    assert list(actions) == ["resume", "discontinue"]
    assert actions["resume"].possible
    assert actions["resume"].to_phase == Phase.REFERRAL


def test_allowed_actions_without_intake_explain_what_is_missing(client_record):
    actions = _actions(make_course(client_record, Phase.INTAKE))
    assert not actions["forward"].possible
    assert "has not submitted their intake" in actions["forward"].blockers[0]


def test_a_closed_course_offers_nothing(client_record):
    assert _actions(make_course(client_record, Phase.COMPLETE)) == {}
