"""The audit trail (R22) of rows written in bulk. django-auditlog records a change from the
save() signals, one INSERT (and, for an update, one SELECT of the old row) per row; a bulk_create
or bulk_update sends no signals and would leave no trace. The dispatchers write a batch of rows
at a time, so they record the batch's entries here: the same entries auditlog would have made
(its own diff, object text, additional data, correlation id, and whatever its context adds, such
as the actor), in one INSERT."""

from __future__ import annotations

from collections.abc import Iterable

from auditlog.context import auditlog_disabled
from auditlog.diff import model_instance_diff
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import router
from django.db.models import Model
from django.db.models.signals import pre_save

# (old, new, fields): old None for a row just created; fields: the update_fields a save() would
# have been given (None: every audited field).
Change = tuple[Model | None, Model, Iterable[str] | None]


def entries_record(changes: Iterable[Change]) -> int:
    """Write the log entries of ``changes`` in one INSERT. Returns how many were written (a
    change of only unaudited fields writes none, as with save())."""
    if auditlog_disabled.get():
        return 0
    entries = []
    for old, new, fields in changes:
        entry = _entry(old, new, fields)
        if entry is not None:
            entries.append(entry)
    if not entries:
        return 0
    for entry in entries:
        # What LogEntry.save() would let auditlog's context add (the actor, the remote address).
        pre_save.send(
            sender=LogEntry,
            instance=entry,
            raw=False,
            using=router.db_for_write(LogEntry),
            update_fields=None,
        )
    LogEntry.objects.bulk_create(entries)
    return len(entries)


def _entry(old: Model | None, new: Model, fields: Iterable[str] | None) -> LogEntry | None:
    if not auditlog.contains(type(new)):
        return None
    if old is None:
        _nothing_refers_to(new)
    changes = model_instance_diff(
        old,
        new,
        fields_to_check=fields,
        use_json_for_changes=settings.AUDITLOG_STORE_JSON_CHANGES,
    )
    if not changes:
        return None
    manager = LogEntry.objects
    return LogEntry(
        content_type=ContentType.objects.get_for_model(new),
        object_pk=str(new.pk),
        object_id=new.pk if isinstance(new.pk, int) else None,
        object_repr=str(new),
        serialized_data=manager._get_serialized_data_or_none(new),
        action=LogEntry.Action.CREATE if old is None else LogEntry.Action.UPDATE,
        changes=changes,
        additional_data=new.get_additional_data() if hasattr(new, "get_additional_data") else None,
        cid=_cid(),
    )


def _nothing_refers_to(new: Model) -> None:
    """A row just inserted has no row pointing at it through a one-to-one yet (a message before
    its reminder is linked): say so to the reverse accessors, which auditlog's diff reads, so
    each does not ask the database (one SELECT per row, with the same empty answer)."""
    for relation in new._meta.related_objects:
        if relation.one_to_one:
            relation.set_cached_value(new, None)


def _cid():
    from auditlog.cid import get_cid  # noqa: PLC0415 - auditlog reads its settings on import

    return get_cid()
