from auditlog.registry import auditlog

from outbox.models import OutboxMessage

# The text is left out: it may hold a sign-in link, and the trail needs who and what, not that.
auditlog.register(OutboxMessage, exclude_fields=["text", "html", "headers", "claim_token"])
