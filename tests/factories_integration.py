"""Integration reminders for tests (R8). Doses are written row by row (fast); the reminder
plan comes from the real service (integration.services.reminder_plan_create), and
IntegrationReminderFactory adds or shapes single rows (any status) on a dose."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta

import factory
from django.conf import settings
from django.db.models import Min
from django.utils import timezone

from integration import services
from integration.models import IntegrationReminder, ReminderKind, ReminderStatus
from outbox.models import MessageKind, OutboxMessage
from patients.models import Client, Referral
from sessions.models import DoseAdministration
from tests.factories import ClientFactory
from tests.factories_referrals import PrescriptionFactory, ReferralFactory
from tests.factories_sessions import SessionFactory, course_for, dose_given

_DAYS_BACK = itertools.count(1)


def dose_for(client: Client | None = None, *, therapist=None, given_at=None) -> DoseAdministration:
    """A dose on record for ``client`` (made with ``therapist`` as primary therapist when not
    given): a completed dosing session on the client's course and its dose, under an approved
    prescription (made when the client has none). No reminder plan: the dose_recorded signal is
    the dosing service's, and these rows bypass it."""
    if client is None:
        client = ClientFactory(**({"primary_therapist": therapist} if therapist else {}))
    if not client.prescriptions.filter(superseded_at__isnull=True).exists():
        PrescriptionFactory(
            referral=ReferralFactory(client=client, status=Referral.Status.APPROVED)
        )
    if given_at is None:
        # Each dose on its own morning in the past, so sessions never clash, and a client's doses
        # at least 15 days apart (R6: the PostgreSQL dose gate refuses doses closer).
        given_at = timezone.now().replace(minute=30, second=0, microsecond=0) - timedelta(
            days=3 * next(_DAYS_BACK)
        )
        earliest = DoseAdministration.objects.filter(session__client=client).aggregate(
            earliest=Min("given_at")
        )["earliest"]
        if earliest is not None:
            given_at = min(given_at, earliest - timedelta(days=15))
    session = SessionFactory(
        client=client,
        course=course_for(client),
        kind="dosing",
        starts_at=given_at - timedelta(minutes=30),
        status="completed",
    )
    return dose_given(session, given_at=given_at)


def planned_dose(client: Client | None = None, **kwargs) -> tuple[DoseAdministration, dict]:
    """A dose with its reminder plan from the real service: (dose, {"1": .., "2": .., "3": ..,
    "check": the therapist's row})."""
    dose = dose_for(client, **kwargs)
    rows = services.reminder_plan_create(dose=dose)
    by_key = {str(r.day) if r.kind == ReminderKind.CLIENT else "check": r for r in rows}
    return dose, by_key


MESSAGE_FIELDS = {"attempts", "claimed_at"}


def shape(reminder: IntegrationReminder, status: str, **fields) -> IntegrationReminder:
    """Put ``reminder`` in ``status`` the way the plan step and the outbox leave it (sent: a time
    and what was sent; failed: an error; cancelled: a reason; sending, sent and failed with the
    outbox message in the same state), straight in the rows. ``attempts`` and ``claimed_at`` go
    to the message."""
    now = timezone.now()
    defaults = {
        ReminderStatus.SENT: {
            "sent_at": now,
            "attempts": 1,
            "variant": "alert" if reminder.kind == ReminderKind.THERAPIST else "not_booked",
            "sent_to": "someone@example.org",
        },
        ReminderStatus.FAILED: {
            "attempts": 1,
            "last_error": "The address was refused: 550",
            "due_at": now,
        },
        ReminderStatus.CANCELLED: {"cancelled_reason": "The integration session took place."},
        ReminderStatus.SENDING: {"claimed_at": now, "attempts": 1},
        ReminderStatus.PENDING: {},
    }[status]
    values = defaults | fields
    message_values = {name: values.pop(name) for name in MESSAGE_FIELDS if name in values}
    for name, value in values.items():
        setattr(reminder, name, value)
    reminder.status = status
    if status in (ReminderStatus.SENT, ReminderStatus.FAILED, ReminderStatus.SENDING):
        reminder.outbox_message = _message_for(reminder, status, message_values)
    reminder.save()
    return reminder


def _message_for(reminder: IntegrationReminder, status: str, values: dict) -> OutboxMessage:
    message = reminder.outbox_message or OutboxMessage(
        kind=MessageKind.INTEGRATION_REMINDER
        if reminder.kind == ReminderKind.CLIENT
        else MessageKind.INTEGRATION_CHECK,
        client_id=reminder.client_id,
        to=reminder.sent_to or reminder.client.email or "someone@example.org",
        subject="A reminder",
        text="Hello",
        message_id=reminder.message_id,
        not_before=reminder.due_at,
        expires_at=reminder.due_at + timedelta(hours=settings.REMINDER_STALE_HOURS),
    )
    message.status = status
    message.attempts = values.get("attempts", 1)
    message.claimed_at = values.get("claimed_at", timezone.now() if status == "sending" else None)
    message.sent_at = reminder.sent_at if status == "sent" else None
    message.last_error = reminder.last_error if status == "failed" else ""
    message.save()
    return message


class IntegrationReminderFactory(factory.django.DjangoModelFactory):
    """``IntegrationReminderFactory(dose=dose, day=1)``: one client reminder on ``dose`` (a dose
    of its own when none is given), due at 10:00 the day after; ``kind="therapist", day=0`` for
    the therapist's 24-hour check. Use ``shape()`` for another status."""

    class Meta:
        model = IntegrationReminder

    dose = factory.LazyFunction(dose_for)
    client = factory.LazyAttribute(lambda o: o.dose.session.client)
    course = factory.LazyAttribute(lambda o: o.dose.session.course)
    kind = ReminderKind.CLIENT
    day = 1
    due_at = factory.LazyAttribute(lambda o: o.dose.given_at + timedelta(days=o.day or 1))
    not_before = factory.LazyAttribute(lambda o: o.due_at)
    message_id = factory.LazyFunction(lambda: f"<test-{uuid.uuid4().hex}@example.org>")
