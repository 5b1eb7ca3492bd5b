"""What the client record hears from the outbox: an alert's e-mail was sent (R20)."""

from __future__ import annotations

from django.dispatch import receiver

from outbox.models import MessageKind, MessageStatus, OutboxMessage
from outbox.signals import message_finished
from patients.models import Alert


@receiver(message_finished, dispatch_uid="patients.alert_message_finished")
def alert_message_finished(sender, message: OutboxMessage, **kwargs) -> None:
    if message.kind == MessageKind.SAFETY_ALERT and message.status == MessageStatus.SENT:
        Alert.objects.filter(message=message).update(email_sent_at=message.sent_at)
