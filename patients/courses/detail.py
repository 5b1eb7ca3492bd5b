"""The course page's reads (R1-R6, R10): the timeline of the course, its referral, its
prescriptions and its dosing sessions, with the numbers and the phase changes allowed now. A fixed
number of queries whatever the history's length (course_detail)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import CharField, DateField, Exists, F, OuterRef, Value
from django.utils import timezone

from accounts.models import User
from kap_clinic import formats
from patients.courses import rules
from patients.courses.rules import CourseFacts
from patients.courses.selectors import (
    CourseNumbers,
    Step,
    course_facts,
    course_numbers,
    deferred_chart,
    dosing_sessions,
    latest_dose_on,
    open_flags,
    session_dose,
    stepper,
    stopped_at_of,
    with_doses_counted,
)
from patients.models import (
    CourseTransition,
    Phase,
    Prescription,
    ReferralTransition,
    TreatmentCourse,
)
from sessions.models import Session, SessionStatus


@dataclass
class Event:
    """One line of the course timeline."""

    on: date
    sort_key: datetime
    title: str
    detail: str = ""
    by: str = ""
    kind: str = "course"


# The columns both histories are read with (one UNION ALL; see _histories).
_HISTORY = (
    "kind",
    "row_id",
    "moved_from",
    "moved_to",
    "reason",
    "moved_at",
    "moved_on",
    "first",
    "last",
)


def _histories(course: TreatmentCourse) -> tuple[list[CourseTransition], list[ReferralTransition]]:
    """The course's phase changes and its referral's status changes, each oldest first, in one
    query (a UNION ALL of the two tables, where two queries read them), as model instances the
    timeline reads; their users carry only the names it shows."""
    phases = (
        CourseTransition.objects.filter(course=course)
        .order_by()
        .annotate(
            kind=Value("course", output_field=CharField()),
            row_id=F("id"),
            moved_from=F("from_phase"),
            moved_to=F("to_phase"),
            moved_at=F("at"),
            moved_on=Value(None, output_field=DateField()),
            first=F("by__first_name"),
            last=F("by__last_name"),
        )
        .values_list(*_HISTORY)
    )
    rows = phases
    referral_id = course.referral_id
    if referral_id is not None:
        steps = (
            ReferralTransition.objects.filter(referral_id=referral_id)
            .order_by()
            .annotate(
                kind=Value("referral", output_field=CharField()),
                row_id=F("id"),
                moved_from=F("from_status"),
                moved_to=F("to_status"),
                moved_at=F("recorded_at"),
                moved_on=F("happened_on"),
                first=F("recorded_by__first_name"),
                last=F("recorded_by__last_name"),
            )
            .values_list(*_HISTORY)
        )
        rows = phases.union(steps, all=True)
    transitions, referral_transitions = [], []
    for kind, pk, moved_from, moved_to, reason, at, on, first, last in rows.order_by(
        "moved_at", "row_id"
    ):
        who = User(first_name=first, last_name=last)
        if kind == "course":
            transitions.append(
                CourseTransition(
                    pk=pk,
                    course=course,
                    from_phase=moved_from,
                    to_phase=moved_to,
                    reason=reason,
                    at=at,
                    by=who,
                )
            )
        else:
            referral_transitions.append(
                ReferralTransition(
                    pk=pk,
                    from_status=moved_from,
                    to_status=moved_to,
                    reason=reason,
                    recorded_at=at,
                    happened_on=on,
                    recorded_by=who,
                )
            )
    return transitions, referral_transitions


def _timeline(
    course: TreatmentCourse,
    transitions: list[CourseTransition],
    referral_transitions: list[ReferralTransition],
    prescriptions: list[Prescription],
    dosing: list[Session],
) -> list[Event]:
    events = []
    for step in transitions:
        if not step.from_phase:
            title = "Booster course opened" if course.booster_of_id else "Course opened"
        elif step.from_phase == Phase.ON_HOLD and step.to_phase != Phase.DISCONTINUED:
            title = f"Resumed: {Phase(step.to_phase).label}"
        elif step.to_phase == Phase.ON_HOLD:
            title = f"Put on hold during {Phase(step.from_phase).label.lower()}"
        else:
            title = f"{Phase(step.from_phase).label} → {Phase(step.to_phase).label}"
        events.append(
            Event(
                on=timezone.localdate(step.at),
                sort_key=step.at,
                title=title,
                detail=step.reason,
                by=step.by.get_full_name(),
            )
        )
    for change in referral_transitions:
        events.append(
            Event(
                on=change.happened_on,
                sort_key=change.recorded_at,
                title=f"Referral {change.get_to_status_display().lower()}",
                detail=change.reason,
                by=change.recorded_by.get_full_name(),
                kind="referral",
            )
        )
    # The approval is recorded just after its prescription: show the prescription after it.
    approved_at = max(
        (s.recorded_at for s in referral_transitions if s.to_status == "approved"), default=None
    )
    for prescription in prescriptions:
        events.append(
            Event(
                on=prescription.received_on,
                sort_key=max(filter(None, (prescription.created_at, approved_at))),
                title="Prescription received",
                detail=(
                    f"{prescription.medication} {prescription.dose_mg} mg, "
                    f"{prescription.doses_authorised} doses, valid until "
                    f"{formats.day(prescription.valid_until)}"
                ),
                by=prescription.recorded_by.get_full_name(),
                kind="prescription",
            )
        )
    events.extend(_dosing_events(dosing))
    return sorted(events, key=lambda event: (event.on, event.sort_key))


def _tablets(count: int) -> str:
    return f"{count} tablet{'s' if count != 1 else ''}"


def _dosing_events(sessions: list[Session]) -> list[Event]:
    """R10: each dosing session on the timeline: the dose given, the dose deferred (with the
    reason), a no-show, or the session booked ahead."""
    events = []
    given = 0
    for session in sessions:
        dose, deferred = session_dose(session), deferred_chart(session)
        therapist = session.therapist.get_full_name()
        if dose is not None:
            given += 1
            detail = f"{dose.dose_mg} mg, {_tablets(dose.tablets)}"
            if dose.mismatch_reason:
                detail += f". Differs from the prescription: {dose.mismatch_reason}"
            events.append(
                Event(
                    on=timezone.localdate(dose.given_at),
                    sort_key=dose.recorded_at,
                    title=f"Dose {given} given",
                    detail=detail,
                    by=therapist,
                    kind="dose",
                )
            )
        elif deferred is not None:
            # A deferred chart has its time (the check constraint dosing_deferral_has_reason).
            assert deferred.deferred_at is not None
            events.append(
                Event(
                    on=timezone.localdate(deferred.deferred_at),
                    sort_key=deferred.deferred_at,
                    title="Dose deferred",
                    detail=deferred.deferral_note or deferred.get_deferral_reason_display(),
                    by=therapist,
                    kind="deferred",
                )
            )
        elif session.status == SessionStatus.NO_SHOW:
            events.append(
                Event(
                    on=timezone.localdate(session.starts_at),
                    sort_key=session.starts_at,
                    title="Dosing session: the client did not attend",
                    by=therapist,
                    kind="deferred",
                )
            )
        elif session.status == SessionStatus.SCHEDULED:
            local = timezone.localtime(session.starts_at)
            events.append(
                Event(
                    on=local.date(),
                    sort_key=session.starts_at,
                    title="Dosing session booked",
                    detail=f"{local:%-I:%M %p} with {therapist}",
                    kind="planned",
                )
            )
    return events


@dataclass
class CourseDetail:
    course: TreatmentCourse
    facts: CourseFacts
    numbers: CourseNumbers
    stepper: list[Step]
    timeline: list[Event]
    actions: list[rules.Action] = field(default_factory=list)
    # Where a hold or a discontinuation stopped the course, for the stepper and the banner.
    stopped_at: str = ""
    # The latest phase change (its date and reason explain a hold or a discontinuation).
    last_change: CourseTransition | None = None
    # The clinic-local dates of the course's doses, oldest first (the outcome chart's marks).
    dose_dates: list[date] = field(default_factory=list)


def _referral_prescriptions(
    course: TreatmentCourse,
) -> tuple[list[Prescription], Prescription | None]:
    """The prescriptions of the course's referral, oldest first, each with its doses counted;
    and the one of them in force, if one is. One query."""
    referral = course.referral
    assert referral is not None
    rows = list(
        with_doses_counted(Prescription.objects.filter(referral=referral))
        .select_related("recorded_by", "prescriber")
        .annotate(in_force=Exists(Prescription.objects.in_force().filter(pk=OuterRef("pk"))))
        .order_by("received_on", "id")
    )
    current = next((row for row in rows if row.in_force), None)
    prescriptions: list[Prescription] = list(rows)
    for prescription in prescriptions:
        prescription.referral = referral
    return prescriptions, current


def course_detail(*, course: TreatmentCourse, today: date | None = None) -> CourseDetail:
    """Everything the course page shows. Four queries whatever the history's length, for a
    course loaded with course_rows: the course's and its referral's transitions (one query),
    flags, the dosing sessions with their doses and charts, the referral's prescriptions (which
    hold the prescription in force, with its doses counted, when it came from that referral:
    else one more)."""
    transitions, referral_transitions = _histories(course)
    prescriptions: list[Prescription] = []
    in_force: Prescription | None = None
    if course.referral_id:
        prescriptions, in_force = _referral_prescriptions(course)
    # The prescription in force came with the referral's, unless it is another referral's.
    facts = course_facts(course=course, today=today, prescription=in_force or False)
    dosing = dosing_sessions(course=course)
    stopped_at = stopped_at_of(course)
    return CourseDetail(
        course=course,
        facts=facts,
        numbers=course_numbers(
            course, facts, open_flags(client=course.client), latest_dose_on(dosing)
        ),
        stepper=stepper(course, stopped_at=stopped_at),
        timeline=_timeline(course, transitions, referral_transitions, prescriptions, dosing),
        actions=rules.allowed_actions(course=course, facts=facts),
        stopped_at=stopped_at,
        last_change=transitions[-1] if transitions else None,
        dose_dates=[
            timezone.localdate(dose.given_at) for dose in map(session_dose, dosing) if dose
        ],
    )
