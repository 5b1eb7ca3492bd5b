"""Sending what is due from the outbox: every message at most once per crash, none lost.

1. Claim: in a short transaction, take up to ``limit`` due rows (pending and due, or "sending"
   with an expired lease: a worker died) with SELECT ... FOR UPDATE SKIP LOCKED, and mark them
   "sending" with this call's claim token. A second worker skips the locked rows; the UPDATE is
   conditional on the status as well, so SQLite (no row locks) cannot double-claim either.
2. Load the batch's rows with that claim, and ask the apps that queued them, once for the batch,
   whether each is still wanted (outbox.kinds). For each row: give it up if it is past its use
   (``expires_at``) or no longer wanted. The lease is renewed for the rest of the batch in one
   conditional UPDATE once half of it is spent, so a row is only ever sent while this call
   holds it (one another worker took over after a lease ran out is skipped: "lost").
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

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Field, Model, Q
from django.utils import timezone

from kap_clinic import formats
from kap_clinic.mail import PermanentSendError, TransientSendError, send_or_raise
from outbox import kinds
from outbox.models import MessageStatus, OutboxMessage
from outbox.signals import message_finished

logger = logging.getLogger(__name__)

FINAL = (MessageStatus.SENT, MessageStatus.FAILED, MessageStatus.CANCELLED)
OUTCOMES = ("claimed", "sent", "cancelled", "retried", "failed", "lost", "released")
# Messages claimed per batch: one SMTP connection, and a fixed few statements besides the one
# per message.
BATCH = 50


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
    token, messages = _claim(now=now, limit=limit)
    return token, [message.pk for message in messages]


def _claim(*, now: datetime, limit: int) -> tuple[str, list[OutboxMessage]]:
    """Claim up to ``limit`` due rows and load them, in two statements whatever the batch's size:
    the locking SELECT reads the whole rows, the UPDATE marks them, and the loaded rows are
    brought to what the UPDATE wrote. Returns (claim token, rows in send order)."""
    token = uuid.uuid4().hex

    def step() -> list[OutboxMessage]:
        with transaction.atomic():
            due = _due(now).order_by("not_before", "id")
            if connection.features.has_select_for_update_skip_locked:
                due = due.select_for_update(skip_locked=True)
            rows = list(due[:limit])
            if not rows:
                return []
            claimed_at = timezone.now()
            taken = (
                _due(now)
                .filter(id__in=[row.pk for row in rows])
                .update(
                    status=MessageStatus.SENDING,
                    claim_token=token,
                    claimed_at=claimed_at,
                    attempts=F("attempts") + 1,
                    updated_at=claimed_at,
                )
            )
            if taken < len(rows):
                # No row locks (SQLite): another dispatcher took some of them in between.
                ours = set(
                    OutboxMessage.objects.filter(
                        claim_token=token, status=MessageStatus.SENDING
                    ).values_list("id", flat=True)
                )
                rows = [row for row in rows if row.pk in ours]
        for row in rows:
            row.status, row.claim_token, row.claimed_at = MessageStatus.SENDING, token, claimed_at
            row.attempts += 1
            row.updated_at = claimed_at
        return rows

    return token, _db(step)


def _finish(message: OutboxMessage, token: str, **fields) -> bool:
    """Record the outcome, only if this call still holds the claim: one statement. A final
    outcome reaches the app that queued the message in the same statement (its mirror row,
    outbox.kinds) or in the same transaction (outbox.signals, with the loaded row brought up to
    date, not read again)."""
    fields["updated_at"] = timezone.now()
    final = fields.get("status") in FINAL
    mirror = kinds.mirror_of(message.kind) if final else None
    ours = OutboxMessage.objects.filter(
        pk=message.pk, claim_token=token, status=MessageStatus.SENDING
    )

    def step() -> bool:
        if mirror is not None and connection.vendor == "postgresql":
            done = _update_with_mirror(message, token, fields, mirror)
        elif not final:
            done = ours.update(**fields)
        else:
            with transaction.atomic():
                done = ours.update(**fields)
                if done:
                    _apply(message, fields)
                    _tell(message, mirror)
        if done:
            _apply(message, fields)
        return bool(done)

    return _db(step)


def _apply(message: OutboxMessage, fields: dict) -> None:
    for name, value in fields.items():
        setattr(message, name, value)


def _tell(message: OutboxMessage, mirror: kinds.Mirror | None) -> None:
    """The app that queued the message hears of its final outcome, in the transaction that
    records it: by its mirror row, or by the signal."""
    if mirror is None:
        message_finished.send(sender=OutboxMessage, message=message)
        return
    mirror.model._default_manager.filter(**{mirror.link: message.pk}).update(
        **{name: getattr(message, name) for name in kinds.MIRRORED}
    )


def _update_with_mirror(
    message: OutboxMessage, token: str, fields: dict, mirror: kinds.Mirror
) -> int:
    """The outcome and its mirror's copy in one statement, in autocommit (PostgreSQL: an UPDATE
    in a WITH clause; SQLite has none and takes _tell's transaction). Returns the rows of the
    outbox updated: 0 if this call no longer holds the claim (then the mirror is untouched)."""
    quote = connection.ops.quote_name
    sets, params = [], []
    for name, value in fields.items():
        field = OutboxMessage._meta.get_field(name)
        assert isinstance(field, Field)
        sets.append(f"{_column(OutboxMessage, name)} = %s")
        params.append(field.get_db_prep_save(value, connection))
    outbox, theirs = quote(OutboxMessage._meta.db_table), quote(mirror.model._meta.db_table)
    returned = ", ".join(_column(OutboxMessage, name) for name in kinds.MIRRORED)
    copies = ", ".join(
        f"{_column(mirror.model, name)} = done.{_column(OutboxMessage, name)}"
        for name in kinds.MIRRORED
    )
    sql = (
        f"WITH done AS (UPDATE {outbox} SET {', '.join(sets)}"
        f" WHERE {_column(OutboxMessage, 'id')} = %s"
        f" AND {_column(OutboxMessage, 'claim_token')} = %s"
        f" AND {_column(OutboxMessage, 'status')} = %s"
        f" RETURNING {_column(OutboxMessage, 'id')} AS message, {returned}),"
        f" copied AS (UPDATE {theirs} SET {copies}"
        f" FROM done WHERE {theirs}.{_column(mirror.model, mirror.link)} = done.message)"
        " SELECT count(*) FROM done"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, message.pk, token, MessageStatus.SENDING])
        return cursor.fetchone()[0]


def _column(model: type[Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, Field)
    assert field.column
    return connection.ops.quote_name(field.column)


def _renew(ids: list[int], token: str) -> set[int]:
    """Start the lease of these claimed rows again, in one UPDATE. Returns the ids this call
    still holds (all of them, unless the batch outlived its lease and another worker took some
    over)."""

    def step() -> set[int]:
        ours = OutboxMessage.objects.filter(
            id__in=ids, claim_token=token, status=MessageStatus.SENDING
        )
        if ours.update(claimed_at=timezone.now()) == len(ids):
            return set(ids)
        return set(ours.values_list("id", flat=True))

    return _db(step)


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
        message, token, status=MessageStatus.PENDING, not_before=next_try, last_error=error[:500]
    )
    return "retried"


def _fail(message: OutboxMessage, token: str, reason: str, *, done_with: bool = False) -> None:
    """Failed: will not be sent. A refused one keeps its text, for "Send again" once the address
    is corrected; one given up at its expiry is ``done_with``."""
    blank = _blank(message) if done_with else {}
    _finish(message, token, status=MessageStatus.FAILED, last_error=reason[:500], **blank)
    logger.warning("outbox message %s (%s) failed", message.pk, message.kind)


def deliver(pk: int, token: str, *, now: datetime, mail) -> str:
    """Decide about and send one claimed message on its own (a batch goes through
    _deliver_batch). Returns "sent", "cancelled", "retried", "failed", or "lost" when another
    worker took the row over after the lease."""
    if not _renew([pk], token):
        return "lost"
    message = _db(lambda: OutboxMessage.objects.get(pk=pk))
    reason = kinds.reasons_not_to_send([message]).get(pk, "") if _asked_again(message, now) else ""
    return _deliver(message, token, now=now, mail=mail, reason=reason)


def _deliver(message: OutboxMessage, token: str, *, now: datetime, mail, reason: str) -> str:
    """Decide about and send one claimed, loaded message. ``reason``: the queueing app's reason
    not to send it any more, if it was asked."""
    if message.expires_at < now:
        if message.last_error:
            _fail(message, token, _given_up(message, message.last_error), done_with=True)
            return "failed"
        late = "Not sent in time (the sending was delayed): by now it would be of no use."
        _finish(
            message,
            token,
            status=MessageStatus.CANCELLED,
            cancelled_reason=late,
            **_blank(message),
        )
        return "cancelled"
    if reason:
        _finish(
            message,
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
    # Right after the server's acceptance, before the next message: the one UPDATE (with the
    # queueing app's own row, by signal) that a crash must not find undone.
    _finish(
        message,
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


def dispatch_due(
    *, now: datetime | None = None, limit: int = BATCH, deadline: float | None = None
) -> DispatchResult:
    """Claim one batch of due messages and deliver each over one SMTP connection. ``deadline``
    (time.monotonic()): rows not started by then are given back. Returns a DispatchResult."""
    now = now or timezone.now()
    leased_at = time.monotonic()
    token, messages = _claim(now=now, limit=limit)
    result = DispatchResult(claimed=len(messages), ids=[message.pk for message in messages])
    if not messages:
        return result
    mail = get_connection()
    try:
        _deliver_batch(
            messages,
            token,
            now=now,
            mail=mail,
            deadline=deadline,
            leased_at=leased_at,
            result=result,
        )
    finally:
        _close(mail)
    return result


def _reasons(messages: list[OutboxMessage], *, now: datetime) -> dict[int, str] | None:
    """The queueing apps asked once for the whole batch whether each message is still wanted.
    Not right after they decided: only once time has passed (a retry through an outage, a
    message queued to go later). None if a check failed: each message is then asked on its own,
    so one bad row is retried and the rest go on."""
    asked = [message for message in messages if _asked_again(message, now)]
    if not asked:
        return {}
    try:
        return _db(lambda: kinds.reasons_not_to_send(asked))
    except SoftTimeLimitExceeded:
        raise
    except Exception as error:
        logger.error("outbox: a still-wanted check failed (%s)", type(error).__name__)
        return None


def _deliver_batch(
    messages: list[OutboxMessage],
    token: str,
    *,
    now: datetime,
    mail,
    deadline: float | None,
    leased_at: float,
    result: DispatchResult,
) -> None:
    """Deliver a claimed batch in order. The lease is renewed for the rest of the batch, in one
    UPDATE, once half of it is spent (not before each message): until the lease runs out no
    other worker can take a row over, so a row renewed less than half a lease ago is still
    ours. Each outcome is one UPDATE, right after the send."""
    half_lease = settings.OUTBOX_LEASE_SECONDS / 2
    ids = [message.pk for message in messages]
    ours = set(ids)
    index, in_flight = 0, None
    try:
        reasons = _reasons(messages, now=now)
        for index, message in enumerate(messages):
            if deadline is not None and time.monotonic() >= deadline:
                result.released += _release(ids[index:], token)
                return
            if time.monotonic() - leased_at >= half_lease:
                leased_at = time.monotonic()
                ours = _renew(ids[index:], token)
            if message.pk not in ours:
                result.lost += 1
                continue
            in_flight = message.pk
            outcome = _deliver_one(message, token, now=now, mail=mail, reasons=reasons)
            setattr(result, outcome, getattr(result, outcome) + 1)
    except SoftTimeLimitExceeded:
        # Celery's soft limit: the row in flight may or may not have been accepted; it goes
        # back with the rest, and a resend carries the same Message-ID. Then the task ends.
        result.released += _release(ids[index:], token, tried=in_flight)
        raise


def _deliver_one(message, token, *, now, mail, reasons: dict[int, str] | None) -> str:
    try:
        if reasons is None:
            reason = kinds.reasons_not_to_send([message]).get(message.pk, "")
        else:
            reason = reasons.get(message.pk, "")
        return _deliver(message, token, now=now, mail=mail, reason=reason)
    except SoftTimeLimitExceeded:
        raise
    except Exception as error:
        # One bad row must not hold back the rest of the batch. Only the type is logged:
        # the error may carry an address (R25).
        logger.error("outbox message %s: unexpected %s", message.pk, type(error).__name__)
        return _retry_or_fail(
            message, token, now=now, error=f"Unexpected error ({type(error).__name__})."
        )


def dispatch_all_due(
    *, now: datetime | None = None, batch: int = BATCH, budget_seconds: float = 50.0
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
