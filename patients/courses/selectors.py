"""Reads for the treatment-course pages (R1, R2, R3, R5, R6, R18, R19). Each runs a fixed number of
queries whatever the number of transitions, prescriptions or scores; pages call these, never the
ORM directly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import (
    Case,
    Exists,
    F,
    Func,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from clinic import settings_reader
from patients.courses import rules
from patients.courses.rules import CourseFacts
from patients.models import (
    Client,
    ClientFlag,
    Intake,
    Phase,
    Prescription,
    TreatmentCourse,
)
from patients.models.courses import CLOSED_PHASES
from patients.referrals.selectors import current_prescription, with_referral_is_latest
from sessions.models import (
    DoseAdministration,
    DosingChart,
    Session,
    SessionKind,
    SessionStatus,
)

# --- Counts from the sessions app --------------------------------------------------------------
#
# Each count is a function (one query) and the same count as an annotation, so that a page that
# loads the course or the prescription anyway gets it in that query. The functions read the
# annotation when the object carries it.


def _count(rows: QuerySet) -> Coalesce:
    """COUNT(*) of ``rows`` (filtered on OuterRef) as a scalar subquery, 0 when none."""
    counted = rows.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def with_doses_counted(prescriptions: QuerySet[Prescription]) -> QuerySet[Prescription]:
    """Each prescription with ``doses_counted``: R5, the doses given against it, counted as
    DoseAdministration.objects.counted_against counts them (under the prescription that started
    its authorisation and every prescription of the same authorisation)."""
    # The authorisation's prescriptions, then their doses (the shape counted_against reads
    # them in): the outer prescription is two levels up from the prescriptions' subquery.
    start = Coalesce(OuterRef(OuterRef("authorisation_id")), OuterRef(OuterRef("pk")))
    authorisation = Prescription.objects.filter(Q(pk=start) | Q(authorisation_id=start))
    doses = DoseAdministration.objects.filter(prescription__in=authorisation.values("pk"))
    return prescriptions.annotate(doses_counted=_count(doses))


def prescription_in_force(*, client: Client) -> Prescription | None:
    """current_prescription with its doses counted (R5) and whether its referral is the client's
    latest (with_referral_is_latest). One query."""
    return current_prescription(
        client=client, rows=lambda rows: with_doses_counted(with_referral_is_latest(rows))
    )


def with_facts(courses: QuerySet[TreatmentCourse]) -> QuerySet[TreatmentCourse]:
    """Each course with what course_facts reads besides the prescription: ``prep_done`` (R2,
    the completed preparation sessions) and ``intake_submitted`` (R17)."""
    return courses.annotate(
        prep_done=_count(Session.objects.filter(course=OuterRef("pk")).completed_preparation()),
        intake_submitted=Exists(
            Intake.objects.filter(client=OuterRef("client_id"), status=Intake.Status.SUBMITTED)
        ),
    )


def doses_used(prescription: Prescription | None) -> int:
    """R5: doses given under ``prescription`` (its DoseAdministration rows, whatever the course).
    One COUNT query; none without a prescription or when it carries ``doses_counted``."""
    if prescription is None:
        return 0
    counted = getattr(prescription, "doses_counted", None)
    if counted is not None:
        return counted
    return DoseAdministration.objects.counted_against(prescription).count()


def prep_sessions_completed(course: TreatmentCourse) -> int:
    """R2: completed preparation sessions of ``course``. One COUNT query (none when the course
    was loaded with_facts)."""
    counted = getattr(course, "prep_done", None)
    if counted is not None:
        return counted
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
    """What the phase preconditions look at. Up to four queries: the prescription in force with
    its doses counted (none when ``prescription`` is given, None included), then the submitted
    intake, the doses used (when the prescription does not carry its count) and the completed
    preparation sessions, each none when the course was loaded with_facts."""
    if prescription is False:
        prescription = prescription_in_force(client=course.client)
    submitted = getattr(course, "intake_submitted", None)
    if submitted is None:
        submitted = Intake.objects.filter(
            client_id=course.client_id, status=Intake.Status.SUBMITTED
        ).exists()
    return CourseFacts(
        has_submitted_intake=submitted,
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


def course_numbers(
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


def open_flags(*, client: Client) -> list[ClientFlag]:
    """R18: the flags the client's current intake raised. One query."""
    return list(ClientFlag.objects.filter(client=client, is_current=True).order_by("code"))


# --- The client record summary ------------------------------------------------------------------


def course_summary(
    *,
    client: Client,
    today: date | None = None,
    prescription=False,
    flags: list[ClientFlag] | None = None,
) -> dict | None:
    """For the client record: the active course (else the latest one) with its phase and key
    numbers, or None when the client has no course. Three queries: the course with its facts and
    last dose, the prescription in force (none when ``prescription`` is given, None included),
    the open flags (none when ``flags`` are given); one without a course."""
    course = (
        with_facts(TreatmentCourse.objects.filter(client=client))
        .select_related("booster_of")
        .annotate(
            closed=Case(
                When(phase__in=CLOSED_PHASES, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            ),
            last_dose_at=Subquery(
                DoseAdministration.objects.filter(session__course=OuterRef("pk"))
                .order_by("-given_at")
                .values("given_at")[:1]
            ),
        )
        .order_by("closed", "-opened_at", "-id")
        .first()
    )
    if course is None:
        return None
    course.client = client
    facts = course_facts(course=course, today=today, prescription=prescription)
    if flags is None:
        flags = open_flags(client=client)
    last_dose = timezone.localdate(course.last_dose_at) if course.last_dose_at else None
    return {
        "course": course,
        "numbers": course_numbers(course, facts, flags, last_dose),
        "stepper": stepper(course, stopped_at=stopped_at_of(course)),
    }


def client_courses(*, client: Client) -> QuerySet[TreatmentCourse]:
    """Every course of the client, newest first, boosters included. One query."""
    return (
        TreatmentCourse.objects.filter(client=client)
        .select_related("therapist", "opened_by", "booster_of")
        .order_by("-opened_at", "-id")
    )


def course_rows() -> QuerySet[TreatmentCourse]:
    """Courses as the course pages load them: the therapist, who opened it, the course it
    follows, the referral and its prescriber, and the facts (with_facts)."""
    return with_facts(
        TreatmentCourse.objects.select_related(
            "therapist", "opened_by", "booster_of", "referral__prescriber"
        )
    )


def course_for_client(*, client: Client, course_id: int) -> TreatmentCourse | None:
    course = course_rows().filter(client=client, pk=course_id).first()
    if course is not None:
        course.client = client
    return course


def stopped_at_of(course: TreatmentCourse) -> str:
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


# The dosing sessions a course's pages show: every one but the cancelled.
DOSING_SHOWN = Q(kind=SessionKind.DOSING) & ~Q(status=SessionStatus.CANCELLED)
# With what they show of each: the dose and its pre-dose reading, the chart, the therapist.
DOSING_RELATED = ("dose__pre_dose_reading", "dosing_chart", "therapist")


def dosing_sessions(*, course: TreatmentCourse) -> list[Session]:
    """The course's dosing sessions that were not cancelled, oldest first, with their dose (and
    its pre-dose reading), chart and therapist. One query."""
    return list(
        Session.objects.filter(DOSING_SHOWN, course=course)
        .select_related(*DOSING_RELATED)
        .order_by("starts_at", "id")
    )


def session_dose(session: Session) -> DoseAdministration | None:
    try:
        return session.dose
    except DoseAdministration.DoesNotExist:
        return None


def deferred_chart(session: Session) -> DosingChart | None:
    try:
        chart = session.dosing_chart
    except DosingChart.DoesNotExist:
        return None
    return chart if chart.outcome == DosingChart.Outcome.DEFERRED else None


def latest_dose_on(sessions: list[Session]) -> date | None:
    """What last_dose_on answers, from dosing sessions already loaded."""
    given = [dose.given_at for dose in map(session_dose, sessions) if dose is not None]
    return timezone.localdate(max(given)) if given else None
