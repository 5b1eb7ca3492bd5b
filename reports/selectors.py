"""Reads for the course-progress dashboard and its CSV export (R2, R5, R6, R7, R8, R12-R13, R19,
R20). Each runs a fixed number of queries whatever the number of courses, and reads what it shows,
not the clinic:

- a page of the dashboard is one statement: the page's 25 courses are picked first by the filters
  and the sort alone (an ORDER BY ... LIMIT over the courses and their clients), and only those
  get their numbers (per-course subqueries) and the capped count of the matching courses;
- the CSV export reads the ids of the matching courses in their order once, then each chunk of
  ids with its numbers by primary key: a fixed number of statements per chunk;
- the scores of a page's or a chunk's clients come in one more query; the figures above the
  table in one statement of their own (reports.figures)."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, TypedDict

from django.db import connection
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from integration.models import IntegrationReminder, ReminderStatus
from kap_clinic import formats
from patients.access import visible_rows
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
from reports.figures import (
    INTEGRATION_WINDOW,
    Figures,
    clinic_figures,
    dose_integrated,
    scalar_count,
)
from sessions.models import DoseAdministration, DosingChart, Session, SessionStatus

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from django.contrib.auth.models import AnonymousUser
    from django_stubs_ext import WithAnnotations

    from accounts.models import User


class CourseNumbers(TypedDict):
    """The annotations with_numbers adds to each course (the alert_* flags aside)."""

    prep_done: int
    doses_used: int
    doses_authorised: int | None
    last_dose_at: datetime | None
    next_session_at: datetime | None
    integrated: bool


if TYPE_CHECKING:
    AnnotatedCourse = WithAnnotations[TreatmentCourse, CourseNumbers]

ACTIVE_PHASES: tuple[str, ...] = (*WORKING_PHASES, Phase.ON_HOLD)
DEFERRAL_LOOKBACK = timedelta(days=30)
EXPIRY_WARNING_DAYS = 30
REFERRAL_WAIT_DAYS = 14
PAGE_SIZE = 25
# The dashboard counts the matching courses up to this many ("more than 1,000").
COUNT_CAP = 1000
# Courses per chunk of the CSV export: two reads and one access-row insert each. Large enough
# that a chunk's fixed costs (planning, ~13 ms; the alerts' hashed lookups, read once per
# statement) are paid a few times for a whole clinic, not dozens: at N=10 the 7,193 active
# courses are 4 chunks. The first data row waits for the first chunk (the header goes at once).
EXPORT_CHUNK = 2000

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


def _sort_keys(now: datetime) -> dict[str, Subquery]:
    """The per-course numbers a sort may order by; the others are columns."""
    return {
        "last_dose_at": Subquery(
            DoseAdministration.objects.filter(session__course=OuterRef("pk"))
            .order_by("-given_at")
            .values("given_at")[:1]
        ),
        "next_session_at": Subquery(
            Session.objects.filter(
                course=OuterRef("pk"), status=SessionStatus.SCHEDULED, starts_at__gte=now
            )
            .order_by("starts_at")
            .values("starts_at")[:1]
        ),
    }


def _ordering(filters: Filters) -> list:
    fields = SORTS.get(filters.sort, SORTS["client"])
    first = (
        F(fields[0]).desc(nulls_last=True)
        if filters.descending
        else F(fields[0]).asc(nulls_last=True)
    )
    return [first, *fields[1:]]


def course_keys(
    user: User | AnonymousUser, *, filters: Filters, now: datetime | None = None
) -> QuerySet[TreatmentCourse]:
    """The active courses ``user`` may see (admin: all; therapist: their caseload), filtered and
    sorted, without their numbers: what picks a page or an export's order. Only a sort by a
    per-course number (last dose, next session) computes that number here."""
    now = now or timezone.now()
    courses = visible_rows(
        user,
        TreatmentCourse.objects.filter(phase__in=ACTIVE_PHASES, client__archived_at=None),
    )
    if filters.therapist_id:
        courses = courses.filter(therapist_id=filters.therapist_id)
    if filters.phase:
        courses = courses.filter(phase=filters.phase)
    if filters.alert in ALERT_LABELS:
        courses = courses.filter(_alert_exists(now)[filters.alert])
    if filters.opened_from:
        courses = courses.filter(opened_at__gte=formats.day_start(filters.opened_from))
    if filters.opened_to:
        courses = courses.filter(
            opened_at__lt=formats.day_start(filters.opened_to + timedelta(days=1))
        )
    sort_keys = _sort_keys(now)
    sort_field = SORTS.get(filters.sort, SORTS["client"])[0]
    if sort_field in sort_keys:
        courses = courses.annotate(**{sort_field: sort_keys[sort_field]})
    return courses.order_by(*_ordering(filters))


SHOWN_FIELDS = (
    "phase",
    "client",
    "client__first_name",
    "client__last_name",
    "therapist",
    "therapist__first_name",
    "therapist__last_name",
)


def with_numbers(courses: QuerySet[TreatmentCourse], *, now: datetime) -> QuerySet[AnnotatedCourse]:
    """``courses`` with their client and therapist, each annotated with its numbers (one
    subquery per number and alert, computed only for the rows the query returns)."""
    current_rx = Prescription.objects.in_force().filter(client=OuterRef("client_id"))
    alerts = _alert_exists(now)
    undischarged = _undischarged(now)
    sort_keys = _sort_keys(now)
    latest_dose = DoseAdministration.objects.filter(session__course=OuterRef("pk")).order_by(
        "-given_at"
    )

    def if_undischarged(value: str) -> Case:
        # Only for the rows with the alert (PostgreSQL tests it once for all rows, hashed):
        # the session of a chart left open, looked up for every row, cost more than the rest.
        return Case(When(alerts["undischarged"], then=Subquery(undischarged.values(value)[:1])))

    return (
        courses.select_related("client", "therapist")
        # What the table and the CSV show of them: the rest of three rows per course (the
        # clients' and therapists' dates, above all) was most of the Python time of an export.
        .only(*SHOWN_FIELDS)
        .annotate(
            # R2
            prep_done=_count(
                Session.objects.filter(course=OuterRef("pk")).completed_preparation(),
                "course",
            ),
            # R5: doses counted against the prescription in force: the client's own (a
            # correlated subquery; the clinic's every prescription in force was hashed).
            doses_used=_count(
                DoseAdministration.objects.filter(
                    prescription__client=OuterRef("client_id")
                ).under_authorisation_in(
                    Prescription.objects.in_force().filter(client=OuterRef(OuterRef("client_id")))
                ),
                "counted_under",
            ),
            doses_authorised=Subquery(current_rx.values("doses_authorised")[:1]),
            last_dose_at=sort_keys["last_dose_at"],
            next_session_at=sort_keys["next_session_at"],
        )
        # Its own call (the same SQL): django-stubs drops the annotations of a call given **kwargs.
        # The undischarged alert is its session's id (below), not a third test of the charts.
        .annotate(
            **{
                f"alert_{key}": expression
                for key, expression in alerts.items()
                if key != "undischarged"
            }
        )
        .annotate(
            # The session the undischarged alert links to (the oldest, when more than one).
            undischarged_session_id=if_undischarged("session_id"),
            undischarged_starts_at=if_undischarged("session__starts_at"),
        )
        .annotate(
            # R7: the latest dose followed by a completed integration session within 72 h (the
            # figures' test of a dose). NULL without a dose. Not a test against last_dose_at:
            # each reference to that annotation computes the latest dose again.
            integrated=Subquery(
                latest_dose.annotate(followed=dose_integrated()).values("followed")[:1]
            )
        )
    )


def course_queryset(
    user: User | AnonymousUser, *, filters: Filters, now: datetime | None = None
) -> QuerySet[AnnotatedCourse]:
    """Every matching course with its numbers, sorted: one query when evaluated (tests, small
    clinics). The dashboard pages with dashboard(), the CSV with iter_rows()."""
    now = now or timezone.now()
    keys = course_keys(user, filters=filters, now=now)
    return with_numbers(keys, now=now)


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


Totals = dict[int, dict[str, list[int]]]


def _scores_by_client(client_ids: Iterable[int]) -> Totals:
    """R19: each client's PHQ-9 and GAD-7 totals, oldest first. One query."""
    found: Totals = {}
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
    """The course's open alerts, in ALERT_TYPES order; the undischarged one (its session's id)
    links its dosing chart. No query: everything is an annotation."""
    found = []
    session_id = course.undischarged_session_id  # type: ignore[attr-defined]
    for key, label in ALERT_TYPES:
        if key == "undischarged" and session_id is not None:
            url = reverse(
                "patients:sessions:dosing_chart",
                kwargs={"client_id": course.client_id, "session_id": session_id},
            )
            on = formats.clinic_date(course.undischarged_starts_at)  # type: ignore[attr-defined]
            found.append(
                RowAlert(key, label, url=url, detail=f"dosing session of {formats.day(on)}")
            )
        elif key != "undischarged" and getattr(course, f"alert_{key}"):
            found.append(RowAlert(key, label))
    return found


def rows_for(courses: Iterable[AnnotatedCourse], *, now: datetime | None = None) -> list[CourseRow]:
    """Rows for annotated courses from ``with_numbers``: one more query (the scores)."""
    now = now or timezone.now()
    courses = list(courses)
    scores = _scores_by_client(course.client_id for course in courses)
    # The clinic's zone once: timezone.localdate() looks it up again for every row.
    zone = timezone.get_current_timezone()
    rows = []
    for course in courses:
        totals = scores.get(course.client_id, {})
        rows.append(
            CourseRow(
                course=course,
                prep_done=course.prep_done,
                doses_used=course.doses_used if course.doses_authorised is not None else 0,
                doses_authorised=course.doses_authorised,
                last_dose=course.last_dose_at.astimezone(zone).date()
                if course.last_dose_at
                else None,
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
    """Every filtered row at once (tests, small clinics). Two queries."""
    return rows_for(course_queryset(user, filters=filters, now=now), now=now)


@contextmanager
def without_jit():
    """PostgreSQL's JIT off for this connection while the dashboard or the export reads. Their
    statements carry a subquery per number and alert, so the planner's cost estimates pass
    PostgreSQL's JIT thresholds (jit_above_cost 100,000; inlining and optimisation from 500,000)
    and it compiled them for longer than they ran: 0.7 s on the figures and 5.7 s on each
    500-course export chunk at N=10, for statements that run in a fraction of that. Two
    statements (SET, RESET) per request; none where the server has JIT off already would be
    better (the connection's options), but that is the settings' decision."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET jit")


# --- The dashboard's page ------------------------------------------------------------------------


@dataclass
class CoursePage:
    """One page of the course table. No page count: the matching courses are counted up to
    COUNT_CAP (beyond it the exact number would cost a count of the whole clinic and tell an
    admin nothing a "more than" does not)."""

    rows: list[CourseRow]
    number: int
    has_next: bool
    # The matching courses, up to COUNT_CAP + 1; None on a page past the last one.
    matching: int | None

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def more_than_cap(self) -> bool:
        return self.matching is not None and self.matching > COUNT_CAP

    @property
    def num_pages(self) -> int | None:
        """The number of pages when the count is exact."""
        if self.matching is None or self.more_than_cap:
            return None
        return max(1, -(-self.matching // PAGE_SIZE))


def _page_courses(
    user: User | AnonymousUser, *, filters: Filters, number: int, now: datetime
) -> list[AnnotatedCourse]:
    """The courses of page ``number`` with their numbers and the capped count: one statement.
    The inner query picks the page's ids by the filters and the sort (LIMIT/OFFSET), the outer
    one computes the numbers of those PAGE_SIZE + 1 rows only."""
    keys = course_keys(user, filters=filters, now=now)
    offset = (number - 1) * PAGE_SIZE
    window = keys.values("pk")[offset : offset + PAGE_SIZE + 1]
    capped = TreatmentCourse.objects.filter(pk__in=keys.order_by().values("pk")[: COUNT_CAP + 1])
    courses = (
        with_numbers(TreatmentCourse.objects.filter(pk__in=window), now=now)
        .annotate(matching=scalar_count(capped))
        .order_by(*_ordering(filters))
    )
    return list(courses)


def dashboard(
    user: User | AnonymousUser,
    *,
    filters: Filters,
    page: int,
    start: date,
    end: date,
    now: datetime | None = None,
) -> tuple[CoursePage, Figures]:
    """The dashboard's page of courses and its figures for ``start``..``end``: three queries
    (the page with its numbers and count, its scores, the figures), and on PostgreSQL the two
    of without_jit."""
    now = now or timezone.now()
    with without_jit():
        courses = _page_courses(user, filters=filters, number=page, now=now)
        rows = rows_for(courses[:PAGE_SIZE], now=now)
        figures = clinic_figures(user, start=start, end=end)
    matching = courses[0].matching if courses else (0 if page == 1 else None)  # type: ignore[attr-defined]
    course_page = CoursePage(
        rows=rows, number=page, has_next=len(courses) > PAGE_SIZE, matching=matching
    )
    return course_page, figures


# --- The CSV export ------------------------------------------------------------------------------


def iter_rows(
    user: User | AnonymousUser, *, filters: Filters, chunk: int | None = None
) -> Iterator[list[CourseRow]]:
    """The filtered rows in chunks of ``chunk`` courses, for the CSV, in the dashboard's order:
    the ids first (one query over the courses and their clients, no numbers), then two queries
    per chunk (its courses by primary key with their numbers; their scores), so neither the
    whole export is held in memory nor the whole annotated query re-run for each chunk."""
    now = timezone.now()
    chunk = chunk or EXPORT_CHUNK
    with without_jit():
        ids = list(course_keys(user, filters=filters, now=now).values_list("pk", flat=True))
        for start in range(0, len(ids), chunk):
            part = ids[start : start + chunk]
            order = {pk: index for index, pk in enumerate(part)}
            # No ORDER BY (the model's default would sort the chunk): the ids' order is kept here.
            courses = with_numbers(TreatmentCourse.objects.filter(pk__in=part), now=now).order_by()
            yield rows_for(sorted(courses, key=lambda c: order[c.pk]), now=now)
