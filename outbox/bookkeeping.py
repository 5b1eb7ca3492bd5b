"""The dispatcher's bookkeeping on the outbox rows (outbox.dispatch): the claim, the lease's
renewal, each outcome (with the queueing app's mirror row, outbox.kinds, in the same statement),
the release of what a batch did not get to. Every step is one short statement or transaction,
run again once on a new connection if the database connection dropped under it."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Field, Model, Q
from django.utils import timezone

from outbox import kinds
from outbox.models import MessageStatus, OutboxMessage
from outbox.signals import message_finished

logger = logging.getLogger(__name__)

FINAL = (MessageStatus.SENT, MessageStatus.FAILED, MessageStatus.CANCELLED)


def with_reconnect(step: Callable[[], object]):
    """Run one bookkeeping step; if the database connection was dropped under it (a restart, a
    failover, pg_terminate_backend), open a new one and run it once more. Without this the
    "sent" UPDATE of a message already accepted fails, and the message goes out again."""
    try:
        return step()
    except (OperationalError, InterfaceError):
        if connection.in_atomic_block:
            raise
        logger.warning("outbox: database connection lost; reconnecting")
        connection.close()
        return step()


def due_rows(now: datetime):
    lease = timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    # A few seconds ahead: the beat's minute ticks jitter, and a retry due at tick + 0.3 s would
    # otherwise wait a whole extra minute.
    now = now + timedelta(seconds=settings.OUTBOX_CLAIM_AHEAD_SECONDS)
    # Due by the dispatcher's "now" (the demo command's fast-forward passes a later one); the
    # lease by the real clock, so a fast-forward never takes over a row being sent right now.
    return OutboxMessage.objects.filter(
        Q(status=MessageStatus.PENDING, not_before__lte=now)
        | Q(status=MessageStatus.SENDING, claimed_at__lt=timezone.now() - lease)
    )


def claim(*, now: datetime, limit: int) -> tuple[str, list[int]]:
    """Claim up to ``limit`` due rows for this call. Returns (claim token, ids in send order)."""
    token, messages = claim_rows(now=now, limit=limit)
    return token, [message.pk for message in messages]


def claim_rows(*, now: datetime, limit: int) -> tuple[str, list[OutboxMessage]]:
    """Claim up to ``limit`` due rows and load them, in two statements whatever the batch's size:
    the locking SELECT reads the whole rows, the UPDATE marks them, and the loaded rows are
    brought to what the UPDATE wrote. Returns (claim token, rows in send order)."""
    token = uuid.uuid4().hex

    def step() -> list[OutboxMessage]:
        with transaction.atomic():
            due = due_rows(now).order_by("not_before", "id")
            if connection.features.has_select_for_update_skip_locked:
                due = due.select_for_update(skip_locked=True)
            rows = list(due[:limit])
            if not rows:
                return []
            claimed_at = timezone.now()
            taken = (
                due_rows(now)
                .filter(id__in=[row.pk for row in rows])
                .update(
                    status=MessageStatus.SENDING,
                    claim_token=token,
                    claimed_at=claimed_at,
                    attempts=F("attempts") + 1,
                    updated_at=claimed_at,
                )
            )
            if taken < len(rows):
                # No row locks (SQLite): another dispatcher took some of them in between.
                ours = set(
                    OutboxMessage.objects.filter(
                        claim_token=token, status=MessageStatus.SENDING
                    ).values_list("id", flat=True)
                )
                rows = [row for row in rows if row.pk in ours]
        for row in rows:
            row.status, row.claim_token, row.claimed_at = MessageStatus.SENDING, token, claimed_at
            row.attempts += 1
            row.updated_at = claimed_at
        return rows

    return token, with_reconnect(step)


def record_outcome(message: OutboxMessage, token: str, **fields) -> bool:
    """Record the outcome, only if this call still holds the claim: one statement. A final
    outcome reaches the app that queued the message in the same statement (its mirror row,
    outbox.kinds) or in the same transaction (outbox.signals, with the loaded row brought up to
    date, not read again)."""
    fields["updated_at"] = timezone.now()
    final = fields.get("status") in FINAL
    mirror = kinds.mirror_of(message.kind) if final else None
    ours = OutboxMessage.objects.filter(
        pk=message.pk, claim_token=token, status=MessageStatus.SENDING
    )

    def step() -> bool:
        if mirror is not None and connection.vendor == "postgresql":
            done = _update_with_mirror(message, token, fields, mirror)
        elif not final:
            done = ours.update(**fields)
        else:
            with transaction.atomic():
                done = ours.update(**fields)
                if done:
                    _apply(message, fields)
                    _tell(message, mirror)
        if done:
            _apply(message, fields)
        return bool(done)

    return with_reconnect(step)


def _apply(message: OutboxMessage, fields: dict) -> None:
    for name, value in fields.items():
        setattr(message, name, value)


def _tell(message: OutboxMessage, mirror: kinds.Mirror | None) -> None:
    """The app that queued the message hears of its final outcome, in the transaction that
    records it: by its mirror row, or by the signal."""
    if mirror is None:
        message_finished.send(sender=OutboxMessage, message=message)
        return
    mirror.model._default_manager.filter(**{mirror.link: message.pk}).update(
        **{name: getattr(message, name) for name in kinds.MIRRORED}
    )


def _update_with_mirror(
    message: OutboxMessage, token: str, fields: dict, mirror: kinds.Mirror
) -> int:
    """The outcome and its mirror's copy in one statement, in autocommit (PostgreSQL: an UPDATE
    in a WITH clause; SQLite has none and takes _tell's transaction). Returns the rows of the
    outbox updated: 0 if this call no longer holds the claim (then the mirror is untouched)."""
    quote = connection.ops.quote_name
    sets, params = [], []
    for name, value in fields.items():
        field = OutboxMessage._meta.get_field(name)
        assert isinstance(field, Field)
        sets.append(f"{_column(OutboxMessage, name)} = %s")
        params.append(field.get_db_prep_save(value, connection))
    outbox, theirs = quote(OutboxMessage._meta.db_table), quote(mirror.model._meta.db_table)
    returned = ", ".join(_column(OutboxMessage, name) for name in kinds.MIRRORED)
    copies = ", ".join(
        f"{_column(mirror.model, name)} = done.{_column(OutboxMessage, name)}"
        for name in kinds.MIRRORED
    )
    sql = (
        f"WITH done AS (UPDATE {outbox} SET {', '.join(sets)}"
        f" WHERE {_column(OutboxMessage, 'id')} = %s"
        f" AND {_column(OutboxMessage, 'claim_token')} = %s"
        f" AND {_column(OutboxMessage, 'status')} = %s"
        f" RETURNING {_column(OutboxMessage, 'id')} AS message, {returned}),"
        f" copied AS (UPDATE {theirs} SET {copies}"
        f" FROM done WHERE {theirs}.{_column(mirror.model, mirror.link)} = done.message)"
        " SELECT count(*) FROM done"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, message.pk, token, MessageStatus.SENDING])
        return cursor.fetchone()[0]


def _column(model: type[Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, Field)
    assert field.column
    return connection.ops.quote_name(field.column)


def renew(ids: list[int], token: str) -> set[int]:
    """Start the lease of these claimed rows again, in one UPDATE. Returns the ids this call
    still holds (all of them, unless the batch outlived its lease and another worker took some
    over)."""

    def step() -> set[int]:
        ours = OutboxMessage.objects.filter(
            id__in=ids, claim_token=token, status=MessageStatus.SENDING
        )
        if ours.update(claimed_at=timezone.now()) == len(ids):
            return set(ids)
        return set(ours.values_list("id", flat=True))

    return with_reconnect(step)


def release(ids: list[int], token: str, *, tried: int | None = None) -> int:
    """Give claimed rows back as due now: the time budget or the soft time limit ran out.
    ``tried``: the one whose send was under way (its attempt counts; the others' do not)."""

    in_flight_ids = [] if tried is None else [tried]

    def step() -> int:
        rows = OutboxMessage.objects.filter(
            id__in=ids, claim_token=token, status=MessageStatus.SENDING
        )
        untried = rows.exclude(pk__in=in_flight_ids).update(
            status=MessageStatus.PENDING,
            claimed_at=None,
            claim_token="",
            attempts=F("attempts") - 1,
            updated_at=timezone.now(),
        )
        in_flight = rows.filter(pk__in=in_flight_ids).update(
            status=MessageStatus.PENDING,
            claimed_at=None,
            claim_token="",
            updated_at=timezone.now(),
        )
        return untried + in_flight

    return with_reconnect(step)
