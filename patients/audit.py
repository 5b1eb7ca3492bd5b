"""R22: every create/update of clinical data is recorded by django-auditlog (who, when, what
changed). Each audited model defines ``get_additional_data()`` returning its ``client_id`` so the
audit browser can filter by client."""

from auditlog.registry import auditlog

from patients.models import Client, ClientShare

auditlog.register(Client, exclude_fields=["updated_at", "phone_digits"])
auditlog.register(ClientShare)
