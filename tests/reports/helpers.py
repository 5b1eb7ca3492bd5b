"""Data for the dashboard tests: rows written directly (fast), doses through the shared
factories (their pre-dose reading satisfies the database's dose check, R11)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from patients.models import QuestionnaireResponse
from sessions.models import DosingChart, Session
from tests.factories_integration import dose_for
from tests.factories_sessions import SessionFactory, course_for, dose_given


def integration_after(dose, *, after: timedelta, status: str = "completed", **fields) -> Session:
    extra = {"cancel_reason": "Client unwell."} if status == "cancelled" else {}
    return SessionFactory(
        client=dose.session.client,
        kind="integration",
        starts_at=dose.given_at + after,
        status=status,
        follows_dose=dose.session,
        **extra,
        **fields,
    )


def score(client, instrument: str, total: int, *, item9: int | None = None):
    return QuestionnaireResponse.objects.create(
        client=client,
        instrument=instrument,
        answers={},
        total=total,
        band="",
        item9_score=item9 if instrument == "phq9" else None,
        entered_by=client.primary_therapist,
    )


def deferred(client, *, at: datetime | None = None, reason: str = "bp_high") -> DosingChart:
    """A dosing session whose chart closed without a dose (R12, R13)."""
    at = at or timezone.now() - timedelta(days=2)
    if not client.prescriptions.exists():
        dose_for(client, given_at=at - timedelta(days=20))
    session = SessionFactory(
        client=client, course=course_for(client), kind="dosing", starts_at=at, status="completed"
    )
    return DosingChart.objects.create(
        session=session,
        prescription=client.prescriptions.first(),
        outcome=DosingChart.Outcome.DEFERRED,
        deferred_at=at,
        deferral_reason=reason,
        created_by=client.primary_therapist,
    )


def undischarged(client, *, at: datetime) -> DosingChart:
    """A dosing session at ``at`` whose dose was given and whose chart is still open: no discharge
    recorded (R10, R15)."""
    if not client.prescriptions.exists():
        dose_for(client, given_at=at - timedelta(days=20))
    session = SessionFactory(client=client, course=course_for(client), kind="dosing", starts_at=at)
    chart = DosingChart.objects.create(
        session=session,
        prescription=client.prescriptions.first(),
        created_by=client.primary_therapist,
    )
    dose_given(session, given_at=at + timedelta(minutes=20))
    return chart
