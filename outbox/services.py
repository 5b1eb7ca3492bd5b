"""Writes to the outbox: queueing a message (in the caller's transaction) and sending a failed one
again. Sending itself is outbox.dispatch, run by the beat every minute."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clinic import settings_reader
from kap_clinic.errors import DomainError
from outbox.models import MessageKind, MessageStatus, OutboxMessage
from outbox.tasks import dispatch_due

if TYPE_CHECKING:
    from accounts.models import User


class OutboxError(DomainError):
    """A rule refused the change; the message is for staff."""


def message_id_for(kind: str) -> str:
    """A Message-ID of the clinic's own domain, fixed for the life of the message."""
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(" >") or "localhost"
    return f"<{kind}-{uuid.uuid4().hex}@{domain}>"


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
) -> OutboxMessage:
    """Put a message in the outbox. Call it inside the transaction of the change it follows from:
    the change and its message are saved together or not at all. After the commit the dispatcher
    is asked to run at once; if the broker is down the beat finds the row within a minute
    anyway, so a broker outage delays a message and never loses it. ``kick=False``: the caller
    queues many and kicks the dispatcher once itself. ``topic``: a message on the same topic not
    sent yet is cancelled, replaced by this one. ``to_client``: replies go to the clinic's reply
    address (clinic settings), where someone reads them."""
    now = timezone.now()
    headers = {}
    if to_client:
        reply_to = settings_reader.current().reply_to_email
        if reply_to:
            headers["Reply-To"] = reply_to
    with transaction.atomic():
        if topic:
            OutboxMessage.objects.filter(
                topic=topic, status__in=[MessageStatus.PENDING, MessageStatus.FAILED]
            ).update(
                status=MessageStatus.CANCELLED,
                cancelled_reason="Replaced by a newer message about the same thing.",
                updated_at=now,
            )
        message = OutboxMessage.objects.create(
            kind=kind,
            to=to,
            subject=subject,
            text=text,
            html=html,
            client=client,
            secret=secret,
            not_before=not_before or now,
            expires_at=expires_at,
            message_id=message_id or message_id_for(kind),
            created_by=created_by,
            topic=topic,
            headers=headers,
        )
        if kick and message.not_before <= now:
            transaction.on_commit(dispatch_due.delay, robust=True)
    return message


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
