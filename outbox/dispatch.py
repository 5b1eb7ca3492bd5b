"""Sending what is due from the outbox: every message at most once per crash, none lost.

1. Claim: in a short transaction, take up to ``limit`` due rows (pending and due, or "sending"
   with an expired lease: a worker died) with SELECT ... FOR UPDATE SKIP LOCKED, and mark them
   "sending" with this call's claim token. A second worker skips the locked rows; the UPDATE is
   conditional on the status as well, so SQLite (no row locks) cannot double-claim either.
2. For each row, just before its send: renew its lease (conditional on the token: a row another
   worker took over is skipped), give it up if it is past its use (``expires_at``), ask the app
   that queued it whether it is still wanted (outbox.kinds).
3. Send over the batch's one SMTP connection with the row's fixed Message-ID, and mark it "sent"
   right after the server's acceptance, before the next message and before the QUIT. The only
   window for a second copy is a crash between that acceptance and that UPDATE; the retry after
   the lease re-sends the SAME Message-ID. SMTP has no idempotency: at most one extra copy per
   crash is the limit, and the fault tests measure it.
4. Errors (kap_clinic.mail, one rule for every message): a transient one (4xx, a dropped or
   refused connection, a timeout) puts the row back with a capped exponential backoff counted
   from the failure, as long as the next try is still before ``expires_at``; a permanent one (5xx,
   a refused address) fails it at once. Failed means "will not be sent", with the reason.
5. Faults of our own: a dropped database connection is reopened and the bookkeeping UPDATE run
   again (the row is marked, not sent twice); an unexpected error on one row is handled like a
   transient one for that row; the time budget is checked before each message, and Celery's
   soft time limit ends the batch: the rows not yet sent are released at once, not left to wait
   out their lease.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from kap_clinic import formats
from kap_clinic.mail import PermanentSendError, TransientSendError, send_or_raise
from outbox import kinds
from outbox.models import MessageStatus, OutboxMessage
from outbox.signals import message_finished

logger = logging.getLogger(__name__)

FINAL = (MessageStatus.SENT, MessageStatus.FAILED, MessageStatus.CANCELLED)
OUTCOMES = ("claimed", "sent", "cancelled", "retried", "failed", "lost", "released")


@dataclass
class DispatchResult:
    claimed: int = 0
    sent: int = 0
    cancelled: int = 0
    retried: int = 0
    failed: int = 0
    lost: int = 0  # taken over by another worker after the lease: not ours to send any more
    released: int = 0  # given back unsent when the time budget ran out
    ids: list[int] = field(default_factory=list)

    def add(self, other: DispatchResult) -> None:
        for name in OUTCOMES:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.ids += other.ids


def backoff(attempts: int) -> timedelta:
    """After ``attempts`` failed tries: base, 2x, 4x ... up to the cap (OUTBOX_RETRY_SECONDS,
    OUTBOX_RETRY_CAP_SECONDS: 1 minute doubling to 15 by default)."""
    base, cap = settings.OUTBOX_RETRY_SECONDS, settings.OUTBOX_RETRY_CAP_SECONDS
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), cap))


def _db(step: Callable[[], object]):
    """Run one bookkeeping step; if the database connection was dropped under it (a restart, a
    failover, pg_terminate_backend), open a new one and run it once more. Without this the
    "sent" UPDATE of a message already accepted fails, and the message goes out again."""
    try:
        return step()
    except (OperationalError, InterfaceError):
        if connection.in_atomic_block:
            raise
        logger.warning("outbox: database connection lost; reconnecting")
        connection.close()
        return step()


def _due(now: datetime):
    lease = timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    # A few seconds ahead: the beat's minute ticks jitter, and a retry due at tick + 0.3 s would
    # otherwise wait a whole extra minute.
    now = now + timedelta(seconds=settings.OUTBOX_CLAIM_AHEAD_SECONDS)
    # Due by the dispatcher's "now" (the demo command's fast-forward passes a later one); the
    # lease by the real clock, so a fast-forward never takes over a row being sent right now.
    return OutboxMessage.objects.filter(
        Q(status=MessageStatus.PENDING, not_before__lte=now)
        | Q(status=MessageStatus.SENDING, claimed_at__lt=timezone.now() - lease)
    )


def claim(*, now: datetime, limit: int) -> tuple[str, list[int]]:
    """Claim up to ``limit`` due rows for this call. Returns (claim token, ids in send order)."""
    token = uuid.uuid4().hex

    def step() -> list[int]:
        with transaction.atomic():
            due = _due(now).order_by("not_before", "id")
            if connection.features.has_select_for_update_skip_locked:
                due = due.select_for_update(skip_locked=True)
            ids = list(due.values_list("id", flat=True)[:limit])
            if not ids:
                return []
            _due(now).filter(id__in=ids).update(
                status=MessageStatus.SENDING,
                claim_token=token,
                claimed_at=timezone.now(),
                attempts=F("attempts") + 1,
                updated_at=timezone.now(),
            )
        return list(
            OutboxMessage.objects.filter(claim_token=token, status=MessageStatus.SENDING)
            .order_by("not_before", "id")
            .values_list("id", flat=True)
        )

    return token, _db(step)


def _finish(pk: int, token: str, **fields) -> bool:
    """Record the outcome, only if this call still holds the claim; tell the app that queued the
    message in the same transaction (outbox.signals)."""

    def step() -> bool:
        with transaction.atomic():
            done = OutboxMessage.objects.filter(
                pk=pk, claim_token=token, status=MessageStatus.SENDING
            ).update(**fields, updated_at=timezone.now())
            if done and fields.get("status") in FINAL:
                message_finished.send(
                    sender=OutboxMessage, message=OutboxMessage.objects.get(pk=pk)
                )
        return bool(done)

    return _db(step)


def _renew(pk: int, token: str) -> bool:
    """Start this row's lease again, if this call still holds its claim."""
    return bool(
        _db(
            lambda: OutboxMessage.objects.filter(
                pk=pk, claim_token=token, status=MessageStatus.SENDING
            ).update(claimed_at=timezone.now())
        )
    )


def _release(ids: list[int], token: str, *, tried: int | None = None) -> int:
    """Give claimed rows back as due now: the time budget or the soft time limit ran out.
    ``tried``: the one whose send was under way (its attempt counts; the others' do not)."""

    in_flight_ids = [] if tried is None else [tried]

    def step() -> int:
        rows = OutboxMessage.objects.filter(
            id__in=ids, claim_token=token, status=MessageStatus.SENDING
        )
        untried = rows.exclude(pk__in=in_flight_ids).update(
            status=MessageStatus.PENDING,
            claimed_at=None,
            claim_token="",
            attempts=F("attempts") - 1,
            updated_at=timezone.now(),
        )
        in_flight = rows.filter(pk__in=in_flight_ids).update(
            status=MessageStatus.PENDING,
            claimed_at=None,
            claim_token="",
            updated_at=timezone.now(),
        )
        return untried + in_flight

    return _db(step)


def _email(message: OutboxMessage) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text,
        to=[message.to],
        headers={**message.headers, "Message-ID": message.message_id},
    )
    if message.html:
        email.attach_alternative(message.html, "text/html")
    return email


def _open(mail) -> None:
    try:
        mail.open()
    except Exception as error:
        # The same rule as for a send: refused, timed out, dropped (kap_clinic.mail).
        raise TransientSendError(f"{type(error).__name__}: {error}"[:300]) from error


def _close(mail) -> None:
    try:
        mail.close()
    except Exception:  # a broken connection may fail to say goodbye; it is dropped either way
        mail.connection = None


def _send(message: OutboxMessage, *, mail) -> None:
    """Send over ``mail``, the batch's one SMTP connection. After any error it is closed, so the
    next message starts on a fresh one."""
    email = _email(message)
    email.connection = mail
    try:
        if getattr(mail, "connection", True) is None:
            # Opened here, not by send_messages(): Django's SMTP backend closes a connection it
            # opened itself after each call, which is one connect and one QUIT per message.
            _open(mail)
        send_or_raise(email)
    except (TransientSendError, PermanentSendError):
        _close(mail)
        raise


def _given_up(message: OutboxMessage, error: str) -> str:
    until = formats.short_when(timezone.localtime(message.expires_at))
    return (
        f"Not sent: the mail server did not take it before {until}, when it stopped being of "
        f"use. Last answer: {error}"
    )


def _retry_or_fail(message: OutboxMessage, token: str, *, now: datetime, error: str) -> str:
    """A transient failure: try again after the backoff, counted from now (the failure), if that
    is still before the message stops being of use; else it has failed, saying why."""
    next_try = max(now, timezone.now()) + backoff(message.attempts)
    if next_try > message.expires_at:
        _fail(message, token, _given_up(message, error), done_with=True)
        return "failed"
    _finish(
        message.pk, token, status=MessageStatus.PENDING, not_before=next_try, last_error=error[:500]
    )
    return "retried"


def _fail(message: OutboxMessage, token: str, reason: str, *, done_with: bool = False) -> None:
    """Failed: will not be sent. A refused one keeps its text, for "Send again" once the address
    is corrected; one given up at its expiry is ``done_with``."""
    blank = _blank(message) if done_with else {}
    _finish(message.pk, token, status=MessageStatus.FAILED, last_error=reason[:500], **blank)
    logger.warning("outbox message %s (%s) failed", message.pk, message.kind)


def deliver(pk: int, token: str, *, now: datetime, mail) -> str:
    """Decide about and send one claimed message. Returns "sent", "cancelled", "retried",
    "failed", or "lost" when another worker took the row over after the lease."""
    if not _renew(pk, token):
        return "lost"
    message = _db(lambda: OutboxMessage.objects.get(pk=pk))
    if message.expires_at < now:
        if message.last_error:
            _fail(message, token, _given_up(message, message.last_error), done_with=True)
            return "failed"
        reason = "Not sent in time (the sending was delayed): by now it would be of no use."
        _finish(
            pk, token, status=MessageStatus.CANCELLED, cancelled_reason=reason, **_blank(message)
        )
        return "cancelled"
    # The app that queued it decided just now; it is asked again once time has passed (a retry
    # through an outage, a message queued to go later).
    reason = kinds.reason_not_to_send(message) if _asked_again(message, now) else ""
    if reason:
        _finish(
            pk,
            token,
            status=MessageStatus.CANCELLED,
            cancelled_reason=reason[:200],
            **_blank(message),
        )
        return "cancelled"
    try:
        if not message.to:
            raise PermanentSendError("No e-mail address on file.")
        _send(message, mail=mail)
    except TransientSendError as error:
        return _retry_or_fail(message, token, now=now, error=str(error))
    except PermanentSendError as error:
        _fail(message, token, str(error))
        return "failed"
    _finish(
        pk,
        token,
        status=MessageStatus.SENT,
        sent_at=timezone.now(),
        last_error="",
        **_blank(message),
    )
    return "sent"


def _asked_again(message: OutboxMessage, now: datetime) -> bool:
    return message.attempts > 1 or now - message.created_at > timedelta(minutes=1)


def _blank(message: OutboxMessage) -> dict:
    """A text with a sign-in link is not kept once the message is done with."""
    return {"text": "", "html": ""} if message.secret else {}


def dispatch_due(*, now: datetime | None = None, limit: int = 50, deadline: float | None = None):
    """Claim one batch of due messages and deliver each over one SMTP connection. ``deadline``
    (time.monotonic()): rows not started by then are given back. Returns a DispatchResult."""
    now = now or timezone.now()
    token, ids = claim(now=now, limit=limit)
    result = DispatchResult(claimed=len(ids), ids=ids)
    if not ids:
        return result
    mail = get_connection()
    try:
        _deliver_batch(ids, token, now=now, mail=mail, deadline=deadline, result=result)
    finally:
        _close(mail)
    return result


def _deliver_batch(ids, token, *, now, mail, deadline, result: DispatchResult) -> None:
    for index, pk in enumerate(ids):
        if deadline is not None and time.monotonic() >= deadline:
            result.released += _release(ids[index:], token)
            return
        try:
            outcome = deliver(pk, token, now=now, mail=mail)
        except SoftTimeLimitExceeded:
            # Celery's soft limit: the row in flight may or may not have been accepted; it goes
            # back with the rest, and a resend carries the same Message-ID. Then the task ends.
            result.released += _release(ids[index:], token, tried=pk)
            raise
        except Exception as error:
            # One bad row must not hold back the rest of the batch. Only the type is logged:
            # the error may carry an address (R25).
            logger.error("outbox message %s: unexpected %s", pk, type(error).__name__)
            message = _db(partial(OutboxMessage.objects.get, pk=pk))
            outcome = _retry_or_fail(
                message, token, now=now, error=f"Unexpected error ({type(error).__name__})."
            )
        setattr(result, outcome, getattr(result, outcome) + 1)


def dispatch_all_due(
    *, now: datetime | None = None, batch: int = 50, budget_seconds: float = 50.0
) -> DispatchResult:
    """Batches until nothing is due or the time budget is spent (the beat runs every minute)."""
    deadline = time.monotonic() + budget_seconds
    total = DispatchResult()
    while time.monotonic() < deadline:
        result = dispatch_due(now=now, limit=batch, deadline=deadline)
        total.add(result)
        if result.claimed < batch or result.released:
            break
    return total
