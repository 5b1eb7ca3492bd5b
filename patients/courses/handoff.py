"""The prescriber hand-off summary of a course (R10, R12, R15, R19, R23): what the prescriber
needs for follow-up, read in a fixed number of queries whatever the course's length."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Q

from patients.courses.outcomes import ScoreRow, score_trend
from patients.courses.selectors import (
    DOSING_RELATED,
    DOSING_SHOWN,
    CourseNumbers,
    course_facts,
    course_numbers,
    deferred_chart,
    latest_dose_on,
    open_flags,
    session_dose,
)
from patients.models import TreatmentCourse
from sessions.models import (
    AdverseEvent,
    BloodPressureReading,
    DoseAdministration,
    DosingChart,
    Session,
    SessionKind,
    SessionStatus,
)


@dataclass(frozen=True)
class HandoffDose:
    """A dose on the hand-off, with its session's chart for the discharge facts (R15): when,
    into whose care, when the chaperone arrived. ``chart`` is None only for a dose recorded
    without a chart (none is, through the services)."""

    dose: DoseAdministration
    chart: DosingChart | None

    @property
    def discharged(self) -> bool:
        return self.chart is not None and self.chart.discharged_at is not None


def _handoff_dose(session: Session) -> HandoffDose | None:
    dose = session_dose(session)
    if dose is None:
        return None
    try:
        chart = session.dosing_chart
    except DosingChart.DoesNotExist:
        chart = None
    return HandoffDose(dose=dose, chart=chart)


@dataclass
class Handoff:
    """The prescriber hand-off summary. The regular record only (R23): doses and their discharge
    (time, chaperone, pickup), vitals, adverse events, scores and attendance; never a
    psychotherapy note, nor the chart's free-text notes."""

    course: TreatmentCourse
    numbers: CourseNumbers
    scores: list[ScoreRow]
    chart: dict
    # The doses, oldest first, each with its pre_dose_reading and its chart's discharge (R15).
    doses: list[HandoffDose] = field(default_factory=list)
    # Every blood-pressure reading of the course's sessions (R12: every reading is kept).
    bp_readings: list[BloodPressureReading] = field(default_factory=list)
    adverse_events: list[AdverseEvent] = field(default_factory=list)
    # Completed and missed integration sessions (R7), each with the dose it followed.
    integration_sessions: list[Session] = field(default_factory=list)
    # Dosing charts closed without a dose (R12, R13 and other reasons).
    deferrals: list[DosingChart] = field(default_factory=list)


def _sessions(course: TreatmentCourse) -> tuple[list[Session], list[Session]]:
    """The course's dosing sessions (as courses.selectors.dosing_sessions loads them) and its
    completed or missed integration sessions (R7, each with the dose it followed), both oldest
    first. One query."""
    attended = Q(
        kind=SessionKind.INTEGRATION, status__in=[SessionStatus.COMPLETED, SessionStatus.NO_SHOW]
    )
    sessions = list(
        Session.objects.filter(DOSING_SHOWN | attended, course=course)
        .select_related(*DOSING_RELATED, "follows_dose__dose")
        .order_by("starts_at", "id")
    )
    dosing = [session for session in sessions if session.kind == SessionKind.DOSING]
    return dosing, [session for session in sessions if session.kind == SessionKind.INTEGRATION]


def handoff(*, course: TreatmentCourse, today: date | None = None) -> Handoff:
    """The prescriber hand-off summary. Six queries whatever the number of scores, doses,
    readings or sessions, for a course loaded with courses.selectors.course_rows: the prescription
    in force with its doses counted, scores, flags, the sessions (doses, deferrals, integration
    attendance), readings, adverse events."""
    facts = course_facts(course=course, today=today)
    scores, chart = score_trend(client=course.client)
    dosing, integration = _sessions(course)
    return Handoff(
        course=course,
        numbers=course_numbers(
            course, facts, open_flags(client=course.client), latest_dose_on(dosing)
        ),
        scores=scores,
        chart=chart,
        doses=[row for row in map(_handoff_dose, dosing) if row is not None],
        deferrals=[kept for kept in map(deferred_chart, dosing) if kept is not None],
        bp_readings=list(
            BloodPressureReading.objects.filter(session__course=course).order_by("taken_at", "id")
        ),
        adverse_events=list(
            AdverseEvent.objects.filter(session__course=course).order_by("noticed_at", "id")
        ),
        integration_sessions=integration,
    )
