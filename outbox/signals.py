"""What the outbox tells the apps above it (a lower floor speaks to a higher one by signal).

``message_finished``: a message reached sent, failed or cancelled. Sent inside the transaction
that records it, so a producer's own row (an alert) follows in the same commit. Arguments:
``message`` (the OutboxMessage, as recorded). Not sent for kinds whose app registered a mirror
row instead (outbox.kinds.register_mirror: the integration reminders), which copies the outcome
in the recording statement itself."""

from django.dispatch import Signal

message_finished = Signal()
