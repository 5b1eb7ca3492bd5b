"""What the apps that queue messages register with the outbox, which cannot import the apps above
it (they register in their AppConfig.ready, or their receivers module): checks made before
messages are sent ("is it still wanted?": an integration reminder after the course was
discontinued, say), and mirrors, their own rows that copy a message's outcome.

A check takes a batch's messages of its kind and returns a reason not to send for each message
that should not go (those left out are sent). It is asked once per batch, not per message, so it
can read what it needs for the whole batch in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from outbox.models import MessageStatus

if TYPE_CHECKING:
    from django.db.models import Model

    from outbox.models import OutboxMessage

Check = Callable[[list["OutboxMessage"]], dict[int, str]]
_checks: dict[str, Check] = {}


def register_check(kind: str, check: Check) -> None:
    _checks[kind] = check


def reasons_not_to_send(messages: list[OutboxMessage]) -> dict[int, str]:
    """{message pk: reason} for the messages their apps no longer want sent."""
    # Kinds that share a check (a reminder and a therapist's check) are asked together.
    by_check: dict[Check, list[OutboxMessage]] = defaultdict(list)
    for message in messages:
        if message.kind in _checks:
            by_check[_checks[message.kind]].append(message)
    reasons: dict[int, str] = {}
    for check, batch in by_check.items():
        reasons |= {pk: reason for pk, reason in check(batch).items() if reason}
    return reasons


@dataclass(frozen=True)
class Mirror:
    """A row of the app that queued a message which copies the message's outcome (a reminder
    plan row and its e-mail): ``model``'s field ``link`` points at the message, and its fields
    ``status``, ``sent_at``, ``last_error`` and ``cancelled_reason`` take the message's values
    (the statuses sent, failed and cancelled are spelled the same), ``updated_at`` the time.

    The copy is written in the same statement as the outcome (outbox.dispatch), so the two never
    differ and a batch pays one statement per message, not a transaction of two. Kinds with a
    mirror are not told by outbox.signals.message_finished; the others are."""

    model: type[Model]
    link: str


MIRRORED = ("status", "sent_at", "last_error", "cancelled_reason", "updated_at")
_mirrors: dict[str, Mirror] = {}


def register_mirror(kind: str, *, model: type[Model], link: str) -> None:
    status = model._meta.get_field("status")
    statuses = {value for value, _ in getattr(status, "choices", None) or ()}
    # The copy is the message's status as it is spelled: the mirror must know each final one.
    final = {MessageStatus.SENT, MessageStatus.FAILED, MessageStatus.CANCELLED}
    missing = {str(value) for value in final} - statuses
    if missing:
        raise ValueError(f"{model.__name__}.status has no {sorted(missing)}: it cannot mirror")
    _mirrors[kind] = Mirror(model=model, link=link)


def mirror_of(kind: str) -> Mirror | None:
    return _mirrors.get(kind)
