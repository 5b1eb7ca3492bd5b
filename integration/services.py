"""Writes to the integration follow-up (R7, R8): the reminder plan of a dose, its cancellation,
a staff resend and the acknowledgement of a therapist alert. Queueing is in integration.dispatch,
sending in outbox.dispatch."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clinic import settings_reader
from integration import rules
from integration.models import IntegrationReminder, ReminderKind, ReminderStatus
from kap_clinic.errors import DomainError
from outbox.services import message_id_for, message_resend
from patients.access import can_change_client

if TYPE_CHECKING:
    from accounts.models import User
    from patients.models import TreatmentCourse
    from sessions.models import DoseAdministration, Session


class ReminderError(DomainError):
    """A rule refused the change; the message is for the clinician."""


def reminder_plan_create(*, dose: DoseAdministration) -> list[IntegrationReminder]:
    """R8: the client's reminders on each REMINDER_DAYS day after the dose, at the send hour of
    their own time zone outside the quiet hours, and the therapist's check INTEGRATION_ALERT_HOURS
    after the dose (R8: no integration session booked). Called inside dose_record's transaction
    (sessions.signals.dose_recorded): the dose and its plan are saved together. Idempotent: the
    unique (dose, kind, day) constraint and ignore_conflicts keep a replay from doubling it."""
    session = dose.session
    # A dose is given in a dosing session, and those belong to a course (the check constraint
    # session_kap_kind_has_course).
    assert session.course_id is not None
    client = session.client
    zone = client.zone
    dose_day = dose.given_at.astimezone(zone).date()
    rows = []
    values = settings_reader.current()  # R8: the clinic's reminder days and hours
    for day in values.reminder_days:
        due = rules.due_at(
            dose_day=dose_day,
            day=day,
            zone=zone,
            send_hour=values.reminder_send_hour,
            quiet_start=values.quiet_hours_start,
            quiet_end=values.quiet_hours_end,
        )
        rows.append(
            IntegrationReminder(
                dose=dose,
                client=client,
                course_id=session.course_id,
                kind=ReminderKind.CLIENT,
                day=day,
                due_at=due,
                not_before=due,
                message_id=message_id_for("client-reminder"),
            )
        )
    # In UTC: 24 hours after the dose are 24 real hours across a DST change, not a wall-clock
    # time one day on (which is 23 or 25 hours).
    check = dose.given_at.astimezone(UTC) + timedelta(hours=settings.INTEGRATION_ALERT_HOURS)
    rows.append(
        IntegrationReminder(
            dose=dose,
            client=client,
            course_id=session.course_id,
            kind=ReminderKind.THERAPIST,
            day=0,
            due_at=check,
            not_before=check,
            message_id=message_id_for("therapist-reminder"),
        )
    )
    IntegrationReminder.objects.bulk_create(rows, ignore_conflicts=True)
    return list(IntegrationReminder.objects.filter(dose=dose).order_by("due_at", "id"))


def _cancel(queryset, reason: str) -> int:
    """Cancel what has not gone out yet. A row being sent right now is left to its worker."""
    return queryset.filter(status=ReminderStatus.PENDING).update(
        status=ReminderStatus.CANCELLED, cancelled_reason=reason, updated_at=timezone.now()
    )


def reminders_cancel_for_integration(*, integration: Session) -> int:
    """R8: the integration session for a dose has happened: its remaining reminders stop."""
    if not integration.follows_dose_id:
        return 0
    return _cancel(
        IntegrationReminder.objects.filter(
            dose__session_id=integration.follows_dose_id, kind=ReminderKind.CLIENT
        ),
        "The integration session took place.",
    )


def alerts_resolve_for_booking(*, integration: Session) -> int:
    """R8: once an integration session is booked for the dose, the therapist's check is no
    longer needed, and an open alert about it is closed by the booking."""
    if not integration.follows_dose_id:
        return 0
    rows = IntegrationReminder.objects.filter(
        dose__session_id=integration.follows_dose_id, kind=ReminderKind.THERAPIST
    )
    cancelled = _cancel(rows, "An integration session was booked in time.")
    resolved = rows.filter(variant="alert", acknowledged_at__isnull=True).update(
        acknowledged_at=timezone.now(), acknowledged_by=integration.created_by
    )
    return cancelled + resolved


def reminders_cancel_for_course(*, course: TreatmentCourse) -> int:
    """A discontinued course stops every reminder and check of its doses."""
    return _cancel(
        IntegrationReminder.objects.filter(course=course),
        f"The course was {course.get_phase_display().lower()}.",
    )


def reminder_resend(*, reminder: IntegrationReminder, by: User) -> IntegrationReminder:
    """Staff send a failed reminder again (after fixing the client's e-mail address, say). Only a
    failed one: a sent reminder is never sent twice, and a due or sending one goes out anyway.
    Under a row lock, so a double click or two people at once queue it once; saved with save()
    so the audit trail records who asked (R22)."""
    if not can_change_client(by, reminder.client):
        raise ReminderError("You cannot change this client's reminders.")

    with transaction.atomic():
        locked = (
            IntegrationReminder.objects.select_for_update(of=("self",))
            .select_related("client", "course__therapist", "outbox_message")
            .get(pk=reminder.pk)
        )
        if locked.status != ReminderStatus.FAILED:
            raise ReminderError(
                f"This reminder is {locked.get_status_display().lower()}: only a failed reminder "
                "can be sent again."
            )
        if timezone.now() - locked.due_at > timedelta(hours=settings.REMINDER_STALE_HOURS):
            # The dispatcher would cancel it as stale: say so now instead of promising a send.
            raise ReminderError(
                "Too late to send again: it would arrive on the wrong day. Contact the client "
                "directly instead."
            )
        if locked.outbox_message is None:
            # Failed before the outbox existed: due again, the plan step hands it over.
            locked.status = ReminderStatus.PENDING
            locked.not_before = timezone.now()
        else:
            # The outbox sends it again with the same Message-ID (and queues the dispatcher).
            # To the address on file now: a failed reminder is often a missing or wrong one.
            to = (
                locked.client.email
                if locked.kind == ReminderKind.CLIENT
                else locked.course.therapist.email
            )
            message_resend(message=locked.outbox_message, by=by, to=to)
            locked.status = ReminderStatus.SENDING
        locked.last_error = ""
        locked.save()
    return locked


def alert_acknowledge(*, reminder: IntegrationReminder, by: User) -> IntegrationReminder:
    """The therapist (or an admin) has seen the alert that a dose has no integration session
    booked; who and when are kept."""
    if not can_change_client(by, reminder.client):
        raise ReminderError("You cannot acknowledge this alert.")
    with transaction.atomic():
        locked = IntegrationReminder.objects.select_for_update().get(pk=reminder.pk)
        if locked.kind != ReminderKind.THERAPIST or locked.variant != "alert":
            raise ReminderError("This is not an alert.")
        if locked.acknowledged_at is not None:
            raise ReminderError("This alert was already acknowledged.")
        locked.acknowledged_at = timezone.now()
        locked.acknowledged_by = by
        locked.save()
    return locked
