"""Writes to treatment courses (R1, R2, R3): open a course or a booster, and every phase change.

Each change runs under a row lock on the course, checks R1's path and the phase's preconditions
(courses.rules), records a CourseTransition (from, to, reason, by) and leaves the audit of the rows
to django-auditlog. A refused change raises CourseError with a message for the clinician."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone

from kap_clinic.errors import DomainError
from patients.access import can_change_client
from patients.courses import rules, selectors
from patients.courses.rules import CourseFacts
from patients.models import Client, CourseTransition, Phase, Referral, TreatmentCourse
from patients.models.courses import CLOSED_PHASES

if TYPE_CHECKING:
    from accounts.models import User

REASON_MAX = 2000


class CourseError(DomainError):
    """A rule refused the change; the message is for the clinician."""


def _require_change(by: User, client: Client) -> None:
    if not can_change_client(by, client):
        raise CourseError("You cannot change this client's treatment course.")


def course_open(*, client: Client, by: User, booster_of: TreatmentCourse | None = None):
    """R1: a new course (or a booster after a completed course) for ``client``, with the client's
    primary therapist, starting in intake. One active course per client (also a database
    constraint, which settles two clinicians opening one at the same moment)."""
    _require_change(by, client)
    if client.is_archived:
        raise CourseError("This client's record is archived. Restore it before opening a course.")
    if booster_of is not None:
        if booster_of.client_id != client.pk:
            raise CourseError("A booster course follows one of this client's own courses.")
        if booster_of.phase != Phase.COMPLETE:
            raise CourseError(
                "A booster course can only follow a completed course (R1). This course is "
                f"{booster_of.get_phase_display().lower()}."
            )
    active = TreatmentCourse.objects.filter(client=client).exclude(phase__in=CLOSED_PHASES)
    if active.exists():
        raise CourseError(_already_active(client))
    try:
        with transaction.atomic():
            course = TreatmentCourse.objects.create(
                client=client,
                therapist=client.primary_therapist,
                booster_of=booster_of,
                opened_by=by,
            )
            CourseTransition.objects.create(
                course=course,
                from_phase="",
                to_phase=Phase.INTAKE,
                reason=f"Booster after course #{booster_of.pk}" if booster_of else "",
                by=by,
            )
    except IntegrityError as error:
        if "course_one_active_per_client" in str(error) or "UNIQUE" in str(error).upper():
            raise CourseError(_already_active(client)) from error
        raise
    return course


def _already_active(client: Client) -> str:
    return (
        f"{client.full_name} already has an active treatment course. Complete, or discontinue, "
        "that course before opening another."
    )


def course_advance(
    *,
    course: TreatmentCourse,
    to_phase: str,
    by: User,
    reason: str = "",
    today: date | None = None,
) -> TreatmentCourse:
    """Move ``course`` to ``to_phase``: the next phase of R1's path, on hold, back from a hold to
    the phase it interrupted, or discontinued. Preconditions (rules.entry_blockers):

    - referral: a submitted intake;
    - preparation: an approved referral with a prescription in force, not expired (R3); the
      course is linked to that referral;
    - dosing: R3 with doses left, and R2's completed preparation sessions;
    - resuming re-checks the preconditions of the phase it returns to.

    On hold and discontinued need a reason ("clients can discontinue at any time"); complete and
    discontinued are final."""
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise CourseError(f"Keep the reason under {REASON_MAX} characters.")
    with transaction.atomic():
        locked = (
            TreatmentCourse.objects.select_for_update()
            .select_related("client", "client__primary_therapist")
            .get(pk=course.pk)
        )
        _require_change(by, locked.client)
        facts = selectors.course_facts(course=locked, today=today)
        _check(locked, to_phase, reason, facts)
        from_phase = locked.phase
        if to_phase == Phase.ON_HOLD:
            locked.phase_before_hold = from_phase
        elif to_phase == Phase.DISCONTINUED:
            # Remembers where the course stopped, for the stepper (a hold already did).
            if from_phase != Phase.ON_HOLD:
                locked.phase_before_hold = from_phase
        else:
            locked.phase_before_hold = ""
        if to_phase in (Phase.PREPARATION, Phase.DOSING):
            # _check refused the move without a prescription in force (R3's entry blockers).
            assert facts.prescription is not None
            locked.referral = facts.prescription.referral
        locked.phase = to_phase
        if to_phase in CLOSED_PHASES:
            locked.closed_at = timezone.now()
        locked.save()
        CourseTransition.objects.create(
            course=locked, from_phase=from_phase, to_phase=to_phase, reason=reason, by=by
        )
    course.refresh_from_db()
    return course


def _check(course: TreatmentCourse, to_phase: str, reason: str, facts: CourseFacts) -> None:
    if to_phase not in Phase.values:
        raise CourseError("That is not a course phase.")
    if course.phase in CLOSED_PHASES:
        raise CourseError(
            f"This course is {course.get_phase_display().lower()} and can no longer change. "
            + (
                "Open a booster course to continue treatment."
                if course.phase == Phase.COMPLETE
                else "Open a new course to start again."
            )
        )
    kind = rules.transition_kind(course.phase, to_phase, phase_before_hold=course.phase_before_hold)
    if kind is None:
        raise CourseError(_impossible(course, to_phase))
    if rules.needs_reason(kind) and not reason:
        raise CourseError(
            "Give a reason for putting the course on hold."
            if kind == "hold"
            else "Give a reason for discontinuing the course."
        )
    if kind in ("forward", "resume"):
        blockers = rules.entry_blockers(to_phase, facts)
        if blockers:
            verb = "resume" if kind == "resume" else "move to"
            raise CourseError(
                f"The course cannot {verb} {Phase(to_phase).label.lower()} yet: "
                + " ".join(blockers)
            )


def _impossible(course: TreatmentCourse, to_phase: str) -> str:
    here = course.get_phase_display().lower()
    there = Phase(to_phase).label.lower()
    if course.phase == to_phase:
        return f"The course is already {here}."
    if course.phase == Phase.ON_HOLD:
        before = Phase(course.phase_before_hold).label.lower()
        return (
            f"A course on hold can only resume {before} (where it stopped) or be discontinued; "
            f"it cannot move to {there}."
        )
    # _check raised for the closed phases and this function returned for on hold: every phase
    # left has a next one.
    following = rules.FORWARD[course.phase]
    return (
        f"A course in {here} cannot move to {there}. The next phase is "
        f"{Phase(following).label.lower()}."
    )


# The course phase a referral's step brings the course to (R1): sent or under review, the
# referral phase; approved (always with its prescription, R3), preparation.
FOLLOWS_REFERRAL: dict[str, tuple[str, ...]] = {
    Referral.Status.SENT: (Phase.REFERRAL,),
    Referral.Status.UNDER_REVIEW: (Phase.REFERRAL,),
    Referral.Status.APPROVED: (Phase.REFERRAL, Phase.PREPARATION),
}
OPENS_WITH = (Referral.Status.DRAFT, *FOLLOWS_REFERRAL)


def course_follow_referral(*, referral: Referral, to_status: str, by: User) -> None:
    """R1: the course opens with the referral (a booster after a completed course) and moves
    with it, each move recorded with the referral's step as its reason. A move whose other
    preconditions are not met yet (no submitted intake) is left to the clinician: the referral's
    own step stands either way."""
    if to_status not in OPENS_WITH:
        return
    client = referral.client
    course = TreatmentCourse.objects.filter(client=client).exclude(phase__in=CLOSED_PHASES).first()
    try:
        if course is None:
            completed = (
                TreatmentCourse.objects.filter(client=client, phase=Phase.COMPLETE)
                .order_by("-closed_at", "-pk")
                .first()
            )
            course = course_open(client=client, by=by, booster_of=completed)
        step = Referral.Status(to_status).label.lower()
        for phase in FOLLOWS_REFERRAL.get(to_status, ()):
            if rules.FORWARD.get(course.phase) == phase:
                course = course_advance(
                    course=course,
                    to_phase=phase,
                    by=by,
                    reason=f"The referral to {referral.prescriber} was {step}.",
                )
    except CourseError:
        return
