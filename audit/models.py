"""R22 audit controls, the "who looked" half. The "what changed" half is django-auditlog's
LogEntry (registered per model): it works on SQLite for `make run` as well as PostgreSQL, and it
catches a change from any code path (service, shell, data migration), which a hand-written
"log this" call in each service would not.

Rows are append-only: the model refuses updates and deletes, and on PostgreSQL a trigger refuses
them too (migration 0002), so not even a raw query through the app's connection can rewrite them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AppendOnlyError(Exception):
    pass


class AccessEvent(models.Model):
    """One view of one client's record: who, which client, which page, when, from where."""

    at = models.DateTimeField(auto_now_add=True)
    # No index of their own: (user, at, id) and (client, at, id) below lead with them and serve
    # every lookup by user or client (the foreign-key checks too). Each index is one more write
    # on every page view, which writes access rows.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="access_events",
        db_index=False,
    )
    client = models.ForeignKey(
        "patients.Client", on_delete=models.PROTECT, related_name="access_events", db_index=False
    )
    page = models.CharField(max_length=100)
    path = models.CharField(max_length=500)
    method = models.CharField(max_length=8)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        # The audit browser pages through the trail newest first by (at, id) (keyset pagination,
        # staff/audit/selectors.py): each filter has an index that yields its rows in that order,
        # so a page reads its 25 rows and stops, however long the trail. (at, id) also serves a
        # date range alone; it replaced the single-column index on ``at``.
        indexes = [
            models.Index(fields=["-at", "-id"], name="audit_access_at_id_idx"),
            models.Index(fields=["client", "-at", "-id"], name="audit_access_client_at_id_idx"),
            models.Index(fields=["user", "-at", "-id"], name="audit_access_user_at_id_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} viewed client {self.client_id} ({self.page}) at {self.at}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise AppendOnlyError("Audit rows cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit rows cannot be deleted.")
