"""The treatment-course rules (R1, R2, R3, R5, R6) as pure functions: which phase change is
possible from where, and what stands in the way. No database access: the selectors gather the
facts, the services and the course page ask these functions, so both give the same answer and the
tests can state the numbers outright."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from kap_clinic import formats
from patients.models import Phase
from patients.models.courses import CLOSED_PHASES

if TYPE_CHECKING:
    from patients.models import Prescription, TreatmentCourse

# R1: the forward path. On hold and discontinued are reachable from any active phase.
FORWARD: dict[str, str] = {
    Phase.INTAKE: Phase.REFERRAL,
    Phase.REFERRAL: Phase.PREPARATION,
    Phase.PREPARATION: Phase.DOSING,
    Phase.DOSING: Phase.COMPLETE,
}
# The stepper on the course page.
PATH: tuple[str, ...] = (
    Phase.INTAKE,
    Phase.REFERRAL,
    Phase.PREPARATION,
    Phase.DOSING,
    Phase.COMPLETE,
)
WORKING_PHASES = (Phase.INTAKE, Phase.REFERRAL, Phase.PREPARATION, Phase.DOSING)


@dataclass(frozen=True)
class CourseFacts:
    """What the preconditions look at, gathered once by courses.selectors.course_facts."""

    has_submitted_intake: bool
    # The client's prescription in force (not superseded), with its referral; None if none.
    prescription: Prescription | None
    doses_used: int
    prep_done: int
    prep_required: int
    today: date


def prescription_blockers(prescription: Prescription | None, *, today: date) -> list[str]:
    """R3: an approved referral with a prescription on file that is in force and not expired."""
    if prescription is None:
        return [
            "There is no approved referral with a prescription on file. Record the "
            "prescriber's approval and the prescription on the client's referral first."
        ]
    problems = []
    if prescription.referral.status != "approved":
        problems.append(
            f"The referral behind the prescription is {prescription.referral.get_status_display()}"
            ", not approved."
        )
    if prescription.superseded_at is not None:
        problems.append(
            "The prescription on file has been superseded. Use the prescription now in force."
        )
    if prescription.valid_until < today:
        problems.append(
            f"The prescription expired on {formats.day(prescription.valid_until)}. Record a "
            "renewed prescription from the prescriber."
        )
    return problems


def dosing_blockers(
    prescription: Prescription | None,
    *,
    doses_used: int,
    prep_done: int,
    prep_required: int,
    today: date,
) -> list[str]:
    """Why dosing cannot start, or [] when it can: R3 (approved referral, prescription in force,
    not expired, doses left) and R2 (enough completed preparation sessions)."""
    problems = prescription_blockers(prescription, today=today)
    if prescription is not None and doses_used >= prescription.doses_authorised:
        problems.append(
            f"All {prescription.doses_authorised} authorised doses have been used "
            f"({doses_used} of {prescription.doses_authorised}). The prescriber must renew the "
            "prescription before another dose."
        )
    if prep_done < prep_required:
        problems.append(
            f"Dosing needs at least {prep_required} completed preparation session"
            f"{'s' if prep_required != 1 else ''} ({prep_done} so far)."
        )
    return problems


def entry_blockers(phase: str, facts: CourseFacts) -> list[str]:
    """What must be true to be in ``phase``: checked when moving forward into it and again when
    resuming into it after a hold."""
    if phase == Phase.REFERRAL and not facts.has_submitted_intake:
        return [
            "The client has not submitted their intake form yet. The referral needs the "
            "submitted intake (R17, R18)."
        ]
    if phase == Phase.PREPARATION:
        return prescription_blockers(facts.prescription, today=facts.today)
    if phase == Phase.DOSING:
        return dosing_blockers(
            facts.prescription,
            doses_used=facts.doses_used,
            prep_done=facts.prep_done,
            prep_required=facts.prep_required,
            today=facts.today,
        )
    return []


def transition_kind(phase: str, to_phase: str, *, phase_before_hold: str = "") -> str | None:
    """ "forward", "hold", "resume", "discontinue", or None when R1 has no such step."""
    if phase in CLOSED_PHASES:
        return None
    if to_phase == Phase.DISCONTINUED:
        return "discontinue"
    if phase == Phase.ON_HOLD:
        return "resume" if to_phase == phase_before_hold and to_phase else None
    if to_phase == Phase.ON_HOLD:
        return "hold"
    if FORWARD.get(phase) == to_phase:
        return "forward"
    return None


def needs_reason(kind: str) -> bool:
    # R1: a hold or a discontinuation is always recorded with its reason.
    return kind in ("hold", "discontinue")


def next_dose_date(
    *, last_dose_on: date | None, min_days_between_doses: int | None, today: date
) -> date | None:
    """R6: the earliest date of the next dose: the last dose plus the prescription's minimum
    interval (never before today). None when no dose has been given: the first dose waits only on
    the preconditions, not on a date."""
    if last_dose_on is None or min_days_between_doses is None:
        return None
    return max(last_dose_on + timedelta(days=min_days_between_doses), today)


# --- What the course page offers ---------------------------------------------------------------


@dataclass
class Action:
    """One phase change the course page may offer. ``possible`` False: the page shows
    ``blockers`` (what is missing) instead of a button."""

    kind: str
    to_phase: str
    label: str
    possible: bool
    blockers: list[str] = field(default_factory=list)
    needs_reason: bool = False
    confirm: bool = False


_FORWARD_LABELS: dict[str, str] = {
    Phase.REFERRAL: "Move to referral",
    Phase.PREPARATION: "Start preparation",
    Phase.DOSING: "Start dosing",
    Phase.COMPLETE: "Mark the course complete",
}


def allowed_actions(*, course: TreatmentCourse, facts: CourseFacts) -> list[Action]:
    """What the page offers now, in order: the next step (possible, or blocked with the reasons),
    resume, on hold, discontinue. Nothing for a closed course. No query."""
    if course.phase in CLOSED_PHASES:
        return []
    actions = []
    if course.phase == Phase.ON_HOLD:
        back = course.phase_before_hold
        blockers = entry_blockers(back, facts)
        actions.append(
            Action(
                kind="resume",
                to_phase=back,
                label=f"Resume {Phase(back).label.lower()}",
                possible=not blockers,
                blockers=blockers,
            )
        )
    else:
        following = FORWARD[course.phase]
        blockers = entry_blockers(following, facts)
        actions.append(
            Action(
                kind="forward",
                to_phase=following,
                label=_FORWARD_LABELS[following],
                possible=not blockers,
                blockers=blockers,
            )
        )
        actions.append(
            Action(
                kind="hold",
                to_phase=Phase.ON_HOLD,
                label="Put on hold",
                possible=True,
                needs_reason=True,
            )
        )
    actions.append(
        Action(
            kind="discontinue",
            to_phase=Phase.DISCONTINUED,
            label="Discontinue the course",
            possible=True,
            needs_reason=True,
            confirm=True,
        )
    )
    return actions
