"""What the outbox tells the apps above it (a lower floor speaks to a higher one by signal).

``message_finished``: a message reached sent, failed or cancelled. Sent inside the transaction
that records it, so a producer's own row (a reminder, an alert) follows in the same commit.
Arguments: ``message`` (the OutboxMessage, as recorded)."""

from django.dispatch import Signal

message_finished = Signal()
