"""Sharing a client with a second therapist (cover, supervision, co-therapy) and stopping it.

The access policy (patients.access) lets a therapist with an active share see and chart the
client. Shares are granted and stopped by an admin or the client's primary therapist; they are
revoked, never deleted (R24), and every change is in the change trail (R22: the rows are saved one
by one, which django-auditlog records)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Role
from kap_clinic.errors import DomainError
from patients.models import Client, ClientShare

if TYPE_CHECKING:
    from accounts.models import User

REASON_MAX = 200


class ShareError(DomainError):
    """A rule refused the change; the message is for the clinician."""


def can_manage_shares(user: User, client: Client) -> bool:
    """Admins, and the client's primary therapist; not a therapist the client is shared with."""
    if not (user.is_authenticated and user.is_active):
        return False
    return user.role == Role.ADMIN or (
        user.role == Role.THERAPIST and client.primary_therapist_id == user.pk
    )


def client_share(*, client: Client, therapist: User, by: User, reason: str) -> ClientShare:
    if not can_manage_shares(by, client):
        raise PermissionError("Only an admin or the primary therapist shares a client.")
    reason = (reason or "").strip()
    if not reason:
        raise ShareError("Give a reason for sharing, for example holiday cover or co-therapy.")
    if len(reason) > REASON_MAX:
        raise ShareError(f"Keep the reason under {REASON_MAX} characters.")
    if client.is_archived:
        raise ShareError("This client is archived. Restore the record before sharing it.")
    if therapist.role != Role.THERAPIST or not therapist.is_active:
        raise ShareError("Choose an active therapist.")
    if therapist.pk == client.primary_therapist_id:
        raise ShareError(f"{therapist.get_full_name()} is already this client's primary therapist.")
    with transaction.atomic():
        Client.objects.select_for_update().get(pk=client.pk)
        if ClientShare.objects.filter(
            client=client, therapist=therapist, revoked_at__isnull=True
        ).exists():
            raise ShareError(f"This client is already shared with {therapist.get_full_name()}.")
        share = ClientShare(client=client, therapist=therapist, granted_by=by, reason=reason)
        try:
            # The partial unique constraint settles two admins sharing at the same moment.
            with transaction.atomic():
                share.save()
        except IntegrityError:
            raise ShareError(
                f"This client is already shared with {therapist.get_full_name()}."
            ) from None
    return share


def client_share_revoke(*, share: ClientShare, by: User) -> ClientShare:
    """Stop sharing: the therapist loses access at once; the share row is kept (R24)."""
    if not can_manage_shares(by, share.client):
        raise PermissionError("Only an admin or the primary therapist stops a share.")
    with transaction.atomic():
        share = ClientShare.objects.select_for_update().get(pk=share.pk)
        if share.revoked_at is not None:
            raise ShareError("This client is no longer shared with that therapist.")
        share.revoked_at = timezone.now()
        share.save(update_fields=["revoked_at"])
    return share
