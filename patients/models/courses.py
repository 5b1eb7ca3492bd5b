"""R1 the treatment course: intake → referral → preparation → dosing → complete, with on hold
and discontinued reachable from any active phase, and booster courses after a completed one."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Phase(models.TextChoices):
    INTAKE = "intake", "Intake"
    REFERRAL = "referral", "Referral"
    PREPARATION = "preparation", "Preparation"
    DOSING = "dosing", "Dosing"
    COMPLETE = "complete", "Complete"
    ON_HOLD = "on_hold", "On hold"
    DISCONTINUED = "discontinued", "Discontinued"


ACTIVE_PHASES = (Phase.INTAKE, Phase.REFERRAL, Phase.PREPARATION, Phase.DOSING, Phase.ON_HOLD)
CLOSED_PHASES = (Phase.COMPLETE, Phase.DISCONTINUED)


class TreatmentCourse(models.Model):
    client = models.ForeignKey("patients.Client", on_delete=models.PROTECT, related_name="courses")
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="courses",
        limit_choices_to={"role": "therapist"},
    )
    phase = models.CharField(max_length=16, choices=Phase.choices, default=Phase.INTAKE)
    # Where the course resumes after a hold.
    phase_before_hold = models.CharField(max_length=16, choices=Phase.choices, blank=True)
    referral = models.ForeignKey(
        "patients.Referral",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="courses",
    )
    booster_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="boosters"
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["client"],
                condition=~Q(phase__in=["complete", "discontinued"]),
                name="course_one_active_per_client",
                violation_error_message="This client already has an active treatment course.",
            ),
            models.CheckConstraint(
                condition=Q(phase__in=["complete", "discontinued"], closed_at__isnull=False)
                | (~Q(phase__in=["complete", "discontinued"]) & Q(closed_at__isnull=True)),
                name="course_closed_iff_closed_phase",
            ),
            models.CheckConstraint(
                condition=~Q(phase="on_hold") | ~Q(phase_before_hold=""),
                name="course_hold_remembers_phase",
            ),
        ]

    def __str__(self) -> str:
        kind = "Booster course" if self.booster_of_id else "Course"
        return f"{kind} #{self.pk} ({self.get_phase_display()})"

    @property
    def is_active(self) -> bool:
        return self.phase not in CLOSED_PHASES

    def get_additional_data(self) -> dict:
        return {"client_id": self.client_id}


class CourseTransition(models.Model):
    course = models.ForeignKey(
        TreatmentCourse, on_delete=models.PROTECT, related_name="transitions"
    )
    from_phase = models.CharField(max_length=16, choices=Phase.choices, blank=True)
    to_phase = models.CharField(max_length=16, choices=Phase.choices)
    reason = models.TextField(blank=True, max_length=2000)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_phase or 'opened'} → {self.to_phase}"

    def get_additional_data(self) -> dict:
        return {"client_id": self.course.client_id}
