"""Reads for the admin's audit browser; fixed query counts whatever the size of the trail."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from auditlog.models import LogEntry
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Field, Model, QuerySet

from audit.models import AccessEvent
from kap_clinic import formats

if TYPE_CHECKING:
    from django.contrib.contenttypes.fields import GenericForeignKey
    from django.db.models import ForeignObjectRel


def access_events(
    *, user=None, client=None, date_from: date | None = None, date_to: date | None = None
) -> QuerySet[AccessEvent]:
    events = AccessEvent.objects.select_related("user", "client")
    if user is not None:
        events = events.filter(user=user)
    if client is not None:
        events = events.filter(client=client)
    if date_from:
        events = events.filter(at__gte=formats.day_start(date_from))
    if date_to:
        events = events.filter(at__lt=formats.day_start(date_to + timedelta(days=1)))
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
        entries = entries.filter(timestamp__gte=formats.day_start(date_from))
    if date_to:
        entries = entries.filter(timestamp__lt=formats.day_start(date_to + timedelta(days=1)))
    return entries.order_by("-timestamp", "-id")


# --- Readable changes -------------------------------------------------------------------------

HIDDEN_FIELDS = {"id", "password", "last_login", "phone_digits", "updated_at"}


@dataclass
class ChangeRow:
    label: str
    old: str
    new: str


def describe_changes(entries: list[LogEntry]) -> None:
    """Give each entry ``rows``: what changed, in words. Foreign keys become names with one query
    per related model for the whole page (never one per row); reverse relations, ids and secrets
    are left out; times are shown in the clinic's time zone."""
    pending: list[tuple[LogEntry, list[tuple[str, Field | None, str, str]]]] = []
    wanted: dict[type[Model], set[str]] = defaultdict(set)
    for entry in entries:
        model = entry.content_type.model_class() if entry.content_type_id else None
        fields = []
        for name, change in (entry.changes_dict or {}).items():
            field = _field(model, name)
            if name in HIDDEN_FIELDS or (field is not None and not field.concrete):
                continue
            # Reverse relations and generic foreign keys are never concrete: skipped just above.
            assert field is None or isinstance(field, Field)
            if not isinstance(change, list | tuple) or len(change) != 2:
                continue
            old, new = (str(value) for value in change)
            if field is not None and field.many_to_one:
                related = field.related_model
                # Once the app registry is ready, a foreign key's target is a model class.
                assert isinstance(related, type)
                wanted[related].update(v for v in (old, new) if v != "None")
            fields.append((name, field, old, new))
        pending.append((entry, fields))
    # _default_manager: each model's `objects`, but declared for any model class.
    names = {
        related: {str(obj.pk): str(obj) for obj in related._default_manager.filter(pk__in=ids)}
        for related, ids in wanted.items()
        if ids
    }
    for entry, fields in pending:
        entry.rows = [
            ChangeRow(
                label=str(field.verbose_name).capitalize() if field is not None else name,
                old=_display(field, old, names),
                new=_display(field, new, names),
            )
            for name, field, old, new in fields
        ]


def _field(
    model: type[Model] | None, name: str
) -> Field | ForeignObjectRel | GenericForeignKey | None:
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _display(field: Field | None, value: str, names: dict) -> str:
    if value in ("None", ""):
        return "(empty)"
    if field is None:
        return value
    if field.many_to_one:
        return names.get(field.related_model, {}).get(value, f"#{value} (no longer exists)")
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.BooleanField):
        return {"True": "Yes", "False": "No"}.get(value, value)
    if isinstance(field, models.DateTimeField):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        # auditlog writes datetimes in UTC, without the zone: shown in clinic time like the rest.
        return formats.day_time(formats.clinic_time(moment))
    return value
