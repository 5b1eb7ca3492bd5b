"""Reads for the treatment-course pages (R1, R2, R3, R5, R6, R18, R19). Each runs a fixed number of
queries whatever the number of transitions, prescriptions or scores; pages call these, never the
ORM directly."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Case, IntegerField, Max, QuerySet, Value, When
from django.utils import timezone

from clinic import settings_reader
from kap_clinic import formats
from patients.courses import rules
from patients.courses.rules import CourseFacts
from patients.models import (
    Client,
    ClientFlag,
    CourseTransition,
    Intake,
    Phase,
    Prescription,
    QuestionnaireResponse,
    ReferralTransition,
    TreatmentCourse,
)
from patients.models.courses import CLOSED_PHASES
from patients.models.questionnaires import Instrument
from patients.questionnaires import scoring
from patients.referrals.selectors import current_prescription
from sessions.models import (
    AdverseEvent,
    BloodPressureReading,
    DoseAdministration,
    DosingChart,
    Session,
    SessionKind,
    SessionStatus,
)

# --- Counts from the sessions app --------------------------------------------------------------


def doses_used(prescription: Prescription | None) -> int:
    """R5: doses given under ``prescription`` (its DoseAdministration rows, whatever the course).
    One COUNT query; none without a prescription."""
    if prescription is None:
        return 0
    return DoseAdministration.objects.counted_against(prescription).count()


def prep_sessions_completed(course: TreatmentCourse) -> int:
    """R2: completed preparation sessions of ``course``. One COUNT query."""
    return Session.objects.filter(course=course).completed_preparation().count()


def last_dose_on(course: TreatmentCourse) -> date | None:
    """R6: the clinic-local date of the course's latest dose, or None before the first. One
    query."""
    latest = DoseAdministration.objects.filter(session__course=course).aggregate(
        latest=Max("given_at")
    )["latest"]
    return timezone.localdate(latest) if latest is not None else None


# --- Facts and numbers --------------------------------------------------------------------------


def course_facts(
    *, course: TreatmentCourse, today: date | None = None, prescription=False
) -> CourseFacts:
    """What the phase preconditions look at. Four queries: the prescription in force (none when
    ``prescription`` is given, None included), the submitted intake, the doses used under the
    prescription (none without one) and the completed preparation sessions."""
    if prescription is False:
        prescription = current_prescription(client=course.client)
    return CourseFacts(
        has_submitted_intake=Intake.objects.filter(
            client_id=course.client_id, status=Intake.Status.SUBMITTED
        ).exists(),
        prescription=prescription,
        doses_used=doses_used(prescription),
        prep_done=prep_sessions_completed(course),
        prep_required=settings_reader.current().prep_sessions_required,
        today=today or timezone.localdate(),
    )


@dataclass
class CourseNumbers:
    """The course panel: R2, R5, R6, the prescription's expiry and the open R18 flags."""

    prep_done: int
    prep_required: int
    doses_used: int
    doses_authorised: int | None
    prescription: Prescription | None
    days_left: int | None
    next_dose: date | None
    # Words for the next-dose line when there is no date ("No dose yet", ...).
    next_dose_note: str
    flags: list[ClientFlag]
    # R6: the clinic-local date of the course's latest dose (None before the first).
    last_dose: date | None = None

    @property
    def prep_met(self) -> bool:
        return self.prep_done >= self.prep_required

    @property
    def doses_left(self) -> int | None:
        if self.doses_authorised is None:
            return None
        return max(self.doses_authorised - self.doses_used, 0)

    @property
    def expired(self) -> bool:
        return self.days_left is not None and self.days_left < 0


def _numbers(
    course: TreatmentCourse, facts: CourseFacts, flags: list[ClientFlag], last_dose: date | None
) -> CourseNumbers:
    prescription = facts.prescription
    next_dose = None
    if prescription is not None and facts.doses_used >= prescription.doses_authorised:
        # R5: the authorised count is the hard limit; no date until the prescriber renews.
        note = "None left"
    elif course.phase in CLOSED_PHASES:
        note = "Course closed"
    else:
        next_dose = rules.next_dose_date(
            last_dose_on=last_dose,
            min_days_between_doses=prescription.min_days_between_doses if prescription else None,
            today=facts.today,
        )
        note = ""
        if next_dose is None:
            if course.phase == Phase.DOSING and not rules.dosing_blockers(
                prescription,
                doses_used=facts.doses_used,
                prep_done=facts.prep_done,
                prep_required=facts.prep_required,
                today=facts.today,
            ):
                next_dose, note = facts.today, "First dose: any day from today"
            else:
                note = "No dose yet"
    return CourseNumbers(
        prep_done=facts.prep_done,
        prep_required=facts.prep_required,
        doses_used=facts.doses_used,
        doses_authorised=prescription.doses_authorised if prescription else None,
        prescription=prescription,
        days_left=(prescription.valid_until - facts.today).days if prescription else None,
        next_dose=next_dose,
        next_dose_note=note,
        flags=flags,
        last_dose=last_dose,
    )


def _open_flags(client: Client) -> list[ClientFlag]:
    return list(ClientFlag.objects.filter(client=client, is_current=True).order_by("code"))


# --- The client record summary ------------------------------------------------------------------


def course_summary(*, client: Client, today: date | None = None) -> dict | None:
    """For the client record: the active course (else the latest one) with its phase and key
    numbers, or None when the client has no course. Seven queries with a course and a
    prescription (six without the prescription), one without a course."""
    course = (
        TreatmentCourse.objects.filter(client=client)
        .select_related("booster_of")
        .annotate(
            closed=Case(
                When(phase__in=CLOSED_PHASES, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
        .order_by("closed", "-opened_at", "-id")
        .first()
    )
    if course is None:
        return None
    course.client = client
    facts = course_facts(course=course, today=today)
    return {
        "course": course,
        "numbers": _numbers(course, facts, _open_flags(client), last_dose_on(course)),
        "stepper": stepper(course, stopped_at=_stopped_at(course)),
    }


def client_courses(*, client: Client) -> QuerySet[TreatmentCourse]:
    """Every course of the client, newest first, boosters included. One query."""
    return (
        TreatmentCourse.objects.filter(client=client)
        .select_related("therapist", "opened_by", "booster_of")
        .order_by("-opened_at", "-id")
    )


def course_for_client(*, client: Client, course_id: int) -> TreatmentCourse | None:
    course = (
        TreatmentCourse.objects.filter(client=client, pk=course_id)
        .select_related("therapist", "opened_by", "booster_of", "referral__prescriber")
        .first()
    )
    if course is not None:
        course.client = client
    return course


def _stopped_at(course: TreatmentCourse) -> str:
    """The working phase a hold or a discontinuation interrupted (courses.services keeps it in
    phase_before_hold for both)."""
    if course.phase in (Phase.ON_HOLD, Phase.DISCONTINUED):
        return course.phase_before_hold
    return ""


# --- The course page ----------------------------------------------------------------------------


@dataclass
class Step:
    phase: str
    label: str
    # "done", "current", "stopped" (where a hold or a discontinuation happened) or "todo".
    state: str


def stepper(course: TreatmentCourse, *, stopped_at: str) -> list[Step]:
    """R1 phases as a stepper. On hold and discontinued mark the phase where the course stopped
    (``stopped_at``); the page says which of the two in words."""
    current = course.phase
    if current in (Phase.ON_HOLD, Phase.DISCONTINUED):
        current = stopped_at
    path = rules.PATH
    index = path.index(current) if current in path else -1
    steps = []
    for position, phase in enumerate(path):
        if course.phase == Phase.COMPLETE or position < index:
            state = "done"
        elif position == index:
            state = "current" if course.phase in path else "stopped"
        else:
            state = "todo"
        steps.append(Step(phase=phase, label=Phase(phase).label, state=state))
    return steps


@dataclass
class Event:
    """One line of the course timeline."""

    on: date
    sort_key: datetime
    title: str
    detail: str = ""
    by: str = ""
    kind: str = "course"


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


def dosing_sessions(*, course: TreatmentCourse) -> list[Session]:
    """The course's dosing sessions that were not cancelled, oldest first, with their dose (and
    its pre-dose reading), chart and therapist. One query."""
    return list(
        Session.objects.filter(course=course, kind=SessionKind.DOSING)
        .exclude(status=SessionStatus.CANCELLED)
        .select_related("dose__pre_dose_reading", "dosing_chart", "therapist")
        .order_by("starts_at", "id")
    )


def _dose(session: Session) -> DoseAdministration | None:
    try:
        return session.dose
    except DoseAdministration.DoesNotExist:
        return None


def _deferred_chart(session: Session) -> DosingChart | None:
    try:
        chart = session.dosing_chart
    except DosingChart.DoesNotExist:
        return None
    return chart if chart.outcome == DosingChart.Outcome.DEFERRED else None


def _latest_dose_on(sessions: list[Session]) -> date | None:
    """What last_dose_on answers, from dosing sessions already loaded."""
    given = [dose.given_at for dose in map(_dose, sessions) if dose is not None]
    return timezone.localdate(max(given)) if given else None


def _tablets(count: int) -> str:
    return f"{count} tablet{'s' if count != 1 else ''}"


def _dosing_events(sessions: list[Session]) -> list[Event]:
    """R10: each dosing session on the timeline: the dose given, the dose deferred (with the
    reason), a no-show, or the session booked ahead."""
    events = []
    given = 0
    for session in sessions:
        dose, deferred = _dose(session), _deferred_chart(session)
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


def course_detail(*, course: TreatmentCourse, today: date | None = None) -> CourseDetail:
    """Everything the course page shows. Nine queries whatever the history's length (eight
    without a prescription): transitions, the four of course_facts, flags, the dosing sessions
    with their doses and charts, the linked referral's transitions, its prescriptions."""
    transitions = list(course.transitions.select_related("by").order_by("at", "id"))
    facts = course_facts(course=course, today=today)
    referral_transitions: list[ReferralTransition] = []
    prescriptions: list[Prescription] = []
    if course.referral_id:
        referral_transitions = list(
            ReferralTransition.objects.filter(referral_id=course.referral_id)
            .select_related("recorded_by")
            .order_by("recorded_at", "id")
        )
        prescriptions = list(
            Prescription.objects.filter(referral_id=course.referral_id)
            .select_related("recorded_by")
            .order_by("received_on", "id")
        )
    dosing = dosing_sessions(course=course)
    stopped_at = _stopped_at(course)
    return CourseDetail(
        course=course,
        facts=facts,
        numbers=_numbers(course, facts, _open_flags(course.client), _latest_dose_on(dosing)),
        stepper=stepper(course, stopped_at=stopped_at),
        timeline=_timeline(course, transitions, referral_transitions, prescriptions, dosing),
        actions=rules.allowed_actions(course=course, facts=facts),
        stopped_at=stopped_at,
        last_change=transitions[-1] if transitions else None,
    )


# --- The prescriber hand-off summary ------------------------------------------------------------


@dataclass
class ScoreRow:
    on: date
    instrument: str
    name: str
    total: int
    max_total: int
    band: str


def score_trend(*, client: Client) -> tuple[list[ScoreRow], dict]:
    """R19 PHQ-9 and GAD-7 over time, oldest first, as table rows and as chart data (for
    json_script: {"labels": ["Jan 31, 2025", ...], "phq9": [{"x": "Jan 31, 2025", "y": 12}, ...],
    "gad7": [...]}: the dates in order, once each). One query."""
    responses = (
        QuestionnaireResponse.objects.filter(
            client=client, instrument__in=[Instrument.PHQ9, Instrument.GAD7]
        )
        .only("id", "instrument", "total", "band", "submitted_at", "client_id")
        .order_by("submitted_at", "id")
    )
    rows = []
    chart: dict[str, list[dict]] = {Instrument.PHQ9: [], Instrument.GAD7: []}
    labels: list[str] = []
    for response in responses:
        spec = scoring.definition(response.instrument)
        on = timezone.localdate(response.submitted_at)
        rows.append(
            ScoreRow(
                on=on,
                instrument=response.instrument,
                name=spec.name,
                total=response.total,
                max_total=spec.max_total,
                band=response.band,
            )
        )
        label = formats.day(on)
        if not labels or labels[-1] != label:
            labels.append(label)
        chart[response.instrument].append({"x": label, "y": response.total})
    return rows, {
        "labels": labels,
        "phq9": chart[Instrument.PHQ9],
        "gad7": chart[Instrument.GAD7],
    }


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
    dose = _dose(session)
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


def handoff(*, course: TreatmentCourse, today: date | None = None) -> Handoff:
    """The prescriber hand-off summary. Ten queries whatever the number of scores, doses,
    readings or sessions (nine without a prescription): the four of course_facts, scores, flags,
    dosing sessions (doses and deferrals), readings, adverse events, integration sessions."""
    facts = course_facts(course=course, today=today)
    scores, chart = score_trend(client=course.client)
    dosing = dosing_sessions(course=course)
    return Handoff(
        course=course,
        numbers=_numbers(course, facts, _open_flags(course.client), _latest_dose_on(dosing)),
        scores=scores,
        chart=chart,
        doses=[row for row in map(_handoff_dose, dosing) if row is not None],
        deferrals=[kept for kept in map(_deferred_chart, dosing) if kept is not None],
        bp_readings=list(
            BloodPressureReading.objects.filter(session__course=course).order_by("taken_at", "id")
        ),
        adverse_events=list(
            AdverseEvent.objects.filter(session__course=course).order_by("noticed_at", "id")
        ),
        integration_sessions=list(
            Session.objects.filter(
                course=course,
                kind=SessionKind.INTEGRATION,
                status__in=[SessionStatus.COMPLETED, SessionStatus.NO_SHOW],
            )
            .select_related("follows_dose__dose")
            .order_by("starts_at", "id")
        ),
    )
