"""R17 intake: completed online by the client, saved as a draft step by step, locked on submit.
A later change is an amendment: a new Intake that points at the one it amends, which is kept."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class ConsentDocument(models.Model):
    """Informed-consent text, versioned: a signature stores the version it was given against."""

    version = models.CharField(max_length=40, unique=True)
    title = models.CharField(max_length=200)
    body = models.TextField()
    published_at = models.DateTimeField()

    class Meta:
        ordering = ["-published_at"]
        get_latest_by = "published_at"

    def __str__(self) -> str:
        return f"{self.title} ({self.version})"


class Intake(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "In progress"
        SUBMITTED = "submitted", "Submitted"

    client = models.ForeignKey("patients.Client", on_delete=models.PROTECT, related_name="intakes")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    # Answers by step: {"about": {...}, "medical": {...}, ...}; validated per step by its form.
    answers = models.JSONField(default=dict, blank=True)
    last_step = models.CharField(max_length=32, blank=True)
    amends = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="amended_by"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # R17 informed consent: typed full name, when, and against which text version.
    consent = models.ForeignKey(ConsentDocument, on_delete=models.PROTECT, null=True, blank=True)
    consent_name = models.CharField(max_length=200, blank=True)
    consent_signed_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(status="draft"),
                name="intake_one_draft_per_client",
                violation_error_message="This client already has an intake in progress.",
            ),
            models.CheckConstraint(
                condition=Q(status="draft")
                | (
                    Q(submitted_at__isnull=False)
                    & Q(consent__isnull=False)
                    & Q(consent_signed_at__isnull=False)
                    & ~Q(consent_name="")
                ),
                name="intake_submitted_has_consent",
                violation_error_message="A submitted intake needs a signed consent.",
            ),
            models.CheckConstraint(
                condition=Q(reviewed_at__isnull=True) | Q(status="submitted"),
                name="intake_reviewed_after_submit",
            ),
        ]

    def __str__(self) -> str:
        return f"Intake #{self.pk} ({self.get_status_display()})"

    @property
    def is_locked(self) -> bool:
        return self.status == self.Status.SUBMITTED

    def get_additional_data(self) -> dict:
        return {"client_id": self.client_id}
