"""How the integration follow-up hears about doses, sessions and courses (R8)."""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver

from integration import services
from patients.models import Phase, TreatmentCourse
from sessions.models import Session, SessionKind, SessionStatus
from sessions.signals import dose_recorded


@receiver(dose_recorded, dispatch_uid="integration.plan_reminders")
def plan_reminders(sender, dose, **kwargs) -> None:
    # In dose_record's transaction: the dose and its reminder plan commit together.
    services.reminder_plan_create(dose=dose)


@receiver(post_save, sender=Session, dispatch_uid="integration.session_saved")
def session_saved(sender, instance: Session, **kwargs) -> None:
    if instance.kind != SessionKind.INTEGRATION or not instance.follows_dose_id:
        return
    if instance.status == SessionStatus.COMPLETED:
        services.reminders_cancel_for_integration(integration=instance)
    if instance.status != SessionStatus.CANCELLED:
        services.alerts_resolve_for_booking(integration=instance)


@receiver(post_save, sender=TreatmentCourse, dispatch_uid="integration.course_saved")
def course_saved(sender, instance: TreatmentCourse, **kwargs) -> None:
    if instance.phase == Phase.DISCONTINUED:
        services.reminders_cancel_for_course(course=instance)
