""" "Send again" from the Outbox page: an integration reminder through its plan row (so the
Reminders page follows), any other message through the outbox; who may is the access policy."""

from __future__ import annotations

from typing import TYPE_CHECKING

from integration.models import IntegrationReminder
from integration.services import reminder_resend
from kap_clinic.errors import DomainError
from outbox.models import MessageKind
from outbox.services import message_resend
from patients.access import can_change_client

if TYPE_CHECKING:
    from accounts.models import User
    from outbox.models import OutboxMessage


class OutboxPageError(DomainError):
    """A rule refused the change; the message is for staff."""


def outbox_resend(*, message: OutboxMessage, by: User) -> OutboxMessage:
    if message.client is not None and not can_change_client(by, message.client):
        raise OutboxPageError("You cannot send this client's messages again.")
    if message.client is None and not by.is_admin:
        raise OutboxPageError("Only an admin can send this message again.")
    reminder = IntegrationReminder.objects.filter(outbox_message=message).first()
    if reminder is not None:
        reminder_resend(reminder=reminder, by=by)
        message.refresh_from_db()
        return message
    if (
        message.kind == MessageKind.PORTAL_INVITATION
        and message.client is not None
        and message.client.email != message.to
    ):
        raise OutboxPageError(
            "The client's e-mail address has changed since this invitation: send a new "
            "invitation from the client's record."
        )
    return message_resend(message=message, by=by)
