"""Reads behind the Outbox page: the messages staff may see, through the access policy, in a fixed
number of queries whatever the size of the outbox."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from kap_clinic.listing import capped_counts
from outbox.models import MessageStatus, OutboxMessage
from patients.access import visible_rows

if TYPE_CHECKING:
    from accounts.models import User


def _visible(user: User) -> QuerySet[OutboxMessage]:
    """Admins: every message. Therapists: messages about clients they may see (their caseload
    and shares) and messages to themselves. Nothing for anyone else."""
    if not user.is_authenticated or not user.is_active or not user.is_clinic_staff:
        return OutboxMessage.objects.none()
    if user.is_admin:
        return OutboxMessage.objects.all()
    # Two index reads joined by id: an OR of the two tests would scan the whole outbox.
    caseload = visible_rows(user, OutboxMessage.objects.all()).order_by().values("pk")
    own = OutboxMessage.objects.filter(to__iexact=user.email).order_by().values("pk")
    return OutboxMessage.objects.filter(pk__in=caseload.union(own))


# Newest first, for a keyset page (kap_clinic.listing).
MESSAGE_ORDER = ("-created_at", "-id")


def messages_for(user: User, *, status: str | None = None) -> QuerySet[OutboxMessage]:
    """The messages ``user`` may see in MESSAGE_ORDER."""
    messages = _visible(user).select_related("client", "created_by")
    if status:
        messages = messages.filter(status=status)
    return messages.order_by(*MESSAGE_ORDER)


def status_counts(user: User) -> dict[str, int]:
    """How many messages ``user`` may see in all ("") and in each status, each counted up to
    kap_clinic.listing.COUNT_CAP. One query."""
    visible = _visible(user)
    return capped_counts(
        {"": visible, **{value: visible.filter(status=value) for value in MessageStatus.values}}
    )


def message_for(user: User, *, message_id: int) -> OutboxMessage | None:
    return _visible(user).select_related("client").filter(pk=message_id).first()
