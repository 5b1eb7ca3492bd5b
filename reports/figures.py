"""The clinic figures at the top of the dashboard (R5, R7, R8, R12-R13, R19): what happened in a
period over the courses a user may see.

All of them come from one statement: the courses by phase are the columns of one aggregate over
the visible courses, and each figure of the period is a scalar subquery beside them that reads
its own range of an indexed time column (doses by ``given_at``, deferrals by ``deferred_at``,
reminders by status and time) or, for the median changes of the completed courses, one index
probe per end of each client's score history. Nothing here reads a whole table to count a period:
the cost follows the period's rows, not the clinic's history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.db.models import (
    Case,
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)

from integration.models import IntegrationReminder, ReminderStatus
from kap_clinic import formats
from patients.access import visible_rows
from patients.models import Client, Phase, QuestionnaireResponse, TreatmentCourse
from patients.models.questionnaires import Instrument
from sessions.models import DoseAdministration, DosingChart, Session, SessionKind, SessionStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from accounts.models import User

# R7/R8: integration is due within three days of a dose; exactly 72 h still counts.
INTEGRATION_WINDOW = timedelta(hours=72)
BP_REASONS = (DosingChart.DeferralReason.BP_HIGH, DosingChart.DeferralReason.BP_HARD_STOP)


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


class _CountRows(Func):
    """COUNT(*) as a plain function: Django does not take it for an aggregate, so a queryset's
    ``values(n=_CountRows())`` is a one-row, one-column subquery without a GROUP BY."""

    template = "COUNT(*)"
    output_field = IntegerField()


def scalar_count(queryset: QuerySet) -> Subquery:
    return Subquery(queryset.order_by().values(n=_CountRows()), output_field=IntegerField())


def dose_integrated() -> Subquery:
    """R7, for a dose: a completed integration session of the dose's course (and client)
    starting within 72 h after it; its id, NULL when there is none.

    A scalar subquery with LIMIT 1, not an EXISTS, with the dose's session joined inside it by
    its primary key: on the seeded N=10 clinic PostgreSQL flattened the EXISTS into a semi-join
    that rescanned a hash of every session of the clinic for each dose of the period (minutes);
    with the session joined in the outer query instead, it hash-joined the period's doses with
    a scan of every session. A scalar subquery stays a lookup per dose: the dose's session by
    its key, then the client's completed integration sessions on the (client, kind, status)
    index."""
    return Subquery(
        Session.objects.filter(
            # One filter() call: both conditions are about the same session, the dose's.
            client__sessions=OuterRef("session_id"),
            course=F("client__sessions__course"),
            kind=SessionKind.INTEGRATION,
            status=SessionStatus.COMPLETED,
            starts_at__gte=OuterRef("given_at"),
            starts_at__lte=ExpressionWrapper(
                OuterRef("given_at") + INTEGRATION_WINDOW, output_field=DateTimeField()
            ),
        )
        .order_by()
        .values("pk")[:1]
    )


class Median(Subquery):
    """The median of the one column ``v`` of a queryset (its NULLs left out) as a scalar
    subquery, in SQL that PostgreSQL and SQLite both run: the middle value of the sorted column,
    or the mean of the middle two; NULL when there is none. (PostgreSQL's percentile_cont is not
    in SQLite, which ``make run`` uses.) The NULLs sort last and are not counted, so rows 1..n
    are the values."""

    template = (
        "(SELECT AVG(m.v) FROM (SELECT c.v, ROW_NUMBER() OVER w AS rn, COUNT(c.v) OVER w AS n "
        "FROM (%(subquery)s%(fence)s) AS c WINDOW w AS (ORDER BY c.v NULLS LAST ROWS BETWEEN "
        "UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)) AS m "
        "WHERE m.rn IN ((m.n + 1) / 2, (m.n + 2) / 2))"
    )

    def __init__(self, queryset: QuerySet) -> None:
        super().__init__(queryset, output_field=FloatField(), fence="")

    def as_postgresql(self, compiler, connection):
        # OFFSET 0 keeps PostgreSQL from merging the subquery into the window's query, where
        # each reference to c.v computed the value (three index probes) again.
        fenced = self.copy()
        fenced.extra = {**self.extra, "fence": " OFFSET 0"}
        return fenced.as_sql(compiler, connection)


def _change(instrument: str):
    """R19: a client's change on ``instrument`` from their first total to their last, NULL with
    fewer than two: three index probes on (client, instrument, -submitted_at)."""
    history = QuestionnaireResponse.objects.filter(
        client_id=OuterRef("pk"), instrument=instrument
    ).order_by()
    first = Subquery(history.order_by("submitted_at", "id").values("total")[:1])
    last = Subquery(history.order_by("-submitted_at", "-id").values("total")[:1])
    several = Exists(history.order_by("submitted_at", "id")[1:2])
    return Case(When(several, then=last - first), output_field=IntegerField())


def _median_change(completed: QuerySet[TreatmentCourse], instrument: str) -> Median:
    """The median change of the clients of ``completed`` (each client once)."""
    clients = Client.objects.filter(pk__in=completed.values("client_id")).order_by()
    return Median(clients.values(v=_change(instrument)))


def _number(value) -> float | None:
    # AVG is a numeric in PostgreSQL (a Decimal here), a float in SQLite.
    return None if value is None else float(value)


def clinic_figures(user: User | AnonymousUser, *, start: date, end: date) -> Figures:
    """The figures for ``start``..``end`` (inclusive, clinic days) over the courses ``user``
    may see: one statement (see the module docstring)."""
    since, until = formats.day_start(start), formats.day_start(end + timedelta(days=1))
    # visible_rows: an admin's rows unfiltered, a therapist's through the caseload's ids. A dose
    # or a chart is its prescription's client's (the dosing services hold it; the course's dose
    # count reads doses the same way): through the session, PostgreSQL joined the period's doses
    # to every session of the clinic to learn whose they were.
    courses = visible_rows(user, TreatmentCourse.objects.all())
    completed = courses.filter(phase=Phase.COMPLETE, closed_at__gte=since, closed_at__lt=until)
    doses = visible_rows(
        user,
        DoseAdministration.objects.filter(given_at__gte=since, given_at__lt=until),
        client="prescription__client",
    )
    deferrals = visible_rows(
        user,
        DosingChart.objects.filter(
            outcome=DosingChart.Outcome.DEFERRED, deferred_at__gte=since, deferred_at__lt=until
        ),
        client="prescription__client",
    )
    reminders = visible_rows(user, IntegrationReminder.objects.all())
    phase_counts = {f"phase_{value}": Count("pk", filter=Q(phase=value)) for value in Phase.values}
    # The aggregate's grouping is a constant, which Django leaves out of the GROUP BY: one row,
    # also when the user sees no course at all.
    row = (
        courses.order_by()
        .values(one=Value(1))
        .annotate(
            **phase_counts,
            completed=Count(
                "pk", filter=Q(phase=Phase.COMPLETE, closed_at__gte=since, closed_at__lt=until)
            ),
            doses_given=scalar_count(doses),
            integrated_doses=scalar_count(
                doses.annotate(followed_by=dose_integrated()).filter(followed_by__isnull=False)
            ),
            deferred_bp=scalar_count(deferrals.filter(deferral_reason__in=BP_REASONS)),
            deferred_other=scalar_count(deferrals.exclude(deferral_reason__in=BP_REASONS)),
            reminders_sent=scalar_count(
                reminders.filter(status=ReminderStatus.SENT, sent_at__gte=since, sent_at__lt=until)
            ),
            # A failed row keeps no failure time: it counts in the period it was due.
            reminders_failed=scalar_count(
                reminders.filter(status=ReminderStatus.FAILED, due_at__gte=since, due_at__lt=until)
            ),
            phq9_median_change=_median_change(completed, Instrument.PHQ9),
            gad7_median_change=_median_change(completed, Instrument.GAD7),
        )
        .get()
    )
    return Figures(
        start=start,
        end=end,
        by_phase=[(label, row[f"phase_{value}"]) for value, label in Phase.choices],
        doses_given=row["doses_given"],
        deferred_bp=row["deferred_bp"],
        deferred_other=row["deferred_other"],
        integrated_doses=row["integrated_doses"],
        phq9_median_change=_number(row["phq9_median_change"]),
        gad7_median_change=_number(row["gad7_median_change"]),
        completed_courses=row["completed"],
        reminders_sent=row["reminders_sent"],
        reminders_failed=row["reminders_failed"],
    )
