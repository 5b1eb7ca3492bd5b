"""Checks made just before a message is sent, by the app that queued it: "is it still wanted?"
(an integration reminder after the course was discontinued, say). The outbox cannot import the
apps above it, so they register here, in their AppConfig.ready.

A check takes the OutboxMessage and returns a reason not to send it, or "" to send."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from outbox.models import OutboxMessage

Check = Callable[["OutboxMessage"], str]
_checks: dict[str, Check] = {}


def register_check(kind: str, check: Check) -> None:
    _checks[kind] = check


def reason_not_to_send(message: OutboxMessage) -> str:
    check = _checks.get(message.kind)
    return check(message) if check else ""
