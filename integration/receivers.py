"""How the integration follow-up hears about doses, sessions, courses (R8) and the outbox."""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from integration import dispatch, services
from integration.models import IntegrationReminder, ReminderStatus
from outbox import kinds
from outbox.models import MessageKind, MessageStatus, OutboxMessage
from outbox.signals import message_finished
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


@receiver(message_finished, dispatch_uid="integration.message_finished")
def message_done(sender, message: OutboxMessage, **kwargs) -> None:
    """The outbox sent, failed or cancelled a reminder's message: the plan row says so too, in
    the same transaction (the reminder pages, the dashboard's counts and the alert read it)."""
    if message.kind not in (MessageKind.INTEGRATION_REMINDER, MessageKind.INTEGRATION_CHECK):
        return
    status = {
        MessageStatus.SENT: ReminderStatus.SENT,
        MessageStatus.FAILED: ReminderStatus.FAILED,
        MessageStatus.CANCELLED: ReminderStatus.CANCELLED,
    }[MessageStatus(message.status)]
    IntegrationReminder.objects.filter(outbox_message=message).update(
        status=status,
        sent_at=message.sent_at,
        last_error=message.last_error,
        cancelled_reason=message.cancelled_reason,
        updated_at=timezone.now(),
    )


def _still_wanted(message: OutboxMessage) -> str:
    """Asked by the outbox before each try: the course or the sessions may have changed since the
    reminder was queued (a mail outage of hours)."""
    reminder = (
        IntegrationReminder.objects.select_related("client", "course", "dose")
        .filter(outbox_message=message)
        .first()
    )
    if reminder is None:
        return ""
    return dispatch.why_not(reminder, timezone.now(), dispatch.integrations_of(reminder))


kinds.register_check(MessageKind.INTEGRATION_REMINDER, _still_wanted)
kinds.register_check(MessageKind.INTEGRATION_CHECK, _still_wanted)
