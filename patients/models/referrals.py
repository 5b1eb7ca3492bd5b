"""The hand-off to the external prescriber (R3, R4): who prescribes, the referral and its history,
and the prescription the clinic records from the prescriber's decision. The therapist never
prescribes (R21); the app records what the prescriber decided."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q


class Prescriber(models.Model):
    """A KAP prescribing service, psychiatrist or psychiatric nurse practitioner. Never deleted
    (R24): made inactive when the clinic stops referring to them."""

    organisation = models.CharField(max_length=200, blank=True)
    clinician_name = models.CharField(max_length=200)
    credentials = models.CharField(max_length=100, blank=True, help_text="e.g. MD, PMHNP")
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True)
    fax = models.CharField(max_length=32, blank=True)
    notes = models.TextField(blank=True, max_length=2000)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organisation", "clinician_name", "id"]

    def __str__(self) -> str:
        name = (
            f"{self.clinician_name}, {self.credentials}"
            if self.credentials
            else self.clinician_name
        )
        return f"{name} ({self.organisation})" if self.organisation else name


class Referral(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SENT = "sent", "Sent"
        UNDER_REVIEW = "under_review", "Under review"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn"

    client = models.ForeignKey(
        "patients.Client", on_delete=models.PROTECT, related_name="referrals"
    )
    prescriber = models.ForeignKey(Prescriber, on_delete=models.PROTECT, related_name="referrals")
    referred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField("reason for referral", max_length=4000)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    # The latest transition's date and reason, kept on the row for lists; the full history is
    # ReferralTransition.
    status_date = models.DateField(null=True, blank=True)
    status_reason = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "draft",
                        "sent",
                        "under_review",
                        "approved",
                        "declined",
                        "withdrawn",
                    ]
                ),
                name="referral_status_valid",
            ),
            # One referral in flight per client at a time.
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(status__in=["draft", "sent", "under_review"]),
                name="referral_one_open_per_client",
                violation_error_message="This client already has a referral in progress.",
            ),
        ]

    def __str__(self) -> str:
        return f"Referral #{self.pk} ({self.get_status_display()})"

    def get_additional_data(self) -> dict:
        return {"client_id": self.client_id}


class ReferralTransition(models.Model):
    """One step of a referral's history: from, to, why, on which date, recorded by whom."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="transitions")
    from_status = models.CharField(max_length=16, choices=Referral.Status.choices)
    to_status = models.CharField(max_length=16, choices=Referral.Status.choices)
    happened_on = models.DateField()
    reason = models.TextField(blank=True, max_length=2000)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["recorded_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"

    def get_additional_data(self) -> dict:
        return {"client_id": self.referral.client_id}


class PrescriptionQuerySet(models.QuerySet["Prescription"]):
    def in_force(self, *, on: date | None = None) -> PrescriptionQuerySet:
        """R3/R4: the prescriptions not superseded by a renewal or a new referral (at most one per
        client, a constraint below); with ``on``, only those still valid on that date."""
        in_force = self.filter(superseded_at__isnull=True)
        return in_force if on is None else in_force.filter(valid_until__gte=on)


class Prescription(models.Model):
    """R4: what the prescriber authorised. Never edited once a dose has used it; a renewal or a
    change is a new prescription that supersedes this one.

    R5 counts doses against an authorisation: the prescriber's approval, or a renewal (the
    prescriber's new authorisation of a new number of doses), starts one; a change (a corrected
    dose, tablets, or valid-until under the same authorisation) continues the one it replaces, so
    the doses already given still count. ``authorisation`` is that first prescription; empty on
    the one that starts it."""

    class Kind(models.TextChoices):
        APPROVAL = "approval", "Approved with the referral"
        RENEWAL = "renewal", "Renewal (a new authorisation from the prescriber)"
        CHANGE = "change", "Change to the current prescription"

    class Form(models.TextChoices):
        RDT = "rdt", "Rapid-dissolving tablet (RDT)"
        TROCHE = "troche", "Troche / lozenge"
        OTHER = "other", "Other"

    class Route(models.TextChoices):
        """R4: the routes a prescriber may use. Only the office routes (OFFICE_ROUTES: a tablet or
        lozenge the client self-administers by mouth) can be charted at a dosing session; IM, IV
        and intranasal ketamine are given by the prescriber's own service."""

        SUBLINGUAL = "sublingual", "Sublingual"
        BUCCAL = "buccal", "Buccal"
        ORAL = "oral", "Oral (swallowed)"
        INTRAMUSCULAR = "intramuscular", "Intramuscular (IM)"
        INTRAVENOUS = "intravenous", "Intravenous (IV)"
        INTRANASAL = "intranasal", "Intranasal"

    client = models.ForeignKey(
        "patients.Client", on_delete=models.PROTECT, related_name="prescriptions"
    )
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="prescriptions")
    prescriber = models.ForeignKey(Prescriber, on_delete=models.PROTECT, related_name="+")
    medication = models.CharField(max_length=100, default="Ketamine")
    form = models.CharField(max_length=16, choices=Form.choices, default=Form.RDT)
    route = models.CharField(
        max_length=16,
        choices=Route.choices,
        default=Route.SUBLINGUAL,
        help_text="Sublingual: held under the tongue. Buccal: held between the cheek and the gum. "
        "Oral: swallowed. The dosing chart records only these three, which the client "
        "self-administers; IM, IV and intranasal doses are given by the prescriber.",
    )
    dose_mg = models.PositiveSmallIntegerField(
        "dose per session (mg)", validators=[MinValueValidator(1), MaxValueValidator(2000)]
    )
    tablets_per_dose = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    doses_authorised = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    min_days_between_doses = models.PositiveSmallIntegerField(
        "minimum days between doses",
        default=14,
        validators=[MinValueValidator(3), MaxValueValidator(28)],
    )
    valid_until = models.DateField()
    received_on = models.DateField("date received")
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )
    superseded_at = models.DateTimeField(null=True, blank=True)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.APPROVAL)
    authorisation = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="changes"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PrescriptionQuerySet.as_manager()

    class Meta:
        ordering = ["-received_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_days_between_doses__gte=3, min_days_between_doses__lte=28),
                name="prescription_interval_3_to_28_days",
                violation_error_message="The minimum interval must be between 3 and 28 days (R6).",
            ),
            models.CheckConstraint(
                condition=Q(doses_authorised__gte=1), name="prescription_at_least_one_dose"
            ),
            models.CheckConstraint(condition=Q(dose_mg__gte=1), name="prescription_dose_positive"),
            models.CheckConstraint(
                condition=Q(tablets_per_dose__gte=1), name="prescription_tablets_positive"
            ),
            models.CheckConstraint(
                condition=Q(valid_until__gte=models.F("received_on")),
                name="prescription_valid_after_received",
                violation_error_message="'Valid until' must be on or after the date received.",
            ),
            models.CheckConstraint(
                condition=Q(
                    route__in=[
                        "sublingual",
                        "buccal",
                        "oral",
                        "intramuscular",
                        "intravenous",
                        "intranasal",
                    ]
                ),
                name="prescription_route_valid",
            ),
            # Only one prescription in force per client.
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(superseded_at__isnull=True),
                name="prescription_one_current_per_client",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.medication} {self.dose_mg} mg × {self.doses_authorised}"

    @property
    def authorisation_id_or_own(self) -> int:
        """The prescription that started this one's authorisation (R5): itself, unless a change."""
        return self.authorisation_id or self.pk

    @property
    def charted_in_office(self) -> bool:
        """R4: whether a dose of this prescription can be recorded on the dosing chart."""
        return self.route in OFFICE_ROUTES

    def get_additional_data(self) -> dict:
        return {"client_id": self.client_id}


# R4, R10: the routes of a dose the client self-administers at an office dosing session, the only
# ones the dosing chart records.
OFFICE_ROUTES = frozenset(
    {Prescription.Route.SUBLINGUAL, Prescription.Route.BUCCAL, Prescription.Route.ORAL}
)
