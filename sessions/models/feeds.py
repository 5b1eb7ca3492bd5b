"""A therapist's secret calendar feed (iCal). Only a hash of the token is stored: the address is
shown once when made; revoking it, or making a new one, stops the old address working. Events
carry the session kind and the client's initials only (R25)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class CalendarFeed(models.Model):
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="calendar_feeds"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["therapist"],
                condition=Q(revoked_at__isnull=True),
                name="calendar_feed_one_active_per_therapist",
            ),
        ]

    def __str__(self) -> str:
        return f"Calendar feed #{self.pk}"
