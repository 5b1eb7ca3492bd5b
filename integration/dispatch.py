"""Sending what is due from the reminder outbox (R8), exactly once from the client's side.

1. Claim: in a short transaction, take up to ``limit`` due rows (pending and due, or "sending"
   with an expired lease: a worker died) with SELECT ... FOR UPDATE SKIP LOCKED, and mark them
   "sending" with this call's claim token. A second worker skips the locked rows; the UPDATE is
   conditional on the status as well, so SQLite (no row locks) cannot double-claim either.
2. Decide, at send time: a discontinued course, an integration session already held, a reminder
   far past its day: cancelled, not sent. Otherwise compose the message.
3. Send with the row's fixed Message-ID, then mark "sent" at once, conditional on the claim token.
   The only window for a second e-mail is a worker killed between the server's acceptance and
   that UPDATE (milliseconds); the retry after the lease then re-sends the SAME Message-ID, which
   mail stores treat as one message.
4. Errors: a transient one (4xx, a dropped connection, a timeout) puts the row back as pending
   with a bounded exponential backoff; a permanent one (5xx, a refused address) or the last
   attempt marks it failed with the error, for staff to see. An unexpected error on one row is
   handled like a transient one for that row: the rest of the batch still goes out.

The lease is per message, not per batch: each row's claim is renewed (conditionally on the
token) just before it is sent, so a batch that runs longer than the lease cannot have its last
rows taken over by another worker and then sent by both; a row whose claim was lost is skipped.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import get_connection
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from integration import messages, rules
from integration.models import IntegrationReminder, ReminderKind, ReminderStatus
from kap_clinic.mail import PermanentSendError, TransientSendError, send_or_raise
from patients.models import Phase
from sessions.models import Session, SessionKind, SessionStatus

logger = logging.getLogger(__name__)


@dataclass
class DispatchResult:
    claimed: int = 0
    sent: int = 0
    cancelled: int = 0
    retried: int = 0
    failed: int = 0
    lost: int = 0  # taken over by another worker after the lease: not ours to send any more
    ids: list[int] = field(default_factory=list)

    def add(self, other: DispatchResult) -> None:
        for name in ("claimed", "sent", "cancelled", "retried", "failed", "lost"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.ids += other.ids


def _due(now: datetime):
    lease = timedelta(seconds=settings.REMINDER_LEASE_SECONDS)
    # Due by the dispatcher's "now" (the demo command's fast-forward passes a later one); the
    # lease by the real clock, so a fast-forward never takes over a row being sent right now.
    return IntegrationReminder.objects.filter(
        Q(status=ReminderStatus.PENDING, not_before__lte=now)
        | Q(status=ReminderStatus.SENDING, claimed_at__lt=timezone.now() - lease)
    )


def claim(*, now: datetime, limit: int) -> tuple[str, list[int]]:
    """Claim up to ``limit`` due rows for this call. Returns (claim token, ids)."""
    token = uuid.uuid4().hex
    with transaction.atomic():
        due = _due(now).order_by("not_before", "id")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("id", flat=True)[:limit])
        if not ids:
            return token, []
        _due(now).filter(id__in=ids).update(
            status=ReminderStatus.SENDING,
            claim_token=token,
            claimed_at=timezone.now(),
            attempts=F("attempts") + 1,
            updated_at=now,
        )
    return token, list(
        IntegrationReminder.objects.filter(claim_token=token).values_list("id", flat=True)
    )


def _finish(reminder_id: int, token: str, **fields) -> bool:
    """Record the outcome, only if this call still holds the claim."""
    return bool(
        IntegrationReminder.objects.filter(
            pk=reminder_id, claim_token=token, status=ReminderStatus.SENDING
        ).update(**fields, updated_at=timezone.now())
    )


def _integrations(reminder: IntegrationReminder) -> list[Session]:
    """The integration sessions that follow this reminder's dose: read once per reminder, for
    both the decision and the message."""
    return list(
        Session.objects.filter(
            follows_dose_id=reminder.dose.session_id, kind=SessionKind.INTEGRATION
        ).order_by("starts_at", "id")
    )


def _why_not(reminder: IntegrationReminder, now: datetime, integrations: list[Session]) -> str:
    """A reason not to send this reminder at all, or ""."""
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


def _send(message: messages.Message, *, message_id: str, mail=None) -> None:
    """Send over ``mail`` (one SMTP connection for the batch) or a connection of its own. After
    any error the shared connection is closed, so the next message starts on a fresh one."""
    email = message.email(message_id=message_id)
    if mail is not None:
        email.connection = mail
    try:
        send_or_raise(email)
    except (TransientSendError, PermanentSendError):
        if mail is not None:
            _close(mail)
        raise


def _close(mail) -> None:
    try:
        mail.close()
    except Exception:  # a broken connection may fail to say goodbye; it is dropped either way
        mail.connection = None


def _renew(reminder_id: int, token: str, *, now: datetime) -> bool:
    """Start this row's lease again, if this call still holds its claim."""
    return bool(
        IntegrationReminder.objects.filter(
            pk=reminder_id, claim_token=token, status=ReminderStatus.SENDING
        ).update(claimed_at=timezone.now())
    )


def _retry_or_fail(reminder: IntegrationReminder, token: str, *, now: datetime, error: str) -> str:
    if reminder.attempts >= settings.REMINDER_MAX_ATTEMPTS:
        _finish(reminder.pk, token, status=ReminderStatus.FAILED, last_error=error)
        logger.warning("reminder %s failed after %s attempts", reminder.pk, reminder.attempts)
        return "failed"
    wait = rules.backoff(reminder.attempts, base_seconds=settings.REMINDER_RETRY_SECONDS)
    _finish(
        reminder.pk, token, status=ReminderStatus.PENDING, not_before=now + wait, last_error=error
    )
    return "retried"


def deliver(reminder_id: int, token: str, *, now: datetime, base_url: str = "", mail=None) -> str:
    """Decide about and send one claimed reminder. Returns "sent", "cancelled", "retried",
    "failed", or "lost" when another worker took the row over after the lease."""
    if not _renew(reminder_id, token, now=now):
        return "lost"
    reminder = IntegrationReminder.objects.select_related(
        "client", "course", "course__therapist", "dose"
    ).get(pk=reminder_id)
    integrations = _integrations(reminder)
    reason = _why_not(reminder, now, integrations)
    if reason:
        _finish(reminder_id, token, status=ReminderStatus.CANCELLED, cancelled_reason=reason)
        return "cancelled"
    if reminder.kind == ReminderKind.CLIENT:
        message = messages.client_message(reminder, now=now, integrations=integrations)
    else:
        # R8: the in-app alert exists from now on, whatever happens to its e-mail.
        IntegrationReminder.objects.filter(pk=reminder_id, claim_token=token).update(
            variant="alert"
        )
        message = messages.therapist_message(reminder, base_url=base_url)
    try:
        if not message.to:
            raise PermanentSendError("No e-mail address on file.")
        _send(message, message_id=reminder.message_id, mail=mail)
    except TransientSendError as error:
        return _retry_or_fail(reminder, token, now=now, error=str(error))
    except PermanentSendError as error:
        _finish(reminder_id, token, status=ReminderStatus.FAILED, last_error=str(error))
        logger.warning("reminder %s failed permanently", reminder_id)
        return "failed"
    _finish(
        reminder_id,
        token,
        status=ReminderStatus.SENT,
        sent_at=timezone.now(),
        variant=message.variant,
        sent_to=message.to,
        last_error="",
    )
    return "sent"


def dispatch_due(*, now: datetime | None = None, limit: int = 50, base_url: str = ""):
    """Claim one batch of due reminders and deliver each. Returns a DispatchResult."""
    now = now or timezone.now()
    token, ids = claim(now=now, limit=limit)
    result = DispatchResult(claimed=len(ids), ids=ids)
    if not ids:
        return result
    # One SMTP connection for the batch (opened on the first send), not one per message.
    mail = get_connection()
    try:
        _deliver_batch(ids, token, now=now, base_url=base_url, mail=mail, result=result)
    finally:
        _close(mail)
    return result


def _deliver_batch(ids, token, *, now, base_url, mail, result: DispatchResult) -> None:
    for reminder_id in ids:
        try:
            outcome = deliver(reminder_id, token, now=now, base_url=base_url, mail=mail)
        except Exception as error:
            # One bad row must not hold back the rest of the batch (they would wait "sending"
            # for a lease, then meet the same row first again). Only the type is logged: the
            # message may carry an address (R25).
            logger.error("reminder %s: unexpected %s", reminder_id, type(error).__name__)
            reminder = IntegrationReminder.objects.get(pk=reminder_id)
            outcome = _retry_or_fail(
                reminder, token, now=now, error=f"Unexpected error ({type(error).__name__})."
            )
        setattr(result, outcome, getattr(result, outcome) + 1)


def dispatch_all_due(
    *,
    now: datetime | None = None,
    batch: int = 50,
    budget_seconds: float = 50.0,
    base_url: str = "",
) -> DispatchResult:
    """Batches until nothing is due or the time budget is spent (the beat runs every minute)."""

    started = time.monotonic()
    total = DispatchResult()
    while time.monotonic() - started < budget_seconds:
        result = dispatch_due(now=now, limit=batch, base_url=base_url)
        total.add(result)
        if result.claimed < batch:
            break
    return total
