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
   right after the server's acceptance, before the next message is accepted and before the
   QUIT: one statement (outbox.bookkeeping), whose durable COMMIT is most of a message's time,
   so the next message's envelope and text go out meanwhile, all but the line that ends it
   (outbox.smtp), and that line only once the mark is committed. The only window for a second
   copy is a crash between one acceptance and its mark; the retry after the lease re-sends the
   SAME Message-ID. SMTP has no idempotency: at most one extra copy per crash is the limit, and
   the fault tests measure it.
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
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import get_connection
from django.utils import timezone

from kap_clinic import formats
from kap_clinic.mail import PermanentSendError, TransientSendError
from outbox import kinds, smtp
from outbox.bookkeeping import (
    claim,
    claim_rows,
    record_outcome,
    release,
    renew,
    with_reconnect,
)
from outbox.models import MessageStatus, OutboxMessage

logger = logging.getLogger(__name__)

__all__ = ["BATCH", "DispatchResult", "claim", "deliver", "dispatch_all_due", "dispatch_due"]

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


_close = smtp.close  # the end of a batch's connection (and of a test's)


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
    record_outcome(
        message, token, status=MessageStatus.PENDING, not_before=next_try, last_error=error[:500]
    )
    return "retried"


def _fail(message: OutboxMessage, token: str, reason: str, *, done_with: bool = False) -> None:
    """Failed: will not be sent. A refused one keeps its text, for "Send again" once the address
    is corrected; one given up at its expiry is ``done_with``."""
    blank = _blank(message) if done_with else {}
    record_outcome(message, token, status=MessageStatus.FAILED, last_error=reason[:500], **blank)
    logger.warning("outbox message %s (%s) failed", message.pk, message.kind)


def deliver(pk: int, token: str, *, now: datetime, mail) -> str:
    """Decide about and send one claimed message on its own (a batch goes through _Batch).
    Returns "sent", "cancelled", "retried", "failed", or "lost" when another worker took the
    row over after the lease."""
    if not renew([pk], token):
        return "lost"
    message = with_reconnect(lambda: OutboxMessage.objects.get(pk=pk))
    reason = kinds.reasons_not_to_send([message]).get(pk, "") if _asked_again(message, now) else ""
    decided = _not_to_send(message, token, now=now, reason=reason)
    if decided:
        return decided
    sender = smtp.Sender(mail)
    return _sent(message, token, now=now, sender=sender, prepare=lambda: sender.prepare(message))


def _not_to_send(message: OutboxMessage, token: str, *, now: datetime, reason: str) -> str:
    """Record why a claimed message will not be sent now, if it will not: past its use, or no
    longer wanted by the app that queued it (``reason``). Returns the outcome, or "" to send."""
    if message.expires_at < now:
        if message.last_error:
            _fail(message, token, _given_up(message, message.last_error), done_with=True)
            return "failed"
        late = "Not sent in time (the sending was delayed): by now it would be of no use."
        record_outcome(
            message,
            token,
            status=MessageStatus.CANCELLED,
            cancelled_reason=late,
            **_blank(message),
        )
        return "cancelled"
    if reason:
        record_outcome(
            message,
            token,
            status=MessageStatus.CANCELLED,
            cancelled_reason=reason[:200],
            **_blank(message),
        )
        return "cancelled"
    return ""


def _sent(
    message: OutboxMessage,
    token: str,
    *,
    now: datetime,
    sender: smtp.Sender,
    prepare: Callable[[], None],
    then: Callable[[], None] | None = None,
) -> str:
    """Send a message and record the outcome. ``prepare``: its preparation (sender.prepare, or
    the wait for it on the helper thread); ``then``: what to start once it is accepted and
    before it is marked (the next message's preparation)."""
    try:
        prepare()
        sender.finish()
    except TransientSendError as error:
        return _retry_or_fail(message, token, now=now, error=str(error))
    except PermanentSendError as error:
        _fail(message, token, str(error))
        return "failed"
    if then is not None:
        then()
    # Right after the server's acceptance, before the next message is finished: the one
    # statement (with the queueing app's own row) that a crash must not find undone.
    record_outcome(
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
    token, messages = claim_rows(now=now, limit=limit)
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
        return with_reconnect(lambda: kinds.reasons_not_to_send(asked))
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
    """Deliver a claimed batch in order over one connection (see _Batch)."""
    batch = _Batch(messages, token, now=now, deadline=deadline, leased_at=leased_at)
    sender = smtp.Sender(mail)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-smtp") as helper:
        try:
            batch.run(sender, helper, result)
        finally:
            # A message prepared ahead and never finished is dropped with the connection (the
            # server discards it). Dropped first, so that a helper thread blocked on the server
            # (the soft time limit struck) fails at once.
            if batch.ahead is not None:
                sender.drop()
                batch.abandon(sender)


class _Batch:
    """A claimed batch, delivered in order. While a message's "sent" is being recorded, the next
    one is prepared on a helper thread (outbox.smtp: everything but the end of its text), and it
    is finished once the first is marked: the durable COMMIT and the next message's transfer
    overlap, and at most one message is ever accepted and not yet marked.

    The lease is renewed for the rest of the batch, in one UPDATE, once half of it is spent (not
    before each message): until the lease runs out no other worker can take a row over, so a row
    renewed less than half a lease ago is still ours. A message whose turn needs a statement of
    its own first (a renewal, a cancellation, a check one at a time) is not prepared ahead."""

    def __init__(
        self,
        messages: list[OutboxMessage],
        token: str,
        *,
        now: datetime,
        deadline: float | None,
        leased_at: float,
    ) -> None:
        self.messages, self.token, self.now, self.deadline = messages, token, now, deadline
        self.ids = [message.pk for message in messages]
        self.ours = set(self.ids)
        self.leased_at = leased_at
        self.half_lease = settings.OUTBOX_LEASE_SECONDS / 2
        self.reasons: dict[int, str] | None = {}
        self.index = 0
        # The message accepted by the server and not yet marked, and the one prepared ahead
        # (with its preparation's Future).
        self.accepted: OutboxMessage | None = None
        self.ahead: tuple[OutboxMessage, Future] | None = None

    def run(self, sender: smtp.Sender, helper: ThreadPoolExecutor, result: DispatchResult):
        try:
            self.reasons = _reasons(self.messages, now=self.now)
            for index, message in enumerate(self.messages):
                self.index = index
                outcome = self._turn(message, sender, helper)
                if outcome == "released":
                    result.released += release(self.ids[self.index :], self.token)
                    return
                setattr(result, outcome, getattr(result, outcome) + 1)
        except SoftTimeLimitExceeded:
            # Celery's soft limit: a message accepted and not yet marked goes back with the rest
            # (its attempt counted; a resend carries the same Message-ID), one prepared ahead
            # with them (the server never saw its end). Then the task ends.
            tried = self.accepted.pk if self.accepted is not None else None
            result.released += release(self.ids[self.index :], self.token, tried=tried)
            raise

    def _turn(self, message: OutboxMessage, sender: smtp.Sender, helper) -> str:
        if self.ahead is not None and self.ahead[0] is message:
            future = self.ahead[1]
        else:
            started = self._start(message, sender, helper)
            if isinstance(started, str):
                return started
            future = started
        # Just before the server can accept it: the time budget and the lease, again.
        _wait(future)
        if self._out_of_time():
            return "released"
        if not self._still_ours(message):
            self.abandon(sender)
            return "lost"
        try:
            return _sent(
                message,
                self.token,
                now=self.now,
                sender=sender,
                prepare=lambda: self._prepared(future),
                then=lambda: self._accepted(message, sender, helper),
            )
        except SoftTimeLimitExceeded:
            raise
        except Exception as error:
            return self._unexpected(message, error, sender)
        finally:
            self.accepted = None

    def _start(self, message: OutboxMessage, sender: smtp.Sender, helper) -> str | Future:
        """A message not prepared ahead: decided about now (its statements, if any, are run
        here), then its preparation started. Returns the outcome if it is not to be sent."""
        self.abandon(sender)  # (none is: the message prepared ahead is always the next one)
        if self._out_of_time():
            return "released"
        if not self._still_ours(message):
            return "lost"
        try:
            reason = self._reason(message)
            decided = _not_to_send(message, self.token, now=self.now, reason=reason)
        except SoftTimeLimitExceeded:
            raise
        except Exception as error:
            return self._unexpected(message, error, sender)
        if decided:
            return decided
        future = helper.submit(sender.prepare, message)
        self.ahead = (message, future)
        return future

    def _prepared(self, future: Future) -> None:
        self.ahead = None
        future.result()  # the preparation's own error, if any (raised here, on this thread)

    def _accepted(self, message: OutboxMessage, sender: smtp.Sender, helper) -> None:
        """The server accepted ``message``: prepare the next one while it is marked, if the next
        one can go without a statement of its own first."""
        self.accepted = message
        following = self.index + 1
        if following < len(self.messages) and self._goes_as_it_is(self.messages[following]):
            upcoming = self.messages[following]
            self.ahead = (upcoming, helper.submit(sender.prepare, upcoming))

    def _goes_as_it_is(self, message: OutboxMessage) -> bool:
        return (
            not self._out_of_time()
            and message.pk in self.ours
            and time.monotonic() - self.leased_at < self.half_lease
            and message.expires_at >= self.now
            and self.reasons is not None
            and not self.reasons.get(message.pk)
        )

    def _unexpected(self, message: OutboxMessage, error: Exception, sender: smtp.Sender) -> str:
        # One bad row must not hold back the rest of the batch. Only the type is logged: the
        # error may carry an address (R25). The connection is in an unknown state: dropped.
        logger.error("outbox message %s: unexpected %s", message.pk, type(error).__name__)
        self.abandon(sender)
        sender.drop()
        return _retry_or_fail(
            message, self.token, now=self.now, error=f"Unexpected error ({type(error).__name__})."
        )

    def abandon(self, sender: smtp.Sender) -> None:
        """Give up the message prepared ahead, if any: once the helper thread is done with it
        (a connection left in the middle of a message's text must never carry the next one),
        the connection is dropped and the server discards it."""
        if self.ahead is None:
            return
        _wait(self.ahead[1])
        self.ahead = None
        sender.drop()

    def _reason(self, message: OutboxMessage) -> str:
        if self.reasons is None:  # the batch's check failed: this message asked on its own
            return kinds.reasons_not_to_send([message]).get(message.pk, "")
        return self.reasons.get(message.pk, "")

    def _out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def _still_ours(self, message: OutboxMessage) -> bool:
        if time.monotonic() - self.leased_at >= self.half_lease:
            self.leased_at = time.monotonic()
            self.ours = renew(self.ids[self.index :], self.token)
        return message.pk in self.ours


def _wait(future: Future) -> None:
    """Until the helper thread is done with the message (its error is _prepared's to raise)."""
    wait([future])


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
