"""The outbox: every e-mail the app sends is first a row here, written in the transaction of the
change it follows from, and sent later by the dispatcher (outbox.dispatch), never inside a web
request. Portal and staff invitations, password resets, safety alerts (R20), integration
reminders and checks (R8), appointment confirmations and reminders.

Status: pending -> sending (claimed; ``claimed_at`` starts a lease) -> sent | failed | cancelled.
``message_id`` is fixed when the row is made: a retry after a crash re-sends the same Message-ID,
which mail systems treat as the same message. ``expires_at`` is the moment after which sending
it is no use any more (a "tomorrow" reminder on the wrong day, an expired link); transient
errors are retried until then, with a capped backoff.

R25: the subject and text say nothing clinical (each producer's templates see to it). A text
that carries a sign-in link (``secret``) is blanked once the message is sent or given up."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper


class MessageKind(models.TextChoices):
    PORTAL_INVITATION = "portal_invitation", "Portal invitation"
    STAFF_INVITE = "staff_invite", "Staff account invitation"
    PASSWORD_RESET = "password_reset", "Password reset"
    SAFETY_ALERT = "safety_alert", "Safety alert to a therapist"
    INTEGRATION_REMINDER = "integration_reminder", "Integration reminder to a client"
    INTEGRATION_CHECK = "integration_check", "Integration check to a therapist"
    APPOINTMENT_CONFIRMATION = "appointment_confirmation", "Appointment confirmation"
    APPOINTMENT_REMINDER = "appointment_reminder", "Appointment reminder to a client"


class MessageStatus(models.TextChoices):
    PENDING = "pending", "Due"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class OutboxMessage(models.Model):
    kind = models.CharField(max_length=32, choices=MessageKind.choices)
    # Whom the message is about, when it is about a client: the access policy shows it to the
    # staff who may see that client. None for staff invitations and password resets.
    client = models.ForeignKey(
        "patients.Client", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to = models.CharField(max_length=320)
    subject = models.CharField(max_length=200)
    text = models.TextField(blank=True)
    html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    secret = models.BooleanField(default=False)
    # What the message is about, e.g. "session:42": a newer message on the same topic replaces one
    # not sent yet (a booking moved twice in a minute gets one confirmation, the latest).
    topic = models.CharField(max_length=64, blank=True, db_index=True)
    message_id = models.CharField(max_length=200, unique=True)

    status = models.CharField(
        max_length=16, choices=MessageStatus.choices, default=MessageStatus.PENDING
    )
    not_before = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=36, blank=True, db_index=True)
    last_error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    cancelled_reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "sending", "sent", "failed", "cancelled"]),
                name="outbox_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False),
                name="outbox_sent_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="sending") | Q(claimed_at__isnull=False),
                name="outbox_sending_is_claimed",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | ~Q(cancelled_reason=""),
                name="outbox_cancel_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status="failed") | ~Q(last_error=""),
                name="outbox_failure_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "not_before"]),
            models.Index(fields=["client", "-created_at"]),
            # The Outbox page: newest first, all or by status (staff.outbox.selectors), a keyset
            # page read off the index; and a therapist's own messages (to__iexact).
            models.Index(fields=["-created_at", "-id"], name="outbox_list_idx"),
            models.Index(fields=["status", "-created_at", "-id"], name="outbox_list_status_idx"),
            models.Index(Upper("to"), name="outbox_to_upper_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"

    def get_additional_data(self) -> dict:
        return {"client_id": self.client_id}
