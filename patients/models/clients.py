"""The client record. Issue #3 grows it (intake, questionnaires); this is the part the access
policy and the audit trail stand on: who the client is and which therapists may see them."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse

from patients.clients.validators import validate_time_zone


class ClientQuerySet(models.QuerySet["Client"]):
    def active(self) -> ClientQuerySet:
        return self.filter(archived_at__isnull=True)


class ReminderChoiceVia(models.TextChoices):
    PORTAL = "portal", "in the portal"
    EMAIL = "email", "from a reminder e-mail's link"
    STAFF = "staff", "by staff"


class Client(models.Model):
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    pronouns = models.CharField(max_length=40, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    email = models.EmailField("e-mail address", blank=True)
    phone = models.CharField(max_length=32, blank=True)
    address = models.TextField(blank=True, max_length=500)
    emergency_contact_name = models.CharField(max_length=150, blank=True)
    emergency_contact_relationship = models.CharField(max_length=60, blank=True)
    emergency_contact_phone = models.CharField(max_length=32, blank=True)
    # R15: the person who takes the client home after a dosing session.
    chaperone_name = models.CharField("default chaperone", max_length=150, blank=True)
    chaperone_phone = models.CharField("chaperone phone", max_length=32, blank=True)
    # R8: reminders go out at the send hour of the client's own time zone; blank = the clinic's.
    time_zone = models.CharField(
        "time zone",
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text="Leave blank when the client lives in the clinic's time zone.",
    )
    # S 000: the in-person medical assessment is usually done by the client's own doctor.
    pcp_name = models.CharField("primary care provider", max_length=150, blank=True)
    pcp_practice = models.CharField("practice", max_length=150, blank=True)
    pcp_phone = models.CharField("practice phone", max_length=32, blank=True)
    # Digits only, for search whatever punctuation the number was typed with.
    phone_digits = models.CharField(max_length=32, blank=True, editable=False, db_index=True)
    # The client's own portal login, once they accept an invitation (issue #3).
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="client_profile",
        limit_choices_to={"role": "client"},
    )
    primary_therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="primary_clients",
        limit_choices_to={"role": "therapist"},
    )
    # Appointment and integration reminders by e-mail: on unless the client (in the portal, or
    # by the one-click link every reminder carries) or staff turn them off; who, how and when
    # the choice was last made is kept and shown on the record. Safety e-mails to staff and
    # password resets do not depend on it.
    reminders_wanted = models.BooleanField("e-mail reminders", default=True)
    reminders_changed_at = models.DateTimeField(null=True, blank=True)
    reminders_changed_via = models.CharField(
        max_length=16, choices=ReminderChoiceVia.choices, blank=True
    )
    reminders_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # R24: never hard-deleted; archived with a reason.
    archived_at = models.DateTimeField(null=True, blank=True)
    archived_reason = models.CharField(max_length=500, blank=True)

    objects = ClientQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=Q(archived_at__isnull=True) & ~Q(email=""),
                name="client_email_unique_active",
                violation_error_message="Another active client already uses this e-mail address.",
            ),
            models.CheckConstraint(
                condition=Q(archived_at__isnull=True) | ~Q(archived_reason=""),
                name="client_archive_has_reason",
                violation_error_message="Give a reason when archiving a client.",
            ),
        ]
        indexes = [
            models.Index(fields=["primary_therapist", "last_name"]),
            # The client list, by name or newest first (patients.clients.selectors): a page of
            # 25 read off the index in order, not a sort of every active client.
            models.Index(
                fields=["last_name", "first_name", "id"],
                name="client_list_name_idx",
                condition=Q(archived_at__isnull=True),
            ),
            models.Index(
                fields=["-created_at", "-id"],
                name="client_list_created_idx",
                condition=Q(archived_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args, **kwargs) -> None:
        self.phone_digits = "".join(ch for ch in self.phone if ch.isdigit())
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "phone" in update_fields:
            kwargs["update_fields"] = {*update_fields, "phone_digits"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("patients:client_detail", kwargs={"client_id": self.pk})

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def initials(self) -> str:
        """R25: what reminders and calendar feeds may show."""
        return f"{self.first_name[:1]}.{self.last_name[:1]}.".upper()

    @property
    def zone(self):
        """The client's time zone (R8), the clinic's when none is set."""

        return ZoneInfo(self.time_zone or settings.TIME_ZONE)

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def get_additional_data(self) -> dict:
        # Stored on every audit row so the audit browser can filter changes by client.
        return {"client_id": self.pk}


class ClientShare(models.Model):
    """A client explicitly shared with a therapist other than the primary one (cover, supervision,
    co-therapy). Revoked, never deleted (R24), so the audit trail keeps who could see what."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="shares")
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="shared_clients",
        limit_choices_to={"role": "therapist"},
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "therapist"],
                condition=Q(revoked_at__isnull=True),
                name="client_share_one_active",
            )
        ]

    def __str__(self) -> str:
        return f"Client #{self.client_id} shared with user #{self.therapist_id}"

    def get_additional_data(self) -> dict:
        return {"client_id": self.client_id}


class FlagCode(models.TextChoices):
    """R18: conditions the prescriber must review. Shown, carried into the referral; never a
    silent block."""

    HYPERTENSION = "hypertension", "Uncontrolled high blood pressure"
    PSYCHOSIS = "psychosis", "Psychosis, schizophrenia or schizoaffective disorder"
    DISSOCIATIVE = "dissociative", "Dissociative disorder"
    MANIA = "mania", "Mania / bipolar disorder"
    SUICIDAL_IDEATION = "suicidal_ideation", "Active suicidal ideation"
    SUBSTANCE_USE = "substance_use", "Substance use disorder"
    PREGNANCY = "pregnancy", "Pregnancy or breastfeeding"
    GLAUCOMA = "glaucoma", "Glaucoma / raised eye pressure"
    CARDIAC = "cardiac", "Heart disease or arrhythmia"
    LIVER = "liver", "Liver disease"
    BLADDER = "bladder", "Bladder problems (cystitis)"
    HYPERTHYROIDISM = "hyperthyroidism", "Hyperthyroidism"
    ANEURYSM = "aneurysm", "Aneurysm, AVM or brain haemorrhage"
    KETAMINE_ALLERGY = "ketamine_allergy", "Ketamine allergy"


class ClientFlag(models.Model):
    """One R18 flag raised by a submitted intake, with the answers that raised it."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="flags")
    intake = models.ForeignKey("patients.Intake", on_delete=models.PROTECT, related_name="flags")
    code = models.CharField(max_length=32, choices=FlagCode.choices)
    # [{"question": "...", "answer": "..."}] as the client saw and answered them.
    evidence = models.JSONField(default=list)
    raised_at = models.DateTimeField(auto_now_add=True)
    # False once an amended intake has replaced the one that raised it (kept, never deleted).
    is_current = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["intake", "code"], name="client_flag_once_per_intake")
        ]

    def __str__(self) -> str:
        return self.get_code_display()

    def get_additional_data(self) -> dict:
        return {"client_id": self.client_id}
