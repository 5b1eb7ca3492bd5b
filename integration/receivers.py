"""How the integration follow-up hears about doses, sessions, courses (R8) and the outbox (its
checks and mirror, outbox.kinds)."""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from integration import dispatch, services
from integration.models import IntegrationReminder
from outbox import kinds
from outbox.models import MessageKind, OutboxMessage
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


def _still_wanted(messages: list[OutboxMessage]) -> dict[int, str]:
    """Asked by the outbox before a later try of a batch's reminders (a mail outage of hours):
    the course or the sessions may have changed since they were queued. Two queries for the
    batch: the plan rows with what the decision reads, their integration sessions."""
    now = timezone.now()
    reminders = list(
        dispatch.for_deciding().filter(outbox_message__in=[message.pk for message in messages])
    )
    integrations = dispatch.integrations_for(reminders)
    return {
        reminder.outbox_message_id: dispatch.why_not(reminder, now, integrations[reminder.pk])
        for reminder in reminders
    }


for _kind in (MessageKind.INTEGRATION_REMINDER, MessageKind.INTEGRATION_CHECK):
    kinds.register_check(_kind, _still_wanted)
    # The outbox sent, failed or cancelled a reminder's message: the plan row says so too, in
    # the same statement (the reminder pages, the dashboard's counts and the alert read it).
    kinds.register_mirror(_kind, model=IntegrationReminder, link="outbox_message")
