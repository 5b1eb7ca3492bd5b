"""Reads behind the reminder pages (R7, R8): the reminders staff may see, the open therapist alerts
and their count for the navbar. Every read goes through the access policy (visible_clients) and
runs a fixed number of queries whatever the data size."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.utils import timezone

from integration.models import IntegrationReminder, ReminderKind, ReminderStatus
from kap_clinic.listing import KeysetPage, capped_counts, keyset_page
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


# The reminder list's order: the most recently recorded doses first; within a dose the client's
# days in order, then the therapist's check. On the reminder's own columns, so an index serves it
# (ordering by the dose's time joined and sorted every reminder of the clinic before LIMIT 25).
REMINDER_ORDER = ("-dose_id", "kind", "day", "id")
# Open alerts: the longest waiting first.
ALERT_ORDER = ("dose_id", "id")


def reminders_for(
    user: User | AnonymousUser,
    *,
    status: str | None = None,
    course: TreatmentCourse | None = None,
) -> QuerySet[IntegrationReminder]:
    """Reminders ``user`` may see, in REMINDER_ORDER, for a keyset page (kap_clinic.listing).

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
    return reminders.order_by(*REMINDER_ORDER)


def status_counts(user: User | AnonymousUser) -> dict[str, int]:
    """How many reminders ``user`` may see in all and in each status, e.g. {"": 40, "failed": 2,
    ...}, each counted up to kap_clinic.listing.COUNT_CAP (a whole clinic's history holds millions).
    One query."""
    visible = _visible(user)
    return capped_counts(
        {"": visible, **{value: visible.filter(status=value) for value in ReminderStatus.values}}
    )


def reminder_for(user: User | AnonymousUser, *, reminder_id: int) -> IntegrationReminder | None:
    """One reminder ``user`` may see, or None (the view answers 404)."""
    return (
        _visible(user)
        .select_related("client", "course", "outbox_message")
        .filter(pk=reminder_id)
        .first()
    )


def open_alert_rows(user: User) -> QuerySet[IntegrationReminder]:
    """R8: therapist checks that raised an alert (a dose without an integration session booked
    24 h later) and nobody has acknowledged. The alert exists once raised, whatever happened to
    its e-mail. A therapist sees only their own courses' alerts; admins all. A partial index
    (reminder_open_alert_idx) holds exactly these rows, so the navbar's count on every staff page
    reads the open alerts, not every reminder of the clinic."""
    alerts = _visible(user).filter(
        kind=ReminderKind.THERAPIST, variant="alert", acknowledged_at__isnull=True
    )
    if not user.is_admin:
        alerts = alerts.filter(course__therapist=user)
    return alerts


def open_alerts_for(
    user: User, *, after: str | None = None, before: str | None = None, size: int = 10
) -> KeysetPage[IntegrationReminder]:
    """A page of open alerts, the longest waiting (the oldest dose) first, each with
    ``book_start``: the suggested start of the integration session to book (ISO, clinic time).
    One query."""
    page = keyset_page(
        open_alert_rows(user).select_related("client", "course", "course__therapist", "dose"),
        order=ALERT_ORDER,
        after=after,
        before=before,
        size=size,
    )
    now = timezone.now()
    for alert in page.rows:
        start = booking_start(alert.dose.given_at, now=now)
        alert.book_start = start  # type: ignore[attr-defined]  # not a field: for the template
    return page


def open_alert_count(user: User) -> int:
    """For the navbar badge and the alerts heading: one COUNT query on the partial index."""
    return open_alert_rows(user).count()


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
