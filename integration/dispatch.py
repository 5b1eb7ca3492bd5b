"""From the reminder plan to the outbox (R8). A plan row is due at its time; then it is decided:
cancelled (a discontinued course, an integration session already held or booked, far past its
day) or composed and put in the outbox (outbox.models.OutboxMessage) with the row's fixed
Message-ID, in one transaction. The outbox's dispatcher sends it, with the retries, lease and
crash rules every message shares; its outcome comes back to the plan row by the
outbox.signals.message_finished receiver (integration.receivers).

Queueing is pure database work (no SMTP), claimed with SELECT ... FOR UPDATE SKIP LOCKED, so two
workers never queue one row twice; the unique Message-ID is the second guard."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from integration import messages
from integration.models import IntegrationReminder, ReminderKind, ReminderStatus
from outbox import dispatch as outbox_dispatch
from outbox.dispatch import DispatchResult
from outbox.models import MessageKind
from outbox.services import message_queue
from outbox.tasks import dispatch_due as dispatch_outbox
from patients.models import Phase
from sessions.models import Session, SessionStatus
from sessions.scheduling.selectors import integrations_after_dose

logger = logging.getLogger(__name__)

__all__ = ["DispatchResult", "dispatch_all_due", "dispatch_due", "queue_all_due", "queue_due"]
# Plan rows decided about per transaction.
BATCH = 50


def integrations_of(reminder: IntegrationReminder) -> list[Session]:
    """The integration sessions that follow this reminder's dose: read once per reminder, for
    both the decision and the message. Not only those whose ``follows_dose`` names the dose: a
    session booked before its dosing session, or linked to one since cancelled or deferred, is
    after the dose all the same (scheduling.selectors.integrations_after_dose). One query."""
    return list(integrations_after_dose(dose=reminder.dose))


def why_not(reminder: IntegrationReminder, now: datetime, integrations: list[Session]) -> str:
    """A reason not to send this reminder at all, or "". Asked when it is due, and again by the
    outbox just before each try (a retry through a mail outage)."""
    course = reminder.course
    if course.phase == Phase.DISCONTINUED:
        return "The course was discontinued."
    if reminder.client.archived_at is not None:
        return "The client's record is archived."
    if now - reminder.due_at > timedelta(hours=settings.REMINDER_STALE_HOURS):
        return "Not sent in time (the sending was delayed): it would arrive on the wrong day."
    statuses = {session.status for session in integrations}
    if reminder.kind == ReminderKind.CLIENT:
        if SessionStatus.COMPLETED in statuses:
            return "The integration session took place."
    elif statuses - {SessionStatus.CANCELLED}:
        return "An integration session was booked in time."
    return ""


def _queue_one(reminder: IntegrationReminder, *, now: datetime, base_url: str) -> str:
    integrations = integrations_of(reminder)
    reason = why_not(reminder, now, integrations)
    if reason:
        reminder.status = ReminderStatus.CANCELLED
        reminder.cancelled_reason = reason
        reminder.save(update_fields=["status", "cancelled_reason", "updated_at"])
        return "cancelled"
    if reminder.kind == ReminderKind.CLIENT:
        text = messages.client_message(reminder, now=now, integrations=integrations)
        kind = MessageKind.INTEGRATION_REMINDER
        # R8: a day-N reminder is of no use the next day.
        expires_at = reminder.due_at + timedelta(hours=settings.REMINDER_STALE_HOURS)
    else:
        # R8: the in-app alert exists from now on, whatever happens to its e-mail.
        text = messages.therapist_message(reminder, base_url=base_url)
        kind = MessageKind.INTEGRATION_CHECK
        expires_at = now + timedelta(hours=settings.OUTBOX_ALERT_HOURS)
    reminder.outbox_message = message_queue(
        kind=kind,
        to=text.to,
        subject=text.subject,
        text=text.text,
        html=text.html,
        client=reminder.client,
        not_before=now,
        expires_at=expires_at,
        message_id=reminder.message_id,
        to_client=reminder.kind == ReminderKind.CLIENT,
        kick=False,  # queue_due kicks the dispatcher once for the batch
    )
    reminder.status = ReminderStatus.SENDING
    reminder.variant = text.variant
    reminder.sent_to = text.to
    reminder.save(update_fields=["status", "variant", "sent_to", "outbox_message", "updated_at"])
    return "queued"


def queue_due(
    *, now: datetime | None = None, limit: int = BATCH, base_url: str = ""
) -> DispatchResult:
    """Decide about up to ``limit`` due plan rows: cancel or hand to the outbox. One transaction;
    rows another worker is deciding about are skipped."""
    now = now or timezone.now()
    result = DispatchResult()
    with transaction.atomic():
        due = IntegrationReminder.objects.filter(
            status=ReminderStatus.PENDING, not_before__lte=now
        ).order_by("not_before", "id")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",))
        rows = list(due.select_related("client", "course", "course__therapist", "dose")[:limit])
        for reminder in rows:
            if _queue_one(reminder, now=now, base_url=base_url) == "cancelled":
                result.cancelled += 1
        if len(rows) > result.cancelled:
            transaction.on_commit(dispatch_outbox.delay, robust=True)
    result.claimed = len(rows)
    return result


def queue_all_due(
    *, now: datetime | None = None, batch: int = BATCH, base_url: str = ""
) -> DispatchResult:
    """Every due plan row decided about, a batch per transaction. ``claimed``: rows taken;
    ``cancelled``: of those, the ones not to send."""
    total = DispatchResult()
    while True:
        queued = queue_due(now=now, limit=batch, base_url=base_url)
        total.claimed += queued.claimed
        total.cancelled += queued.cancelled
        if queued.claimed < batch:
            return total


def dispatch_due(*, now: datetime | None = None, limit: int = BATCH, base_url: str = ""):
    """Queue what is due, then send one batch of the outbox. For tests and the demo command;
    the beat runs the two as separate tasks. ``claimed`` counts the outbox's batch."""
    queued = queue_due(now=now, limit=limit, base_url=base_url)
    sent = outbox_dispatch.dispatch_due(now=now, limit=limit)
    sent.cancelled += queued.cancelled
    return sent


def dispatch_all_due(
    *,
    now: datetime | None = None,
    batch: int = BATCH,
    budget_seconds: float = 50.0,
    base_url: str = "",
) -> DispatchResult:
    """Everything due, queued and sent, within the time budget."""
    queued = queue_all_due(now=now, batch=batch, base_url=base_url)
    sent = outbox_dispatch.dispatch_all_due(now=now, batch=batch, budget_seconds=budget_seconds)
    sent.cancelled += queued.cancelled
    return sent
