"""Reads for the client pages; each runs a fixed number of queries whatever the caseload size."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from kap_clinic.access import visible_clients
from patients.models import Client

if TYPE_CHECKING:
    from accounts.models import User


def client_list(*, user: User, search: str = "", archived: bool = False) -> QuerySet[Client]:
    """The caseload ``user`` may see (admins: everyone), optionally searched by name, e-mail or
    phone."""
    clients = visible_clients(user).select_related("primary_therapist")
    clients = clients.filter(archived_at__isnull=not archived)
    for term in search.split()[:5]:
        digits = "".join(ch for ch in term if ch.isdigit())
        match = (
            Q(first_name__icontains=term)
            | Q(last_name__icontains=term)
            | Q(preferred_name__icontains=term)
            | Q(email__icontains=term)
        )
        if len(digits) >= 3:
            match |= Q(phone_digits__contains=digits)
        clients = clients.filter(match)
    return clients.order_by("last_name", "first_name", "id")


def client_shares(*, client: Client):
    return client.shares.filter(revoked_at__isnull=True).select_related("therapist")
