"""R19 outcome measures (PHQ-9, GAD-7, optional PCL-5) and R20 safety alerts.

Answers are immutable once submitted; totals and bands are computed server-side by
patients/scoring.py and stored with the response, never taken from the POST."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Instrument(models.TextChoices):
    PHQ9 = "phq9", "PHQ-9 (depression)"
    GAD7 = "gad7", "GAD-7 (anxiety)"
    PCL5 = "pcl5", "PCL-5 (PTSD symptoms)"


class ImmutableError(Exception):
    pass


class QuestionnaireRequest(models.Model):
    """The clinic asks the client to complete a questionnaire; it shows as due in the portal."""

    client = models.ForeignKey(
        "patients.Client", on_delete=models.PROTECT, related_name="questionnaire_requests"
    )
    instrument = models.CharField(max_length=8, choices=Instrument.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    due_date = models.DateField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_date", "requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "instrument"],
                condition=Q(completed_at__isnull=True, cancelled_at__isnull=True),
                name="questionnaire_one_open_request",
                violation_error_message="This questionnaire has already been requested.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_instrument_display()} requested for client #{self.client_id}"

    def get_additional_data(self) -> dict:
        return {"client_id": self.client_id}


class QuestionnaireResponse(models.Model):
    client = models.ForeignKey(
        "patients.Client", on_delete=models.PROTECT, related_name="questionnaire_responses"
    )
    instrument = models.CharField(max_length=8, choices=Instrument.choices)
    answers = models.JSONField()
    total = models.PositiveSmallIntegerField()
    band = models.CharField(max_length=40)
    # PHQ-9 item 9 (thoughts of self-harm), kept apart for the R20 alert and safety checks.
    item9_score = models.PositiveSmallIntegerField(null=True, blank=True)
    request = models.OneToOneField(
        QuestionnaireRequest,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="response",
    )
    submitted_at = models.DateTimeField(auto_now_add=True)
    # The client in the portal, or the therapist entering answers in session.
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [models.Index(fields=["client", "instrument", "-submitted_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(instrument__in=[c.value for c in Instrument]),
                name="questionnaire_instrument_valid",
            ),
            models.CheckConstraint(
                condition=Q(instrument="phq9") | Q(item9_score__isnull=True),
                name="questionnaire_item9_only_phq9",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_instrument_display()} {self.total} ({self.band})"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ImmutableError("Questionnaire answers cannot be changed once submitted.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError("Questionnaire answers are never deleted (R24).")

    @property
    def entered_by_staff(self) -> bool:
        return self.entered_by_id != getattr(self.client, "user_id", None)

    def get_additional_data(self) -> dict:
        return {"client_id": self.client_id}


class Alert(models.Model):
    """A safety alert for a therapist (R20), acknowledged in the app. Its e-mail says only that
    there is something to look at (R25)."""

    class Kind(models.TextChoices):
        PHQ9_ITEM9 = "phq9_item9", "PHQ-9 item 9: thoughts of self-harm"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    client = models.ForeignKey("patients.Client", on_delete=models.PROTECT, related_name="alerts")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="alerts"
    )
    response = models.ForeignKey(
        QuestionnaireResponse, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # When its e-mail was accepted by the mail server (the outbox records it, outbox.signals).
    email_sent_at = models.DateTimeField(null=True, blank=True)
    message = models.ForeignKey(
        "outbox.OutboxMessage", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "acknowledged_at"]),
            # The safety alerts page: the open ones newest first (also the navbar's count on
            # every staff page), and the latest acknowledged, read in order off the index.
            models.Index(
                fields=["-created_at", "-id"],
                name="alert_open_idx",
                condition=Q(acknowledged_at__isnull=True),
            ),
            models.Index(
                fields=["-acknowledged_at", "-id"],
                name="alert_acknowledged_idx",
                condition=Q(acknowledged_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for client #{self.client_id}"

    def get_additional_data(self) -> dict:
        return {"client_id": self.client_id}
