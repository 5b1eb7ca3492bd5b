"""Sessions on the therapist's calendar: preparation, dosing (R9: 180 minutes), integration and
general psychotherapy. A therapist never has two sessions at once: on PostgreSQL an exclusion
constraint on (therapist, time range) makes it impossible (migration 0002), and the scheduling
service checks first on every database so the clinician gets a message naming the clash."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse


class SessionKind(models.TextChoices):
    PREPARATION = "preparation", "Preparation"
    DOSING = "dosing", "Dosing"
    INTEGRATION = "integration", "Integration"
    GENERAL = "general", "Psychotherapy"


class SessionStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "No-show"


class ClientReply(models.TextChoices):
    """The client's answer to an appointment reminder's link (sessions.scheduling.replies)."""

    NONE = "", "No answer"
    CONFIRMED = "confirmed", "Confirmed"
    RESCHEDULE = "reschedule", "Asked to reschedule"


# The longest a session may last (the booking services allow 10 minutes to 8 hours; a
# constraint holds every row to it).
LONGEST_SESSION = timedelta(hours=8)


class SessionQuerySet(models.QuerySet["Session"]):
    def booked(self) -> SessionQuerySet:
        """Sessions that hold their slot (everything but cancelled ones)."""
        return self.exclude(status=SessionStatus.CANCELLED)

    def completed_preparation(self) -> SessionQuerySet:
        """R2: the preparation sessions that count before a first dose (held and marked
        completed)."""
        return self.filter(kind=SessionKind.PREPARATION, status=SessionStatus.COMPLETED)

    def overlapping(self, starts_at, ends_at) -> SessionQuerySet:
        """Sessions that share a moment with ``starts_at``..``ends_at``. Half-open ranges: a
        session ending at 10:00 and one starting at 10:00 do not clash. No session lasts longer
        than LONGEST_SESSION (a constraint), so one that overlaps started at most that long
        before ``starts_at``: the lower bound lets an index on starts_at read the range alone,
        not every earlier session (all of a therapist's history)."""
        return self.filter(
            starts_at__lt=ends_at,
            starts_at__gt=starts_at - LONGEST_SESSION,
            ends_at__gt=starts_at,
        )


class Session(models.Model):
    client = models.ForeignKey("patients.Client", on_delete=models.PROTECT, related_name="sessions")
    # Every KAP session belongs to a course; general psychotherapy may have none.
    course = models.ForeignKey(
        "patients.TreatmentCourse",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sessions",
    )
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="therapy_sessions",
        limit_choices_to={"role": "therapist"},
    )
    kind = models.CharField(max_length=16, choices=SessionKind.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    location = models.CharField(max_length=200, blank=True)
    telehealth_url = models.URLField("telehealth link", blank=True, max_length=500)
    status = models.CharField(
        max_length=16, choices=SessionStatus.choices, default=SessionStatus.SCHEDULED
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancel_reason = models.TextField("reason for cancellation", blank=True, max_length=2000)
    # The client's answer from a reminder's link, for this session's current time (a move clears
    # it: the new time is asked about again).
    client_reply = models.CharField(max_length=16, choices=ClientReply.choices, blank=True)
    client_reply_at = models.DateTimeField(null=True, blank=True)
    # R7: the dosing session an integration session follows.
    follows_dose = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="integration_sessions",
        limit_choices_to={"kind": SessionKind.DOSING},
    )
    # R7: a dosing session booked before the previous dose had its integration session carries
    # the therapist's acknowledgement of that warning: who, when.
    integration_warning_acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    integration_warning_acknowledged_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SessionQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="session_ends_after_start",
                violation_error_message="A session must end after it starts.",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__lte=F("starts_at") + LONGEST_SESSION),
                name="session_at_most_8_hours",
                violation_error_message="A session lasts at most 8 hours.",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=["scheduled", "completed", "cancelled", "no_show"],
                    kind__in=["preparation", "dosing", "integration", "general"],
                ),
                name="session_kind_and_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | ~Q(cancel_reason=""),
                name="session_cancel_has_reason",
                violation_error_message="Give a reason for cancelling the session.",
            ),
            # R2, R3: KAP sessions belong to a treatment course.
            models.CheckConstraint(
                condition=Q(kind="general") | Q(course__isnull=False),
                name="session_kap_kind_has_course",
            ),
            models.CheckConstraint(
                condition=Q(client_reply="", client_reply_at__isnull=True)
                | Q(client_reply__in=["confirmed", "reschedule"], client_reply_at__isnull=False),
                name="session_client_reply_valid",
            ),
            models.CheckConstraint(
                condition=Q(follows_dose__isnull=True) | Q(kind="integration"),
                name="session_only_integration_follows_dose",
            ),
        ]
        indexes = [
            models.Index(fields=["therapist", "starts_at"]),
            models.Index(fields=["client", "kind", "status"]),
            # The whole clinic's calendar and day lists read a time range of every therapist.
            models.Index(fields=["starts_at"], name="session_starts_at_idx"),
            # R2: a course's completed preparation sessions (the dashboard's and the export's
            # "preparation done"), counted off the index.
            models.Index(
                fields=["course"],
                name="session_prep_done_idx",
                condition=Q(kind="preparation", status="completed"),
            ),
            # R7: a dose's integration, a completed integration session of its client within
            # 72 h after it (reports.figures.dose_integrated): one probe of this index a dose.
            models.Index(
                fields=["client", "starts_at"],
                name="session_integrated_idx",
                condition=Q(kind="integration", status="completed"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} session #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse(
            "patients:sessions:detail", kwargs={"client_id": self.client_id, "session_id": self.pk}
        )

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    @property
    def is_dosing(self) -> bool:
        return self.kind == SessionKind.DOSING

    @property
    def is_open(self) -> bool:
        return self.status == SessionStatus.SCHEDULED

    def get_additional_data(self) -> dict:
        return {"client_id": self.client_id}
