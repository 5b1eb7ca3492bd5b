"""The integration follow-up of each dose (R7, R8), as a plan: one row per message or check to
make, with its due time and a status. A beat task takes the due rows (no Celery eta/countdown:
Redis redelivers those after the visibility timeout), decides about each and hands those to send
to the outbox (outbox.models.OutboxMessage), which sends every e-mail of the app.

- ``client`` rows: the integration reminder to the client on days 1-3 after the dose, at the send
  hour of the client's time zone; what it says is decided at send time (book one / see you on ...).
- ``therapist`` rows: 24 h after the dose, if no integration session is booked, an in-app alert
  for the therapist (the row itself, until acknowledged) and an e-mail without clinical detail.

Status: pending (planned) → sending (in the outbox: ``outbox_message``) → sent | failed |
cancelled, the last three as the outbox records them (integration.receivers). ``message_id`` is
fixed when the row is made and given to its outbox message: a retry after a crash re-sends the
same Message-ID, which mail systems treat as the same message."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class ReminderKind(models.TextChoices):
    CLIENT = "client", "Reminder to the client"
    THERAPIST = "therapist", "Check for the therapist"


class ReminderStatus(models.TextChoices):
    PENDING = "pending", "Due"
    SENDING = "sending", "In the outbox"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class IntegrationReminder(models.Model):
    dose = models.ForeignKey(
        "clinic_sessions.DoseAdministration",
        on_delete=models.PROTECT,
        related_name="integration_reminders",
    )
    client = models.ForeignKey(
        "patients.Client", on_delete=models.PROTECT, related_name="integration_reminders"
    )
    course = models.ForeignKey(
        "patients.TreatmentCourse", on_delete=models.PROTECT, related_name="integration_reminders"
    )
    kind = models.CharField(max_length=16, choices=ReminderKind.choices)
    # Days after the dose (client rows); 0 for the therapist check.
    day = models.PositiveSmallIntegerField()
    due_at = models.DateTimeField()
    # Not before this time (the due time, or later after a transient failure: backoff).
    not_before = models.DateTimeField()
    status = models.CharField(
        max_length=16, choices=ReminderStatus.choices, default=ReminderStatus.PENDING
    )
    # The e-mail, once the reminder was due and not cancelled; its delivery is the outbox's.
    outbox_message = models.OneToOneField(
        "outbox.OutboxMessage",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="integration_reminder",
    )
    last_error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # What the message said, in words without clinical detail ("not booked", "booked") and where
    # it went; the e-mail text itself is not kept.
    variant = models.CharField(max_length=16, blank=True)
    sent_to = models.EmailField(blank=True)
    message_id = models.CharField(max_length=200, unique=True)
    cancelled_reason = models.CharField(max_length=200, blank=True)
    # Therapist rows: the in-app alert, open until acknowledged.
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            # R8: one reminder per dose and day, ever: a replayed dose signal cannot double it.
            models.UniqueConstraint(
                fields=["dose", "kind", "day"], name="reminder_one_per_dose_kind_day"
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=["pending", "sending", "sent", "failed", "cancelled"],
                    kind__in=["client", "therapist"],
                ),
                name="reminder_kind_and_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False),
                name="reminder_sent_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="sending") | Q(outbox_message__isnull=False),
                name="reminder_sending_has_message",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | ~Q(cancelled_reason=""),
                name="reminder_cancel_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "not_before"]),
            # The Reminders page (integration.selectors.REMINDER_ORDER), all and by status.
            models.Index(fields=["-dose", "kind", "day", "id"], name="reminder_list_idx"),
            models.Index(
                fields=["status", "-dose", "kind", "day", "id"], name="reminder_list_status_idx"
            ),
            # Open alerts (R8): the navbar's count on every staff page and the alerts list.
            models.Index(
                fields=["dose", "id"],
                name="reminder_open_alert_idx",
                condition=Q(kind="therapist", variant="alert", acknowledged_at__isnull=True),
            ),
            # The dashboard's figures (reminders sent and failed in a period) and its "reminder
            # failed" alert, which reads every failed reminder's course.
            models.Index(
                fields=["sent_at"], name="reminder_sent_at_idx", condition=Q(status="sent")
            ),
            models.Index(
                fields=["due_at", "course"],
                name="reminder_failed_idx",
                condition=Q(status="failed"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} (day {self.day}, {self.status})"

    @property
    def is_open_alert(self) -> bool:
        # R8: the alert exists once raised, whatever happened to its e-mail (a failed or retried
        # e-mail must not hide it); the same test as integration.selectors' open alerts.
        return (
            self.kind == ReminderKind.THERAPIST
            and self.variant == "alert"
            and self.acknowledged_at is None
        )

    def get_additional_data(self) -> dict:
        return {"client_id": self.client_id}
