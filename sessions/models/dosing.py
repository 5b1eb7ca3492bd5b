"""The dosing session chart (R10-R16): preparation (intention, fasting, chaperone, the R20 safety
check), every blood-pressure reading with the thresholds that applied to it, the administration
(locked in the database behind an in-range pre-dose reading from the last 30 minutes, R11), adverse
events, and the return and discharge with the chaperone (R15)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce

from clinic.table import BY_FIELD as CLINIC_SETTINGS

# R10: the hold time's range, as the clinic setting's (clinic/table.py).
HOLD = CLINIC_SETTINGS["dose_hold_minutes"]


class DosingChart(models.Model):
    class Outcome(models.TextChoices):
        OPEN = "open", "In progress"
        DEFERRED = "deferred", "Dose deferred"
        DISCHARGED = "discharged", "Discharged"

    class DeferralReason(models.TextChoices):
        BP_HIGH = "bp_high", "Blood pressure stayed above the defer threshold after rechecks"
        BP_HARD_STOP = "bp_hard_stop", "Blood pressure at or above the hard stop"
        OTHER = "other", "Other reason"

    session = models.OneToOneField(
        "clinic_sessions.Session", on_delete=models.PROTECT, related_name="dosing_chart"
    )
    # The prescription in force when the chart was opened (R3), shown on the chart. The dose is
    # checked and counted against the prescription in force when it is given (a renewal on the
    # day wins), see dosing_services.dose_record.
    prescription = models.ForeignKey(
        "patients.Prescription", on_delete=models.PROTECT, related_name="+"
    )
    # Phase 1: preparation (R10).
    check_in = models.TextField("check-in", blank=True, max_length=4000)
    intention = models.TextField(blank=True, max_length=4000)
    fasting_confirmed = models.BooleanField(default=False)
    chaperone_confirmed = models.BooleanField("chaperone arranged", default=False)
    # R20: the latest PHQ-9's item 9 shown and acknowledged before dosing.
    safety_alert_acknowledged_at = models.DateTimeField(null=True, blank=True)
    safety_alert_acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    preparation_done_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.OPEN)
    deferred_at = models.DateTimeField(null=True, blank=True)
    deferral_reason = models.CharField(max_length=16, choices=DeferralReason.choices, blank=True)
    deferral_note = models.TextField(blank=True, max_length=2000)
    # Phase 3: return and discharge (R10, R15).
    return_notes = models.TextField("return and processing", blank=True, max_length=4000)
    chaperone_name = models.CharField(max_length=150, blank=True)
    chaperone_phone = models.CharField(max_length=32, blank=True)
    # R15: when the chaperone is expected (typed with the return notes, optional), and when they
    # actually arrived, asked at discharge: the client is discharged into the care of a
    # chaperone who is present, so never before ``pickup_at`` (sessions.dosing.rules). Charts
    # discharged before migration 0005 hold the time typed with the return notes in both.
    pickup_expected_at = models.DateTimeField("expected pickup time", null=True, blank=True)
    pickup_at = models.DateTimeField("pickup time (the chaperone arrived)", null=True, blank=True)
    discharged_at = models.DateTimeField(null=True, blank=True)
    discharged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # R15: never discharged without a chaperone on record.
            models.CheckConstraint(
                condition=Q(discharged_at__isnull=True)
                | (~Q(chaperone_name="") & Q(pickup_at__isnull=False)),
                name="dosing_discharge_needs_chaperone",
                violation_error_message="Record the chaperone before discharge.",
            ),
            models.CheckConstraint(
                condition=~Q(outcome="deferred")
                | (Q(deferred_at__isnull=False) & ~Q(deferral_reason="")),
                name="dosing_deferral_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(outcome="discharged") | Q(discharged_at__isnull=False),
                name="dosing_discharged_has_time",
            ),
        ]
        indexes = [
            # R10, R15: the charts left open after the dose (the dashboard's "discharge not
            # recorded" alert): a handful of rows, found without reading every chart.
            models.Index(
                fields=["session"],
                name="dosingchart_undischarged_idx",
                condition=Q(outcome="open", discharged_at__isnull=True),
            ),
            # R6, R12: deferrals by time (the dashboard's figures and its "deferred in the last
            # 30 days" alert).
            models.Index(
                fields=["deferred_at"],
                name="dosingchart_deferred_idx",
                condition=Q(outcome="deferred"),
            ),
        ]

    def __str__(self) -> str:
        return f"Dosing chart for session #{self.session_id}"

    def get_additional_data(self) -> dict:
        return {"client_id": self.session.client_id}


class BloodPressureReading(models.Model):
    """One reading. Every reading is kept (R12), with the thresholds in force when it was taken so
    a later change of the clinic's settings does not rewrite history."""

    class Moment(models.TextChoices):
        PRE_DOSE = "pre_dose", "Before the dose"
        POST_DOSE = "post_dose", "After the dose"
        DISCHARGE = "discharge", "Before discharge"

    class Result(models.TextChoices):
        IN_RANGE = "in_range", "In range"
        HIGH = "high", "At or above the defer threshold"
        HARD_STOP = "hard_stop", "At or above the hard stop"

    session = models.ForeignKey(
        "clinic_sessions.Session", on_delete=models.PROTECT, related_name="bp_readings"
    )
    moment = models.CharField(max_length=16, choices=Moment.choices)
    systolic = models.PositiveSmallIntegerField()
    diastolic = models.PositiveSmallIntegerField()
    pulse = models.PositiveSmallIntegerField(null=True, blank=True)
    taken_at = models.DateTimeField()
    result = models.CharField(max_length=16, choices=Result.choices)
    # R12, R13: the thresholds that applied to this reading.
    defer_systolic = models.PositiveSmallIntegerField()
    defer_diastolic = models.PositiveSmallIntegerField()
    hard_stop_systolic = models.PositiveSmallIntegerField()
    hard_stop_diastolic = models.PositiveSmallIntegerField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["taken_at", "id"]
        constraints = [
            # R16: physiological limits (data entry, not clinical).
            models.CheckConstraint(
                condition=Q(systolic__gte=60, systolic__lte=260),
                name="bp_systolic_60_260",
                violation_error_message="Systolic must be between 60 and 260 mmHg.",
            ),
            models.CheckConstraint(
                condition=Q(diastolic__gte=30, diastolic__lte=160),
                name="bp_diastolic_30_160",
                violation_error_message="Diastolic must be between 30 and 160 mmHg.",
            ),
            models.CheckConstraint(
                condition=Q(pulse__isnull=True) | Q(pulse__gte=30, pulse__lte=220),
                name="bp_pulse_30_220",
                violation_error_message="Pulse must be between 30 and 220 beats per minute.",
            ),
            models.CheckConstraint(
                condition=Q(diastolic__lt=F("systolic")),
                name="bp_diastolic_below_systolic",
                violation_error_message="Diastolic must be lower than systolic.",
            ),
            # The stored result agrees with the stored thresholds (R12, R13).
            models.CheckConstraint(
                condition=(
                    Q(result="hard_stop")
                    & (
                        Q(systolic__gte=F("hard_stop_systolic"))
                        | Q(diastolic__gte=F("hard_stop_diastolic"))
                    )
                )
                | (
                    Q(result="high")
                    & Q(systolic__lt=F("hard_stop_systolic"))
                    & Q(diastolic__lt=F("hard_stop_diastolic"))
                    & (
                        Q(systolic__gte=F("defer_systolic"))
                        | Q(diastolic__gte=F("defer_diastolic"))
                    )
                )
                | (
                    Q(result="in_range")
                    & Q(systolic__lt=F("defer_systolic"))
                    & Q(diastolic__lt=F("defer_diastolic"))
                ),
                name="bp_result_matches_thresholds",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.systolic}/{self.diastolic}"

    def get_additional_data(self) -> dict:
        return {"client_id": self.session.client_id}


class DoseAdministrationQuerySet(models.QuerySet["DoseAdministration"]):
    def counted_against(self, prescription) -> DoseAdministrationQuerySet:
        """R5: the doses that use up ``prescription``'s authorised count, whatever the course:
        those given under it and under every prescription of the same authorisation (a change
        does not restart the count; an approval or a renewal does)."""
        start = prescription.authorisation_id_or_own
        # The authorisation's prescriptions first (two index reads), then their doses through the
        # prescription index: the same rows as "prescription = start OR its authorisation =
        # start", which PostgreSQL could only answer by joining and scanning every dose.
        prescriptions = self.model.prescription.field.related_model.objects.filter(
            Q(pk=start) | Q(authorisation_id=start)
        )
        return self.filter(prescription__in=prescriptions)

    def under_authorisation_in(self, prescriptions) -> DoseAdministrationQuerySet:
        """The doses counted against any of ``prescriptions`` (a queryset), in one query: for
        the dashboard's per-course count against the prescription in force."""
        starts = prescriptions.annotate(start=Coalesce("authorisation_id", "id")).values("start")
        return self.annotate(
            counted_under=Coalesce("prescription__authorisation_id", "prescription_id")
        ).filter(counted_under__in=starts)


class DoseAdministration(models.Model):
    """R10: the client self-administers their own prescribed tablets. One per dosing session; it
    counts against its prescription (R5). On PostgreSQL a trigger refuses a row whose pre-dose
    reading is not in range, not of this session, or older than 30 minutes (R11)."""

    session = models.OneToOneField(
        "clinic_sessions.Session", on_delete=models.PROTECT, related_name="dose"
    )
    prescription = models.ForeignKey(
        "patients.Prescription", on_delete=models.PROTECT, related_name="doses"
    )
    pre_dose_reading = models.OneToOneField(
        BloodPressureReading, on_delete=models.PROTECT, related_name="+"
    )
    given_at = models.DateTimeField("time given")
    dose_mg = models.PositiveSmallIntegerField("dose (mg)")
    tablets = models.PositiveSmallIntegerField("number of tablets")
    # Why the dose differs from the prescription, when it does.
    mismatch_reason = models.TextField(blank=True, max_length=2000)
    hold_minutes = models.PositiveSmallIntegerField("planned hold (minutes)", default=15)
    spat_at = models.DateTimeField("time spat out", null=True, blank=True)
    swallowed = models.BooleanField("some was swallowed", null=True, blank=True)
    eye_mask = models.BooleanField(default=False)
    music = models.BooleanField(default=False)
    setting_notes = models.TextField("set and setting", blank=True, max_length=2000)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = DoseAdministrationQuerySet.as_manager()

    class Meta:
        ordering = ["given_at", "id"]
        # The dashboards count the doses of a period across the clinic.
        indexes = [models.Index(fields=["given_at"], name="dose_given_at_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(hold_minutes__gte=HOLD.low, hold_minutes__lte=HOLD.high),
                name="dose_hold_5_to_20_minutes",
                violation_error_message="The hold time must be between 5 and 20 minutes.",
            ),
            models.CheckConstraint(
                condition=Q(dose_mg__gte=1) & Q(tablets__gte=1), name="dose_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(spat_at__isnull=True) | Q(spat_at__gte=F("given_at")),
                name="dose_spat_after_given",
                violation_error_message="The time spat out must be after the time given.",
            ),
        ]

    def __str__(self) -> str:
        return f"Dose #{self.pk}: {self.dose_mg} mg"

    def get_additional_data(self) -> dict:
        return {"client_id": self.session.client_id}


class AdverseEvent(models.Model):
    class Kind(models.TextChoices):
        NAUSEA = "nausea", "Nausea"
        VOMITING = "vomiting", "Vomiting"
        DIZZINESS = "dizziness", "Dizziness"
        ANXIETY = "anxiety", "Anxiety or agitation"
        ELEVATED_BP = "elevated_bp", "Elevated blood pressure"
        OTHER = "other", "Other"

    class Severity(models.TextChoices):
        MILD = "mild", "Mild"
        MODERATE = "moderate", "Moderate"
        SEVERE = "severe", "Severe"

    session = models.ForeignKey(
        "clinic_sessions.Session", on_delete=models.PROTECT, related_name="adverse_events"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    severity = models.CharField(max_length=16, choices=Severity.choices)
    noticed_at = models.DateTimeField()
    description = models.TextField(blank=True, max_length=2000)
    rescue_medication = models.CharField("rescue medication given", max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["noticed_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="other") | ~Q(description=""),
                name="adverse_event_other_described",
                violation_error_message="Describe an adverse event of kind 'other'.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_severity_display().lower()})"

    def get_additional_data(self) -> dict:
        return {"client_id": self.session.client_id}


class PrescriberNotice(models.Model):
    """A to-do for the therapist: tell the prescriber (R13: a hard-stop reading deferred a dose).
    Done with who, when and how."""

    session = models.ForeignKey(
        "clinic_sessions.Session", on_delete=models.PROTECT, related_name="prescriber_notices"
    )
    reason = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    done_note = models.CharField("how the prescriber was told", max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(done_at__isnull=True) | Q(done_by__isnull=False),
                name="prescriber_notice_done_by_someone",
            ),
        ]

    def __str__(self) -> str:
        return f"Prescriber notice #{self.pk}"

    def get_additional_data(self) -> dict:
        return {"client_id": self.session.client_id}
