"""Portal invitations: a single-use, expiring link where a client chooses their password."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class PortalInvitation(models.Model):
    client = models.ForeignKey(
        "patients.Client", on_delete=models.PROTECT, related_name="invitations"
    )
    email = models.EmailField()
    # Only a SHA-256 of the token is stored: a database leak does not yield working links.
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    sent_count = models.PositiveSmallIntegerField(default=0)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    # The e-mail with the link, in the outbox: the client page shows whether it went out.
    message = models.ForeignKey(
        "outbox.OutboxMessage", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_client",
            ),
            models.CheckConstraint(
                condition=Q(accepted_at__isnull=True) | Q(revoked_at__isnull=True),
                name="invitation_not_both_accepted_and_revoked",
            ),
        ]

    def __str__(self) -> str:
        return f"Invitation #{self.pk} for client #{self.client_id}"

    @property
    def is_open(self) -> bool:
        closed = self.accepted_at is not None or self.revoked_at is not None
        return not closed and self.expires_at > timezone.now()

    def get_additional_data(self) -> dict:
        return {"client_id": self.client_id}
