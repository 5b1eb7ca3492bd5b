"""The clinic's own settings (DOMAIN.md: every number is a default the admin may change within its
allowed range). One row; a NULL field means "use the server configuration" (the environment)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from clinic.table import DAY_LISTS, RANGED, REMINDER_DAYS_PATTERN, ClinicSetting


def _days_check(row: ClinicSetting) -> models.CheckConstraint:
    """A list of days, as the settings page saves it ("1,2,3")."""
    name = row.field
    condition = Q(**{f"{name}__isnull": True}) | Q(**{f"{name}__regex": REMINDER_DAYS_PATTERN})
    # The name the first list's constraint has had since migration 0001.
    label = "reminder_days_list" if name == "reminder_days" else f"{name}_list"
    return models.CheckConstraint(condition=condition, name=f"clinicsettings_{label}")


def _range_check(row: ClinicSetting) -> models.CheckConstraint:
    """The range kap_clinic/settings.py enforces on the environment value, so an override can
    never be something the server would refuse."""
    name = row.field
    return models.CheckConstraint(
        condition=Q(**{f"{name}__isnull": True})
        | Q(**{f"{name}__gte": row.low, f"{name}__lte": row.high}),
        name=f"clinicsettings_{name}_range",
    )


class ClinicSettings(models.Model):
    prep_sessions_required = models.PositiveSmallIntegerField(
        "Preparation sessions before the first dose", null=True, blank=True
    )
    session_minutes = models.PositiveSmallIntegerField(
        "Default session length (minutes)", null=True, blank=True
    )
    dosing_session_minutes = models.PositiveSmallIntegerField(
        "Dosing session length (minutes)", null=True, blank=True
    )
    bp_defer_systolic = models.PositiveSmallIntegerField(
        "Defer at systolic (mmHg) or above", null=True, blank=True
    )
    bp_defer_diastolic = models.PositiveSmallIntegerField(
        "Defer at diastolic (mmHg) or above", null=True, blank=True
    )
    bp_hard_stop_systolic = models.PositiveSmallIntegerField(
        "Hard stop at systolic (mmHg) or above", null=True, blank=True
    )
    bp_hard_stop_diastolic = models.PositiveSmallIntegerField(
        "Hard stop at diastolic (mmHg) or above", null=True, blank=True
    )
    bp_recheck_wait_minutes = models.PositiveSmallIntegerField(
        "Rest before a recheck (minutes)", null=True, blank=True
    )
    bp_rechecks = models.PositiveSmallIntegerField("Rechecks allowed", null=True, blank=True)
    post_dose_vitals_minutes = models.PositiveSmallIntegerField(
        "Post-dose vitals after (minutes)", null=True, blank=True
    )
    min_observation_minutes = models.PositiveSmallIntegerField(
        "Minimum observation after the dose (minutes)", null=True, blank=True
    )
    dose_hold_minutes = models.PositiveSmallIntegerField(
        "Default hold time (minutes)", null=True, blank=True
    )
    # NULL, not "", means "use the server configuration", like every other field here.
    reminder_days = models.CharField(  # noqa: DJ001
        "Reminder days after the dose", max_length=20, null=True, blank=True
    )
    appointment_reminders = models.BooleanField("Send appointment reminders", null=True, blank=True)
    appointment_reminder_days = models.CharField(  # noqa: DJ001
        "Appointment reminder days before the session", max_length=20, null=True, blank=True
    )
    reminder_send_hour = models.PositiveSmallIntegerField(
        "Reminder send hour", null=True, blank=True
    )
    quiet_hours_start = models.PositiveSmallIntegerField("Quiet hours start", null=True, blank=True)
    quiet_hours_end = models.PositiveSmallIntegerField("Quiet hours end", null=True, blank=True)
    calendar_feed_shows_kind = models.BooleanField(
        "Calendar feeds show the session kind", null=True, blank=True
    )
    reminder_signature = models.CharField(  # noqa: DJ001
        "Reminder e-mail signature", max_length=200, null=True, blank=True
    )
    clinic_phone = models.CharField(  # noqa: DJ001
        "Clinic phone for clients", max_length=40, null=True, blank=True
    )
    reply_to_email = models.EmailField(  # noqa: DJ001
        "Address replies go to", max_length=254, null=True, blank=True
    )
    self_booking_url = models.URLField(  # noqa: DJ001
        "Online booking page", max_length=500, null=True, blank=True
    )
    dosing_day_checklist = models.TextField(  # noqa: DJ001
        "Dosing-day checklist for the client", max_length=2000, null=True, blank=True
    )
    idle_timeout_minutes = models.PositiveSmallIntegerField(
        "Automatic sign-out after idle (minutes)", null=True, blank=True
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "clinic settings"
        verbose_name_plural = "clinic settings"
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="clinicsettings_singleton"),
            *(_range_check(row) for row in RANGED),
            # R13 above R12 (the ranges already make this so; said explicitly for the database).
            models.CheckConstraint(
                condition=Q(bp_hard_stop_systolic__isnull=True)
                | Q(bp_defer_systolic__isnull=True)
                | Q(bp_hard_stop_systolic__gt=models.F("bp_defer_systolic")),
                name="clinicsettings_hard_stop_systolic_above_defer",
            ),
            models.CheckConstraint(
                condition=Q(bp_hard_stop_diastolic__isnull=True)
                | Q(bp_defer_diastolic__isnull=True)
                | Q(bp_hard_stop_diastolic__gt=models.F("bp_defer_diastolic")),
                name="clinicsettings_hard_stop_diastolic_above_defer",
            ),
            *(_days_check(row) for row in DAY_LISTS),
        ]

    def __str__(self) -> str:
        return "Clinic settings"
