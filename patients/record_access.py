"""Page lookups through the access policy that bring what the page needs in the same query.

patients.access.client_for_view finds the client alone; a page that shows one row of the record
(a course, a dosing session, a referral) then ran a second query for the row, and the client
record a third for the client's portal account. Here the row comes with its client, or the client
with the relations asked for, in one query, still only among the clients the policy lets the user
see (``visible_clients``, 404 otherwise), and the view is recorded in the audit trail (R22) as
client_for_view records it. For pages that show client data (GET); changes go through
client_for_view with ``for_change``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from django.db.models import Model, QuerySet
from django.http import Http404

from audit.services import access_record
from patients.access import visible_clients

if TYPE_CHECKING:
    from django.http import HttpRequest

    from patients.models import Client

M = TypeVar("M", bound=Model)


def client_for_page(request: HttpRequest, client_id: int, *, page: str, related=()) -> Client:
    """The client ``request.user`` may see, with its primary therapist and ``related``, or 404.
    One query, and the access row."""
    client = (
        visible_clients(request.user)
        .select_related("primary_therapist", *related)
        .filter(pk=client_id)
        .first()
    )
    if client is None:
        raise Http404
    access_record(request=request, client=client, page=page)
    return client


def row_for_page(
    request: HttpRequest, rows: QuerySet[M], *, client_id: int, pk: int, page: str
) -> M:
    """Row ``pk`` of ``rows`` (a queryset of a model with a ``client`` foreign key), when it is
    client ``client_id``'s and the user may see that client, with the client loaded; else 404.
    One query, and the access row."""
    row = (
        rows.filter(client_id=client_id, pk=pk, client__in=visible_clients(request.user))
        .select_related("client__primary_therapist")
        .first()
    )
    if row is None:
        raise Http404
    access_record(request=request, client=row.client, page=page)  # type: ignore[attr-defined]
    return row


def own_record_for_page(
    request: HttpRequest, *, page: str, record_view: bool = True
) -> Client | None:
    """The signed-in client's own record for a portal page, with their therapist (the portal
    names them), or None when the login has no record (staff have none). One query, and the
    access row (none with ``record_view=False``: a background write that shows nothing, as for
    client_for_view)."""
    if not getattr(request.user, "is_client", False):
        return None
    client = visible_clients(request.user).select_related("primary_therapist").first()
    if client is not None and record_view:
        access_record(request=request, client=client, page=page)
    return client
