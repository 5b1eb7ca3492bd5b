"""The one access policy: who may see or change which client's records.

- admin: every client;
- therapist: clients whose primary therapist they are, or that are shared with them (not revoked);
- client: only their own record;
- anyone else (anonymous, inactive): nothing.

Every view and every queryset of client data goes through ``visible_clients`` or
``client_for_view``. Outsiders get a 404, never a 403, so a client's existence does not leak.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from django.db.models import Model, QuerySet
from django.http import Http404

from accounts.models import Role
from audit.services import access_record
from patients.models import Client, ClientShare

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpRequest

    from accounts.models import User

M = TypeVar("M", bound=Model)


def caseload_ids(therapist: User) -> QuerySet:
    """The ids of a therapist's caseload: clients they are the primary therapist of, and those
    shared with them (not revoked). A UNION of two index reads (a caseload is ~100 clients), for
    ``pk IN (...)``: PostgreSQL cannot use an index for ``primary_therapist = x OR EXISTS (share)``
    and scanned every client of the clinic for each therapist page (issue 13)."""
    own = Client.objects.filter(primary_therapist=therapist).order_by().values("pk")
    shared = (
        ClientShare.objects.filter(therapist=therapist, revoked_at__isnull=True)
        .order_by()
        .values("client_id")
    )
    return own.union(shared)


def visible_clients(user: User | AnonymousUser) -> QuerySet[Client]:
    """All clients ``user`` may see, archived ones included (the caller filters by state)."""
    if not user.is_authenticated or not user.is_active:
        return Client.objects.none()
    if user.role == Role.ADMIN:
        return Client.objects.all()
    if user.role == Role.THERAPIST:
        return Client.objects.filter(pk__in=caseload_ids(user))
    if user.role == Role.CLIENT:
        return Client.objects.filter(user=user)
    return Client.objects.none()


def visible_rows(
    user: User | AnonymousUser, rows: QuerySet[M], *, client: str = "client"
) -> QuerySet[M]:
    """``rows`` (reminders, alerts, messages: anything with a client foreign key named ``client``)
    narrowed to the clients ``user`` may see, by the policy above. Admins' rows are not filtered at
    all and a therapist's go through the caseload's ids, so a list of the newest rows can walk an
    index instead of testing every row of a large table against the policy."""
    if not user.is_authenticated or not user.is_active:
        return rows.none()
    if user.role == Role.ADMIN:
        return rows
    if user.role == Role.THERAPIST:
        return rows.filter(**{f"{client}_id__in": caseload_ids(user)})
    if user.role == Role.CLIENT:
        return rows.filter(**{f"{client}__user": user})
    return rows.none()


def can_view_client(user: User | AnonymousUser, client: Client) -> bool:
    return visible_clients(user).filter(pk=client.pk).exists()


def can_change_client(user: User | AnonymousUser, client: Client) -> bool:
    """Staff who can see a client can change their record; clients change their own record only
    through the portal's own forms (intake, questionnaires), never the staff record."""
    return user.is_authenticated and user.role != Role.CLIENT and can_view_client(user, client)


def client_for_view(
    request: HttpRequest,
    client_id: int,
    *,
    page: str,
    for_change: bool = False,
    record_view: bool = True,
) -> Client:
    """The client a staff or portal page shows, or 404. Records the view in the audit trail (R22).

    ``page`` is a short, non-clinical label of what was looked at ("Client record", "Intake").
    ``record_view=False`` is for background writes that show nothing (the intake's autosave):
    the write itself is in the change trail, and a view row every few seconds would bury the
    real views.
    """
    user = request.user
    if for_change and getattr(user, "is_client", False):
        raise Http404
    try:
        client = visible_clients(user).select_related("primary_therapist").get(pk=client_id)
    except Client.DoesNotExist:
        raise Http404 from None
    if record_view:
        access_record(request=request, client=client, page=page)
    return client
