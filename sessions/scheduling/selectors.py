"""Reads for a client's session pages (the list, one session, who changed its status, the next
session for the client record) and the facts the dosing gates look at when a dose is booked or
given (dose_facts). Each runs a fixed number of queries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Exists, F, Q, QuerySet, Subquery
from django.utils import timezone

from kap_clinic import formats
from patients.models import Client, TreatmentCourse
from sessions.dosing.selectors import dose_for
from sessions.models import DoseAdministration, Session, SessionKind, SessionStatus
from sessions.scheduling import rules


@dataclass
class ClientSessions:
    upcoming: list[Session]
    past: list[Session]


def with_chart_outcome(sessions: QuerySet[Session]) -> QuerySet[Session]:
    """Each session with its dosing chart's outcome (None without a chart), in the same query:
    what ``shown_status`` needs besides the row."""
    return sessions.annotate(chart_outcome=F("dosing_chart__outcome"))


def show_status(sessions: Iterable[Session], *, now: datetime) -> None:
    """Sets ``session.shown`` (rules.ShownStatus) on sessions fetched ``with_chart_outcome``:
    what the status badge and the calendar say. No query."""
    for session in sessions:
        session.shown = rules.shown_status(  # type: ignore[attr-defined]
            status=session.status,
            ends_at=session.ends_at,
            chart_outcome=session.chart_outcome,  # type: ignore[attr-defined]
            now=now,
        )


def client_sessions(*, client: Client, now: datetime | None = None) -> ClientSessions:
    """The client's sessions: upcoming (scheduled and not yet ended, soonest first), then the
    rest, past, held or cancelled (latest first), each with its shown status. One query."""
    now = now or timezone.now()
    sessions = list(
        with_chart_outcome(Session.objects.filter(client=client))
        .select_related("therapist", "course")
        .order_by("starts_at", "id")
    )
    show_status(sessions, now=now)
    upcoming = [s for s in sessions if s.status == SessionStatus.SCHEDULED and s.ends_at >= now]
    chosen = {s.pk for s in upcoming}
    past = [s for s in reversed(sessions) if s.pk not in chosen]
    return ClientSessions(upcoming=upcoming, past=past)


PORTAL_PAST = 5


def portal_sessions(*, client: Client, now: datetime | None = None) -> ClientSessions:
    """What the client's portal lists: every booked session still to come (soonest first), and
    the last few held (latest first); cancelled ones are left out. Two queries."""
    now = now or timezone.now()
    own = Session.objects.filter(client=client).select_related("therapist")
    # With what the client confirmed for a dosing day (the portal's to-do card).
    upcoming = list(
        own.filter(status=SessionStatus.SCHEDULED, ends_at__gte=now)
        .select_related("dosing_day")
        .order_by("starts_at", "id")
    )
    past = list(
        own.filter(ends_at__lt=now)
        .exclude(status=SessionStatus.CANCELLED)
        .order_by("-starts_at", "-id")[:PORTAL_PAST]
    )
    return ClientSessions(upcoming=upcoming, past=past)


def session_for_client(*, client: Client, session_id: int) -> Session | None:
    """One of the client's sessions with what its page shows, or None (then the page is a 404:
    a session id under another client's address tells nothing). One query."""
    session = (
        with_chart_outcome(Session.objects.filter(client=client, pk=session_id))
        .select_related(
            "client",
            "course",
            "therapist",
            "created_by",
            "follows_dose",
            "follows_dose__dose",
            "integration_warning_acknowledged_by",
            "status_changed_by",
        )
        .first()
    )
    if session is not None:
        show_status([session], now=timezone.now())
    return session


@dataclass
class StatusChange:
    by: str
    at: datetime


def status_change(*, session: Session) -> StatusChange | None:
    """Who completed, cancelled or marked the session a no-show, and when (kept on the row; the
    audit trail has the full history, R22). None while it is scheduled. No query when the session
    was fetched with ``status_changed_by``."""
    if session.status == SessionStatus.SCHEDULED or session.status_changed_at is None:
        return None
    by = session.status_changed_by
    return StatusChange(by=by.get_full_name() if by else "the system", at=session.status_changed_at)


def next_session(*, client: Client, now: datetime | None = None) -> Session | None:
    """The client's next scheduled session, for the client record. One query."""
    return (
        Session.objects.filter(
            client=client, status=SessionStatus.SCHEDULED, starts_at__gte=now or timezone.now()
        )
        .select_related("therapist")
        .order_by("starts_at", "id")
        .first()
    )


# --- The integration sessions of a dose (R7, R8) ------------------------------------------------


def integrations_after_dose(*, dose: DoseAdministration) -> QuerySet[Session]:
    """R7, R8: the integration sessions that follow ``dose``, soonest first: those linked to its
    session, and every integration session of its course starting after the dose was given and
    before the course's next dosing session that holds a dose, whatever it was linked to.

    ``follows_dose`` is set when an integration session is booked, to the dosing session on the
    calendar then; it goes stale when the integration session was booked before its dosing
    session, or when that dosing session was cancelled or its dose deferred and the dose given
    in another one. Time decides then. One query."""
    course = Session.objects.filter(pk=dose.session_id).values("course_id")[:1]
    next_dosing = (
        Session.objects.filter(
            course_id=Subquery(course), kind=SessionKind.DOSING, starts_at__gt=dose.given_at
        )
        .exclude(pk=dose.session_id)
        .filter(Q(status=SessionStatus.SCHEDULED) | Q(dose__isnull=False))
        .order_by("starts_at", "id")
    )
    before_next = Q(starts_at__lt=Subquery(next_dosing.values("starts_at")[:1])) | ~Exists(
        next_dosing
    )
    after_the_dose = Q(course_id=Subquery(course), starts_at__gte=dose.given_at) & before_next
    return Session.objects.filter(
        Q(follows_dose_id=dose.session_id) | after_the_dose, kind=SessionKind.INTEGRATION
    ).order_by("starts_at", "id")


# --- What the dosing gates look at (R2, R3, R5, R6, R7) -------------------------------------------


def booked_dosing_sessions(*, client_id: int) -> QuerySet[Session]:
    """The client's dosing sessions that hold a dose, in every course: scheduled ones, and past
    ones where a dose was given. A cancelled session, or one where the dose was deferred, holds
    none. One query."""
    return (
        Session.objects.filter(client_id=client_id, kind=SessionKind.DOSING)
        .filter(Q(status=SessionStatus.SCHEDULED) | Q(dose__isnull=False))
        .select_related("dose")
        .order_by("starts_at", "id")
    )


@dataclass(frozen=True)
class DoseFacts:
    """What R2, R3, R5, R6 and R7 look at when a dose is scheduled or given."""

    prep_done: int
    doses_used: int
    # The course's dosing sessions on the calendar that hold a dose but have none yet (excluding
    # the one being changed).
    doses_planned: int
    # R6: the client's other dosing sessions holding a dose, in any course: (clinic date, id).
    other_dose_dates: list[tuple[date, int]]
    # R7: the course's latest dose before the moment in question.
    last_dose: DoseAdministration | None
    integration_after_last_dose: bool
    # R6: the client's latest dose before that moment, whatever course or prescription it was
    # given under (a booster or a new course does not restart the interval).
    previous_dose: DoseAdministration | None = None


def dose_facts(
    *, course: TreatmentCourse, prescription, before: datetime, exclude_id: int | None = None
) -> DoseFacts:
    """Four queries."""
    prep_done = Session.objects.filter(course=course).completed_preparation().count()
    doses_used = (
        DoseAdministration.objects.counted_against(prescription).count()
        if prescription is not None
        else 0
    )
    others = [s for s in booked_dosing_sessions(client_id=course.client_id) if s.pk != exclude_id]
    doses = {s.pk: dose_for(s) for s in others}
    planned = sum(1 for s in others if s.course_id == course.pk and doses[s.pk] is None)
    dates = [
        (formats.clinic_date(dose.given_at if (dose := doses[s.pk]) else s.starts_at), s.pk)
        for s in others
    ]
    given = [d for d in doses.values() if d is not None and d.given_at < before]
    previous = max(given, key=lambda d: d.given_at) if given else None
    in_course = [d for s in others if s.course_id == course.pk and (d := doses[s.pk]) in given]
    last = max(in_course, key=lambda d: d.given_at) if in_course else None
    integration_done = False
    if last is not None:
        integration_done = Session.objects.filter(
            course=course,
            kind=SessionKind.INTEGRATION,
            status=SessionStatus.COMPLETED,
            starts_at__gte=last.given_at,
        ).exists()
    return DoseFacts(
        prep_done=prep_done,
        doses_used=doses_used,
        doses_planned=planned,
        other_dose_dates=dates,
        last_dose=last,
        integration_after_last_dose=integration_done,
        previous_dose=previous,
    )
