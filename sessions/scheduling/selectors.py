"""Reads for a client's session pages: the list, one session, who changed its status, and the next
session for the client record. Each runs a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from patients.models import Client
from sessions.models import Session, SessionStatus


@dataclass
class ClientSessions:
    upcoming: list[Session]
    past: list[Session]


def client_sessions(*, client: Client, now: datetime | None = None) -> ClientSessions:
    """The client's sessions: upcoming (soonest first) then past (latest first). One query."""
    now = now or timezone.now()
    sessions = list(
        Session.objects.filter(client=client)
        .select_related("therapist", "course")
        .order_by("starts_at", "id")
    )
    upcoming = [s for s in sessions if s.ends_at >= now]
    past = [s for s in reversed(sessions) if s.ends_at < now]
    return ClientSessions(upcoming=upcoming, past=past)


def session_for_client(*, client: Client, session_id: int) -> Session | None:
    """One of the client's sessions with what its page shows, or None (then the page is a 404:
    a session id under another client's address tells nothing). One query."""
    return (
        Session.objects.filter(client=client, pk=session_id)
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
