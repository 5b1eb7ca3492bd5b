"""The reads of the client record page (patients.clients.views.client_detail), gathered so that
each fact is read once: the prescription in force serves the course panel and the referral panel
(and brings the referral when it is the latest), the intake's flags serve the course numbers, one
read of the questionnaires gives the latest scores and the outcome chart, and one read of the
sessions gives the next session and the dose dates. It sits with the courses because this floor
may read the sessions schema, which patients.clients below may not.

Seven queries whatever the number of sessions, doses, scores, shares or therapists: the
questionnaires, the prescription in force, the course, the intake, its flags, the sessions and
the sharing panel; and the latest invitation for a client without a portal account (the account
itself comes with the client: patients.record_access)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Q, Subquery
from django.utils import timezone

from patients.clients import selectors as client_selectors
from patients.courses import outcomes
from patients.courses import selectors as course_selectors
from patients.intake import selectors as intake_selectors
from patients.models import Client
from patients.models.questionnaires import Instrument
from patients.referrals import selectors as referral_selectors
from sessions.models import Session, SessionStatus


@dataclass
class RecordSessions:
    # The next scheduled session (the sessions bar), with its therapist.
    next_session: Session | None
    # The clinic-local dates of every dose of the client, oldest first (the outcome chart).
    dose_dates: list[date]


def record_sessions(*, client: Client, now: datetime | None = None) -> RecordSessions:
    """The client's sessions the record shows: the next one (as sessions.scheduling.selectors
    .next_session finds it) and those with a dose. One query."""
    upcoming = (
        Session.objects.filter(
            client=client, status=SessionStatus.SCHEDULED, starts_at__gte=now or timezone.now()
        )
        .order_by("starts_at", "id")
        .values("pk")[:1]
    )
    sessions = list(
        Session.objects.filter(client=client)
        .filter(Q(dose__isnull=False) | Q(pk=Subquery(upcoming)))
        .select_related("dose", "therapist")
        .order_by("starts_at", "id")
    )
    dosed = [course_selectors.session_dose(session) for session in sessions]
    return RecordSessions(
        # A scheduled session holds no dose: the one row without a dose is the next session.
        next_session=next((s for s, dose in zip(sessions, dosed, strict=True) if not dose), None),
        dose_dates=[timezone.localdate(dose.given_at) for dose in dosed if dose is not None],
    )


def client_record(*, client: Client, manage_shares: bool) -> dict:
    """The client record page's context (templates/patients/client_detail.html)."""
    responses = outcomes.scores_of(client=client, instruments=Instrument.values)
    prescription = course_selectors.prescription_in_force(client=client)
    intake = intake_selectors.intake_summary(client=client)
    sessions = record_sessions(client=client)
    return {
        "sharing": client_selectors.sharing(client=client, manage=manage_shares),
        "portal": client_selectors.portal_status(client=client),
        "scores": client_selectors.latest_scores(responses),
        "course_summary": course_selectors.course_summary(
            client=client, prescription=prescription, flags=intake["flags"]
        ),
        # R19: PHQ-9 / GAD-7 over time with every dose of the client.
        "outcome": outcomes.outcome_chart(
            client=client, responses=responses, doses=sessions.dose_dates
        ),
        "referral_summary": referral_selectors.referral_summary(
            client=client, prescription=prescription
        ),
        "next_session": sessions.next_session,
        **intake,
    }
