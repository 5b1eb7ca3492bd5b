"""R22: the reminder outbox is audited like the rest of the record (status changes, resends,
acknowledgements); the claim bookkeeping is left out."""

from auditlog.registry import auditlog

from integration.models import IntegrationReminder

auditlog.register(IntegrationReminder, exclude_fields=["updated_at"])
