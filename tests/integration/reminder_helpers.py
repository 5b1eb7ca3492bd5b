"""Doses recorded through the real services (dosing_ready_session, then the chart up to the dose)
for the integration reminder tests (R8). Plain functions: call them inside time_machine."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.db.models import QuerySet
from django.utils import timezone

from integration.models import IntegrationReminder, ReminderKind
from outbox.models import OutboxMessage
from patients.models import Client
from sessions.models import DoseAdministration, Session, SessionKind
from sessions.scheduling.services import session_schedule
from tests.factories_sessions import dosing_ready_session
from tests.sessions.dosing_helpers import give_dose

UTC = ZoneInfo("UTC")
CLINIC_TZ = ZoneInfo("America/New_York")
# A Wednesday in the clinic's time zone (daylight time, UTC-4): the dosing session at 9:00, the
# dose given at 9:20.
DOSE_DAY = datetime(2025, 3, 12, 9, 0, tzinfo=CLINIC_TZ)
GIVEN_AT = DOSE_DAY + timedelta(minutes=20)


def record_dose(client: Client, *, start: datetime = DOSE_DAY) -> DoseAdministration:
    """A dosing session for ``client`` at ``start`` with its dose 20 minutes later, through the
    real booking and charting services (the plan is made inside dose_record's transaction)."""
    with time_machine.travel(start, tick=False):
        session = dosing_ready_session(client, starts_at=start)
    given = start + timedelta(minutes=20)
    with time_machine.travel(given, tick=False):
        return give_dose(session, at=given)


def client_rows(dose: DoseAdministration) -> QuerySet[IntegrationReminder]:
    return IntegrationReminder.objects.filter(dose=dose, kind=ReminderKind.CLIENT).order_by("day")


def therapist_row(dose: DoseAdministration) -> IntegrationReminder:
    return IntegrationReminder.objects.get(dose=dose, kind=ReminderKind.THERAPIST)


def book_integration(dose: DoseAdministration, *, starts_at: datetime) -> Session:
    """The integration session after ``dose``, booked through session_schedule (which links it
    to the dose it follows), by the therapist, while the clock is at the booking moment. Its
    booking confirmation to the client (sessions.scheduling.confirmations) is taken as sent then:
    these tests count the reminders (tests/sessions/test_confirmations.py has the
    confirmations)."""
    session = dose.session
    with time_machine.travel(starts_at - timedelta(days=1), tick=False):
        booked = session_schedule(
            client=session.client,
            kind=SessionKind.INTEGRATION,
            starts_at=starts_at,
            by=session.therapist,
            location="Room 2",
        )
        OutboxMessage.objects.filter(topic=f"session:{booked.pk}").update(
            status="sent", sent_at=timezone.now()
        )
    return booked
