"""Writes to the outbox: queueing a message (in the caller's transaction) and sending a failed one
again. Sending itself is outbox.dispatch, run by the beat every minute."""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clinic import settings_reader
from kap_clinic.errors import DomainError
from outbox.bulk_audit import entries_record
from outbox.models import MessageKind, MessageStatus, OutboxMessage
from outbox.tasks import dispatch_due

if TYPE_CHECKING:
    from accounts.models import User
    from patients.models import Client


class OutboxError(DomainError):
    """A rule refused the change; the message is for staff."""


def message_id_for(kind: str) -> str:
    """A Message-ID of the clinic's own domain, fixed for the life of the message."""
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(" >") or "localhost"
    return f"<{kind}-{uuid.uuid4().hex}@{domain}>"


@dataclass(frozen=True)
class Draft:
    """One message to queue with messages_queue (the arguments of message_queue, but ``topic``
    and ``kick``, which are the batch's)."""

    kind: MessageKind
    to: str
    subject: str
    text: str
    expires_at: datetime
    html: str = ""
    client: Client | None = None
    secret: bool = False
    not_before: datetime | None = None
    message_id: str = ""
    created_by: User | None = None
    to_client: bool = False
    headers: dict | None = None
    # What it is about (message_queue's ``topic``); messages_queue replaces nothing by it: the
    # caller has cancelled what it replaces (messages_cancel).
    topic: str = ""


def _reply_headers() -> dict:
    """A client's message: replies go to the clinic's reply address (clinic settings), where
    someone reads them."""
    reply_to = settings_reader.current().reply_to_email
    return {"Reply-To": reply_to} if reply_to else {}


def _row(draft: Draft, *, now: datetime, reply_headers: dict, topic: str = "") -> OutboxMessage:
    return OutboxMessage(
        kind=draft.kind,
        to=draft.to,
        subject=draft.subject,
        text=draft.text,
        html=draft.html,
        client=draft.client,
        secret=draft.secret,
        not_before=draft.not_before or now,
        expires_at=draft.expires_at,
        message_id=draft.message_id or message_id_for(draft.kind),
        created_by=draft.created_by,
        topic=topic or draft.topic,
        headers={**(reply_headers if draft.to_client else {}), **(draft.headers or {})},
    )


def message_queue(
    *,
    kind: MessageKind,
    to: str,
    subject: str,
    text: str,
    expires_at: datetime,
    html: str = "",
    client=None,
    secret: bool = False,
    not_before: datetime | None = None,
    message_id: str = "",
    created_by: User | None = None,
    kick: bool = True,
    topic: str = "",
    to_client: bool = False,
    headers: dict | None = None,
) -> OutboxMessage:
    """Put a message in the outbox. Call it inside the transaction of the change it follows from:
    the change and its message are saved together or not at all. After the commit the dispatcher
    is asked to run at once; if the broker is down the beat finds the row within a minute
    anyway, so a broker outage delays a message and never loses it. ``kick=False``: the caller
    queues many and kicks the dispatcher once itself. ``topic``: a message on the same topic not
    sent yet is cancelled, replaced by this one. ``to_client``: replies go to the clinic's reply
    address (clinic settings), where someone reads them. ``headers``: the message's own (a
    reminder's List-Unsubscribe)."""
    now = timezone.now()
    draft = Draft(
        kind=kind,
        to=to,
        subject=subject,
        text=text,
        expires_at=expires_at,
        html=html,
        client=client,
        secret=secret,
        not_before=not_before,
        message_id=message_id,
        created_by=created_by,
        to_client=to_client,
        headers=headers,
    )
    with transaction.atomic():
        if topic:
            OutboxMessage.objects.filter(
                topic=topic, status__in=[MessageStatus.PENDING, MessageStatus.FAILED]
            ).update(
                status=MessageStatus.CANCELLED,
                cancelled_reason="Replaced by a newer message about the same thing.",
                updated_at=now,
            )
        message = _row(
            draft, now=now, reply_headers=_reply_headers() if to_client else {}, topic=topic
        )
        message.save(force_insert=True)
        if kick and message.not_before <= now:
            transaction.on_commit(dispatch_due.delay, robust=True)
    return message


def messages_queue(drafts: list[Draft], *, kick: bool = True) -> list[OutboxMessage]:
    """message_queue for a batch (the reminder plan step queues hundreds at a time): one INSERT
    for the messages and one for their audit entries, whatever the batch's size. Inside the
    caller's transaction, as message_queue. A draft's ``topic`` replaces nothing: the caller
    cancels first what the batch replaces (messages_cancel)."""
    if not drafts:
        return []
    now = timezone.now()
    reply_headers = _reply_headers() if any(draft.to_client for draft in drafts) else {}
    messages = [_row(draft, now=now, reply_headers=reply_headers) for draft in drafts]
    with transaction.atomic():
        # created_at / updated_at (auto_now) are set by bulk_create as by save().
        OutboxMessage.objects.bulk_create(messages)
        entries_record((None, message, None) for message in messages)
        if kick and any(message.not_before <= now for message in messages):
            transaction.on_commit(dispatch_due.delay, robust=True)
    return messages


CANCELLED_FIELDS = ["status", "cancelled_reason", "updated_at"]


def messages_cancel(*, topics: list[str], reason: str) -> int:
    """Cancel the messages on these topics not sent yet (due, or failed and waiting for "send
    again"): what they were about changed (a session cancelled or moved, a client who turned
    reminders off). One being sent right now is left to its worker; the dispatcher's check stops
    it. Audited as save() would (R22), in one INSERT whatever the count."""
    with transaction.atomic():
        rows = list(
            OutboxMessage.objects.select_for_update().filter(
                topic__in=topics, status__in=[MessageStatus.PENDING, MessageStatus.FAILED]
            )
        )
        if not rows:
            return 0
        now = timezone.now()
        OutboxMessage.objects.filter(pk__in=[row.pk for row in rows]).update(
            status=MessageStatus.CANCELLED, cancelled_reason=reason[:200], updated_at=now
        )
        changes = []
        for row in rows:
            new = copy.copy(row)
            new.status, new.cancelled_reason, new.updated_at = (
                MessageStatus.CANCELLED,
                reason[:200],
                now,
            )
            changes.append((row, new, CANCELLED_FIELDS))
        entries_record(changes)
    return len(rows)


def message_resend(*, message: OutboxMessage, by: User, to: str | None = None) -> OutboxMessage:
    """Staff send a failed message again (after the address was corrected or the mail server
    fixed). Only a failed one, and only while it is still of use; under a row lock, so a double
    click queues it once; saved with save() so the audit trail records who asked (R22). ``to``:
    the address on file now, when the app that queued it knows a newer one."""
    with transaction.atomic():
        locked = OutboxMessage.objects.select_for_update().get(pk=message.pk)
        if locked.status != MessageStatus.FAILED:
            raise OutboxError(
                f"This message is {locked.get_status_display().lower()}: only a failed message "
                "can be sent again."
            )
        now = timezone.now()
        if locked.expires_at <= now:
            raise OutboxError(
                "Too late to send again: by now it would be of no use (a reminder for a day that "
                "has passed, or an expired link). Contact the person directly instead."
            )
        if locked.secret and not locked.text:
            raise OutboxError("This message's link is no longer kept: send a new one instead.")
        if to is not None:
            if not to:
                raise OutboxError("Add an e-mail address first: there is none on file.")
            locked.to = to
        locked.status = MessageStatus.PENDING
        locked.not_before = now
        locked.attempts = 0
        locked.last_error = ""
        locked.save()
        transaction.on_commit(dispatch_due.delay, robust=True)
    return locked
