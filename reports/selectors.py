"""Reads for the course-progress dashboard (R2, R5, R6, R7, R8, R12-R13, R19, R20). Each runs a
fixed number of queries whatever the number of courses: the per-course numbers are annotations
(subqueries) on one course query, the scores of a page come in one more query."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, TypedDict

from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from integration.models import IntegrationReminder, ReminderStatus
from kap_clinic import formats
from patients.access import visible_clients
from patients.courses.rules import WORKING_PHASES
from patients.models import (
    Alert,
    Phase,
    Prescription,
    QuestionnaireResponse,
    Referral,
    TreatmentCourse,
)
from patients.models.questionnaires import Instrument
from sessions.models import DoseAdministration, DosingChart, Session, SessionKind, SessionStatus

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django.contrib.auth.models import AnonymousUser
    from django_stubs_ext import WithAnnotations

    from accounts.models import User


class CourseNumbers(TypedDict):
    """The annotations course_queryset adds to each course (the alert_* flags aside)."""

    prep_done: int
    doses_used: int
    doses_authorised: int | None
    last_dose_at: datetime | None
    next_session_at: datetime | None
    integrated: bool


if TYPE_CHECKING:
    AnnotatedCourse = WithAnnotations[TreatmentCourse, CourseNumbers]

ACTIVE_PHASES: tuple[str, ...] = (*WORKING_PHASES, Phase.ON_HOLD)
# R7/R8: integration is due within three days of a dose; exactly 72 h still counts.
INTEGRATION_WINDOW = timedelta(hours=72)
DEFERRAL_LOOKBACK = timedelta(days=30)
EXPIRY_WARNING_DAYS = 30
REFERRAL_WAIT_DAYS = 14
PAGE_SIZE = 25

# Alert types: (key, label). Labels are what a clinician reads.
ALERT_TYPES: tuple[tuple[str, str], ...] = (
    ("item9", "Self-harm answer not acknowledged"),
    ("undischarged", "Dose given, discharge not recorded"),
    ("deferred", "Dose deferred in the last 30 days"),
    ("reminder_failed", "Reminder failed"),
    ("rx_expiring", "Prescription expires within 30 days"),
    ("referral_waiting", "Referral waiting over 14 days"),
)
ALERT_LABELS = dict(ALERT_TYPES)

# Sorting: the key in the URL -> the ordering. Anything else falls back to the client's name.
SORTS: dict[str, tuple[str, ...]] = {
    "client": ("client__last_name", "client__first_name", "pk"),
    "therapist": ("therapist__last_name", "therapist__first_name", "pk"),
    "phase": ("phase", "pk"),
    "opened": ("opened_at", "pk"),
    "last_dose": ("last_dose_at", "pk"),
    "next_session": ("next_session_at", "pk"),
}


@dataclass(frozen=True)
class Filters:
    therapist_id: int | None = None
    phase: str = ""
    alert: str = ""
    opened_from: date | None = None
    opened_to: date | None = None
    sort: str = "client"
    descending: bool = False


def _count(queryset: QuerySet, group: str) -> Coalesce:
    """COUNT(*) of ``queryset`` (filtered on an OuterRef) as a subquery, 0 when none."""
    counted = queryset.order_by().values(group).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _undischarged(now: datetime) -> QuerySet[DosingChart]:
    """R10, R15: the course's dosing charts where the dose was given and no discharge was
    recorded, from a session on a day before today (clinic time): the chart was left open. On
    the day itself the client may still be in the room. Oldest first."""
    return DosingChart.objects.filter(
        session__course=OuterRef("pk"),
        outcome=DosingChart.Outcome.OPEN,
        discharged_at__isnull=True,
        session__dose__isnull=False,
        session__starts_at__lt=formats.day_start(timezone.localdate(now)),
    ).order_by("session__starts_at", "session_id")


def _alert_exists(now: datetime) -> dict[str, Exists]:
    today = timezone.localdate(now)
    current_rx = Prescription.objects.in_force().filter(client=OuterRef("client_id"))
    return {
        # R20: an item-9 answer above zero raises an alert; open until acknowledged.
        "item9": Exists(
            Alert.objects.filter(
                client=OuterRef("client_id"),
                kind=Alert.Kind.PHQ9_ITEM9,
                acknowledged_at__isnull=True,
            )
        ),
        "undischarged": Exists(_undischarged(now)),
        # R12/R13: a dose deferred (blood pressure or another reason) recently.
        "deferred": Exists(
            DosingChart.objects.filter(
                session__course=OuterRef("pk"),
                outcome=DosingChart.Outcome.DEFERRED,
                deferred_at__gte=now - DEFERRAL_LOOKBACK,
            )
        ),
        # R8: a reminder the mail server refused.
        "reminder_failed": Exists(
            IntegrationReminder.objects.filter(course=OuterRef("pk"), status=ReminderStatus.FAILED)
        ),
        "rx_expiring": Exists(
            current_rx.filter(valid_until__lte=today + timedelta(days=EXPIRY_WARNING_DAYS))
        ),
        "referral_waiting": Exists(
            Referral.objects.filter(
                client=OuterRef("client_id"),
                status__in=[Referral.Status.SENT, Referral.Status.UNDER_REVIEW],
                status_date__lt=today - timedelta(days=REFERRAL_WAIT_DAYS),
            )
        ),
    }


def course_queryset(
    user: User | AnonymousUser, *, filters: Filters, now: datetime | None = None
) -> QuerySet[AnnotatedCourse]:
    """The active courses ``user`` may see (admin: all; therapist: their caseload), filtered,
    sorted, each annotated with its numbers. One query when evaluated."""
    now = now or timezone.now()
    current_rx = Prescription.objects.in_force().filter(client=OuterRef("client_id"))
    last_dose = DoseAdministration.objects.filter(session__course=OuterRef("pk")).order_by(
        "-given_at"
    )
    alerts = _alert_exists(now)
    undischarged = _undischarged(now)
    courses = (
        TreatmentCourse.objects.filter(
            client__in=visible_clients(user), phase__in=ACTIVE_PHASES, client__archived_at=None
        )
        .select_related("client", "therapist")
        .annotate(
            # R2
            prep_done=_count(
                Session.objects.filter(course=OuterRef("pk")).completed_preparation(),
                "course",
            ),
            # R5: doses counted against the prescription in force.
            doses_used=_count(
                DoseAdministration.objects.filter(
                    prescription__client=OuterRef("client_id")
                ).under_authorisation_in(Prescription.objects.in_force()),
                "counted_under",
            ),
            doses_authorised=Subquery(current_rx.values("doses_authorised")[:1]),
            last_dose_at=Subquery(last_dose.values("given_at")[:1]),
            next_session_at=Subquery(
                Session.objects.filter(
                    course=OuterRef("pk"), status=SessionStatus.SCHEDULED, starts_at__gte=now
                )
                .order_by("starts_at")
                .values("starts_at")[:1]
            ),
        )
        # Its own call (the same SQL): django-stubs drops the annotations of a call given **kwargs.
        .annotate(**{f"alert_{key}": expression for key, expression in alerts.items()})
        .annotate(
            # The session the undischarged alert links to (the oldest, when more than one).
            undischarged_session_id=Subquery(undischarged.values("session_id")[:1]),
            undischarged_starts_at=Subquery(undischarged.values("session__starts_at")[:1]),
        )
        .annotate(
            # R7: a completed integration session starting within 72 h of the latest dose.
            integrated=Exists(
                Session.objects.filter(
                    course=OuterRef("pk"),
                    kind=SessionKind.INTEGRATION,
                    status=SessionStatus.COMPLETED,
                    starts_at__gte=OuterRef("last_dose_at"),
                    starts_at__lte=ExpressionWrapper(
                        OuterRef("last_dose_at") + INTEGRATION_WINDOW,
                        output_field=DateTimeField(),
                    ),
                )
            )
        )
    )
    if filters.therapist_id:
        courses = courses.filter(therapist_id=filters.therapist_id)
    if filters.phase:
        courses = courses.filter(phase=filters.phase)
    if filters.alert in ALERT_LABELS:
        courses = courses.filter(**{f"alert_{filters.alert}": True})
    if filters.opened_from:
        courses = courses.filter(opened_at__gte=formats.day_start(filters.opened_from))
    if filters.opened_to:
        courses = courses.filter(
            opened_at__lt=formats.day_start(filters.opened_to + timedelta(days=1))
        )
    ordering = SORTS.get(filters.sort, SORTS["client"])
    if filters.descending:
        first = F(ordering[0]).desc(nulls_last=True)
    else:
        first = F(ordering[0]).asc(nulls_last=True)
    return courses.order_by(first, *ordering[1:])


@dataclass
class Score:
    latest: int | None = None
    change: int | None = None


@dataclass(frozen=True)
class RowAlert:
    """One open alert of a row: its label, and where it points when it is about one session."""

    key: str
    label: str
    url: str = ""
    detail: str = ""


@dataclass
class CourseRow:
    course: TreatmentCourse
    prep_done: int
    doses_used: int
    doses_authorised: int | None
    last_dose: date | None
    next_session: datetime | None
    # "yes", "no", "pending" (under 72 h since the dose), "" before the first dose.
    integration: str
    phq9: Score
    gad7: Score
    alert_items: list[RowAlert] = field(default_factory=list)
    # PHQ-9 totals, oldest first, for the sparkline.
    phq9_series: list[int] = field(default_factory=list)

    @property
    def alerts(self) -> list[str]:
        """The labels of the open alerts (the CSV, the filter)."""
        return [alert.label for alert in self.alert_items]

    @property
    def client(self):
        return self.course.client

    @property
    def initials(self) -> str:
        client = self.course.client
        return f"{client.first_name[:1]}{client.last_name[:1]}".upper()


def _scores_by_client(client_ids: Iterable[int]) -> dict[int, dict[str, list[int]]]:
    """R19: each client's PHQ-9 and GAD-7 totals, oldest first. One query."""
    found: dict[int, dict[str, list[int]]] = {}
    responses = (
        QuestionnaireResponse.objects.filter(
            client_id__in=list(client_ids), instrument__in=[Instrument.PHQ9, Instrument.GAD7]
        )
        .order_by("submitted_at", "id")
        .values_list("client_id", "instrument", "total")
    )
    for client_id, instrument, total in responses:
        found.setdefault(client_id, {}).setdefault(instrument, []).append(total)
    return found


def _score(totals: list[int]) -> Score:
    if not totals:
        return Score()
    # The change from the client's first score (the baseline); none with a single score.
    return Score(latest=totals[-1], change=totals[-1] - totals[0] if len(totals) > 1 else None)


def integration_state(last_dose_at: datetime | None, integrated: bool, now: datetime) -> str:
    if last_dose_at is None:
        return ""
    if integrated:
        return "yes"
    return "pending" if now < last_dose_at + INTEGRATION_WINDOW else "no"


def _row_alerts(course: AnnotatedCourse) -> list[RowAlert]:
    """The course's open alerts, in ALERT_TYPES order; the undischarged one links its dosing
    chart. No query: everything is an annotation."""
    found = []
    for key, label in ALERT_TYPES:
        if not getattr(course, f"alert_{key}"):
            continue
        session_id = course.undischarged_session_id  # type: ignore[attr-defined]
        if key == "undischarged" and session_id is not None:
            url = reverse(
                "patients:sessions:dosing_chart",
                kwargs={"client_id": course.client_id, "session_id": session_id},
            )
            on = formats.clinic_date(course.undischarged_starts_at)  # type: ignore[attr-defined]
            found.append(
                RowAlert(key, label, url=url, detail=f"dosing session of {formats.day(on)}")
            )
        else:
            found.append(RowAlert(key, label))
    return found


def rows_for(courses: Iterable[AnnotatedCourse], *, now: datetime | None = None) -> list[CourseRow]:
    """Rows for annotated courses from ``course_queryset``: one more query (the scores)."""
    now = now or timezone.now()
    courses = list(courses)
    scores = _scores_by_client(course.client_id for course in courses)
    rows = []
    for course in courses:
        totals = scores.get(course.client_id, {})
        rows.append(
            CourseRow(
                course=course,
                prep_done=course.prep_done,
                doses_used=course.doses_used if course.doses_authorised is not None else 0,
                doses_authorised=course.doses_authorised,
                last_dose=timezone.localdate(course.last_dose_at) if course.last_dose_at else None,
                next_session=course.next_session_at,
                integration=integration_state(course.last_dose_at, course.integrated, now),
                phq9=_score(totals.get(Instrument.PHQ9, [])),
                gad7=_score(totals.get(Instrument.GAD7, [])),
                alert_items=_row_alerts(course),
                phq9_series=totals.get(Instrument.PHQ9, []),
            )
        )
    return rows


def course_rows(
    user: User | AnonymousUser, *, filters: Filters, now: datetime | None = None
) -> list[CourseRow]:
    """Every filtered row at once (tests, small clinics). Pages and the CSV use course_queryset
    and rows_for on one page or chunk at a time. Two queries."""
    return rows_for(course_queryset(user, filters=filters, now=now), now=now)


def iter_rows(
    user: User | AnonymousUser, *, filters: Filters, chunk: int = 200
) -> Iterable[list[CourseRow]]:
    """The filtered rows in chunks of ``chunk`` courses, for the CSV: the ids first (one query),
    then two queries per chunk, so the whole export is never held in memory."""
    now = timezone.now()
    queryset = course_queryset(user, filters=filters, now=now)
    ids = list(queryset.values_list("pk", flat=True))
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        order = {pk: index for index, pk in enumerate(part)}
        courses = sorted(queryset.filter(pk__in=part), key=lambda c: order[c.pk])
        yield rows_for(courses, now=now)


# --- Clinic-level figures ------------------------------------------------------------------------


@dataclass
class Figures:
    start: date
    end: date
    by_phase: list[tuple[str, int]]
    doses_given: int
    deferred_bp: int
    deferred_other: int
    # R7: doses in the period followed by a completed integration session within 72 h.
    integrated_doses: int
    phq9_median_change: float | None
    gad7_median_change: float | None
    completed_courses: int
    reminders_sent: int
    reminders_failed: int

    @property
    def deferred_total(self) -> int:
        return self.deferred_bp + self.deferred_other

    @property
    def compliance_percent(self) -> int | None:
        if not self.doses_given:
            return None
        return round(100 * self.integrated_doses / self.doses_given)


def _median_change(totals_by_client: dict[int, dict[str, list[int]]], instrument: str):
    changes = [
        totals[-1] - totals[0]
        for scores in totals_by_client.values()
        if len(totals := scores.get(instrument, [])) > 1
    ]
    return statistics.median(changes) if changes else None


def clinic_figures(user: User | AnonymousUser, *, start: date, end: date) -> Figures:
    """The figures at the top of the dashboard for ``start``..``end`` (inclusive, clinic days),
    over the courses ``user`` may see. Seven queries."""
    since, until = formats.day_start(start), formats.day_start(end + timedelta(days=1))
    clients = visible_clients(user)
    phase_counts = dict(
        TreatmentCourse.objects.filter(client__in=clients)
        .order_by()
        .values_list("phase")
        .annotate(n=Count("pk"))
        .values_list("phase", "n")
    )
    by_phase = [(label, phase_counts.get(value, 0)) for value, label in Phase.choices]

    followed = Session.objects.filter(
        course=OuterRef("session__course"),
        kind=SessionKind.INTEGRATION,
        status=SessionStatus.COMPLETED,
        starts_at__gte=OuterRef("given_at"),
        starts_at__lte=ExpressionWrapper(
            OuterRef("given_at") + INTEGRATION_WINDOW, output_field=DateTimeField()
        ),
    )
    doses = (
        DoseAdministration.objects.filter(
            session__client__in=clients, given_at__gte=since, given_at__lt=until
        )
        .annotate(is_followed=Exists(followed))
        .aggregate(total=Count("pk"), integrated=Count("pk", filter=Q(is_followed=True)))
    )

    deferrals = dict(
        DosingChart.objects.filter(
            session__client__in=clients,
            outcome=DosingChart.Outcome.DEFERRED,
            deferred_at__gte=since,
            deferred_at__lt=until,
        )
        .order_by()
        .values_list("deferral_reason")
        .annotate(n=Count("pk"))
        .values_list("deferral_reason", "n")
    )
    bp = deferrals.get(DosingChart.DeferralReason.BP_HIGH, 0) + deferrals.get(
        DosingChart.DeferralReason.BP_HARD_STOP, 0
    )

    completed = list(
        TreatmentCourse.objects.filter(
            client__in=clients, phase=Phase.COMPLETE, closed_at__gte=since, closed_at__lt=until
        ).values_list("client_id", flat=True)
    )
    totals = _scores_by_client(completed)

    reminders = IntegrationReminder.objects.filter(client__in=clients).aggregate(
        sent=Count(
            "pk", filter=Q(status=ReminderStatus.SENT, sent_at__gte=since, sent_at__lt=until)
        ),
        # A failed row keeps no failure time: it counts in the period it was due.
        failed=Count(
            "pk", filter=Q(status=ReminderStatus.FAILED, due_at__gte=since, due_at__lt=until)
        ),
    )
    return Figures(
        start=start,
        end=end,
        by_phase=by_phase,
        doses_given=doses["total"],
        deferred_bp=bp,
        deferred_other=sum(deferrals.values()) - bp,
        integrated_doses=doses["integrated"],
        phq9_median_change=_median_change(totals, Instrument.PHQ9),
        gad7_median_change=_median_change(totals, Instrument.GAD7),
        completed_courses=len(completed),
        reminders_sent=reminders["sent"],
        reminders_failed=reminders["failed"],
    )
