"""What the sessions app hears from the client record (patients, a lower app): a change of what
the appointment reminders of the client's booked sessions depend on (their choice to get
reminders, their e-mail address, their time zone) plans those reminders again, so the next ones
go, or stop, as the record now says."""

from __future__ import annotations

from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django.utils import timezone

from patients.models import Client
from sessions.models import Session, SessionStatus
from sessions.scheduling import reminders

WATCHED = ("reminders_wanted", "email", "time_zone", "archived_at")


@receiver(pre_save, sender=Client, dispatch_uid="sessions.client_before_save")
def client_before_save(sender, instance: Client, update_fields=None, **kwargs) -> None:
    if instance.pk is None or (update_fields is not None and not set(WATCHED) & set(update_fields)):
        instance._reminder_facts = None  # type: ignore[attr-defined]
        return
    instance._reminder_facts = (  # type: ignore[attr-defined]
        Client.objects.filter(pk=instance.pk).values_list(*WATCHED).first()
    )


@receiver(post_save, sender=Client, dispatch_uid="sessions.client_saved")
def client_saved(sender, instance: Client, created: bool, **kwargs) -> None:
    before = getattr(instance, "_reminder_facts", None)
    if created or before is None:
        return
    if before == tuple(getattr(instance, name) for name in WATCHED):
        return
    upcoming = Session.objects.filter(
        client=instance, status=SessionStatus.SCHEDULED, starts_at__gt=timezone.now()
    ).select_related("therapist", "course")
    for session in upcoming:
        session.client = instance
        reminders.reminders_plan(
            session=session,
            replaced="The client's address or time zone changed: a new reminder replaces it.",
        )
