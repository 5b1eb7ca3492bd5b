"""Reads behind the reminder pages (R7, R8): the reminders staff may see, the open therapist alerts
and their count for the navbar. Every read goes through the access policy (visible_clients) and
runs a fixed number of queries whatever the data size."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import BooleanField, Count, ExpressionWrapper, Q, QuerySet
from django.utils import timezone

from integration.models import IntegrationReminder, ReminderKind, ReminderStatus
from patients.access import visible_rows

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from accounts.models import User
    from patients.models import TreatmentCourse

# Where "Book the integration session" starts the form: the clinic's usual morning slot.
BOOKING_HOUR = 10


def _visible(user: User | AnonymousUser) -> QuerySet[IntegrationReminder]:
    """Reminders of clients ``user`` may see: admins all, therapists their caseload (shares
    included); nothing for clients or anyone else."""
    if not user.is_authenticated or not user.is_active or not user.is_clinic_staff:
        return IntegrationReminder.objects.none()
    return visible_rows(user, IntegrationReminder.objects.all())


def reminders_for(
    user: User | AnonymousUser,
    *,
    status: str | None = None,
    course: TreatmentCourse | None = None,
) -> QuerySet[IntegrationReminder]:
    """Reminders ``user`` may see, newest dose first; within a dose the client's days in order,
    then the therapist's check. One query (two when paginated: the count).

    ``in_time``: whether a reminder sent now would still arrive on its day. The dispatcher
    cancels one later than REMINDER_STALE_HOURS after its due time (R8: a "day 1" reminder on
    day 2 would be wrong), so the page offers "Send again" only while it is in time."""
    cutoff = timezone.now() - timedelta(hours=settings.REMINDER_STALE_HOURS)
    reminders = (
        _visible(user)
        .select_related(
            "client", "course", "course__therapist", "dose", "acknowledged_by", "outbox_message"
        )
        .annotate(in_time=ExpressionWrapper(Q(due_at__gte=cutoff), output_field=BooleanField()))
    )
    if status:
        reminders = reminders.filter(status=status)
    if course is not None:
        reminders = reminders.filter(course=course)
    return reminders.order_by("-dose__given_at", "-dose_id", "kind", "day", "id")


def status_counts(user: User | AnonymousUser) -> dict[str, int]:
    """How many reminders ``user`` may see in each status, e.g. {"failed": 2, ...}. One query."""
    counts = _visible(user).aggregate(
        **{value: Count("id", filter=Q(status=value)) for value in ReminderStatus.values}
    )
    return {value: counts[value] or 0 for value in ReminderStatus.values}


def reminder_for(user: User | AnonymousUser, *, reminder_id: int) -> IntegrationReminder | None:
    """One reminder ``user`` may see, or None (the view answers 404)."""
    return (
        _visible(user)
        .select_related("client", "course", "outbox_message")
        .filter(pk=reminder_id)
        .first()
    )


def _open_alerts(user: User) -> QuerySet[IntegrationReminder]:
    """R8: therapist checks that raised an alert (a dose without an integration session booked
    24 h later) and nobody has acknowledged. The alert exists once raised, whatever happened to
    its e-mail. A therapist sees only their own courses' alerts; admins all."""
    alerts = _visible(user).filter(
        kind=ReminderKind.THERAPIST, variant="alert", acknowledged_at__isnull=True
    )
    if not user.is_admin:
        alerts = alerts.filter(course__therapist=user)
    return alerts


def open_alerts_for(user: User) -> list[IntegrationReminder]:
    """Open alerts, oldest dose first (the longest waiting on top), each with ``book_start``: the
    suggested start of the integration session to book (ISO, clinic time). One query."""
    alerts = list(
        _open_alerts(user)
        .select_related("client", "course", "course__therapist", "dose")
        .order_by("dose__given_at", "id")
    )
    now = timezone.now()
    for alert in alerts:
        start = booking_start(alert.dose.given_at, now=now)
        alert.book_start = start  # type: ignore[attr-defined]  # not a field: for the template
    return alerts


def open_alert_count(user: User) -> int:
    """For the navbar badge: one COUNT query."""
    return _open_alerts(user).count()


def booking_start(given_at: datetime, *, now: datetime) -> str:
    """R7: integration ideally 1-3 days after the dose. The first of those days whose morning
    slot is still ahead, or tomorrow morning once the window has passed; clinic time, ISO
    minutes (the booking form's ``?start=``)."""
    dose_day = timezone.localdate(given_at)
    for offset in (1, 2, 3):
        slot = timezone.make_aware(
            datetime.combine(dose_day + timedelta(days=offset), time(BOOKING_HOUR))
        )
        if slot > now:
            return slot.strftime("%Y-%m-%dT%H:%M")
    tomorrow = timezone.localdate(now) + timedelta(days=1)
    return f"{tomorrow.isoformat()}T{BOOKING_HOUR:02d}:00"
