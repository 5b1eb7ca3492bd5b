"""Reads for the admin's audit browser; fixed query counts whatever the size of the trail."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from auditlog.models import LogEntry
from django.db.models import QuerySet
from django.utils import timezone

from audit.models import AccessEvent


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def access_events(
    *, user=None, client=None, date_from: date | None = None, date_to: date | None = None
) -> QuerySet[AccessEvent]:
    events = AccessEvent.objects.select_related("user", "client")
    if user is not None:
        events = events.filter(user=user)
    if client is not None:
        events = events.filter(client=client)
    if date_from:
        events = events.filter(at__gte=_day_start(date_from))
    if date_to:
        events = events.filter(at__lt=_day_start(date_to + timedelta(days=1)))
    return events.order_by("-at", "-id")


def change_entries(
    *, user=None, client=None, date_from: date | None = None, date_to: date | None = None
) -> QuerySet[LogEntry]:
    entries = LogEntry.objects.select_related("actor", "content_type")
    if user is not None:
        entries = entries.filter(actor=user)
    if client is not None:
        entries = entries.filter(additional_data__client_id=client.pk)
    if date_from:
        entries = entries.filter(timestamp__gte=_day_start(date_from))
    if date_to:
        entries = entries.filter(timestamp__lt=_day_start(date_to + timedelta(days=1)))
    return entries.order_by("-timestamp", "-id")
