"""Writes to the client record and the portal invitation (R17, R22, R24).

Every function is keyword-only, checks its rule, writes inside a transaction and leaves the audit
to django-auditlog (the models are registered in patients/audit.py). E-mails go out only after the
transaction commits."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from kap_clinic.errors import DomainError
from outbox.models import MessageKind, OutboxMessage
from outbox.services import message_queue
from patients.access import can_change_client
from patients.models import Client, ClientShare, PortalInvitation

if TYPE_CHECKING:
    from accounts.models import User


CLIENT_FIELDS = (
    "first_name",
    "last_name",
    "preferred_name",
    "pronouns",
    "date_of_birth",
    "email",
    "phone",
    "address",
    "emergency_contact_name",
    "emergency_contact_relationship",
    "emergency_contact_phone",
    "chaperone_name",
    "chaperone_phone",
    "pcp_name",
    "pcp_practice",
    "pcp_phone",
    "time_zone",
)


class ClientError(DomainError):
    """A rule refused the change; the message is for the clinician."""


def _require_change(by: User, client: Client) -> None:
    if not can_change_client(by, client):
        raise ClientError("You cannot change this client's record.")


def client_create(*, by: User, primary_therapist: User | None = None, **fields) -> Client:
    """A new client. Therapists create clients on their own caseload; admins choose the
    therapist."""
    if by.is_therapist:
        primary_therapist = by
    elif not by.is_admin:
        raise ClientError("Only clinic staff add clients.")
    if primary_therapist is None or not primary_therapist.is_therapist:
        raise ClientError("Choose the client's primary therapist.")
    client = Client(primary_therapist=primary_therapist, **_only_client_fields(fields))
    return _save(client)


def client_update(*, by: User, client: Client, primary_therapist: User | None = None, **fields):
    _require_change(by, client)
    if client.is_archived:
        raise ClientError("This record is archived. Restore it before making changes.")
    for name, value in _only_client_fields(fields).items():
        setattr(client, name, value)
    if primary_therapist is not None and by.is_admin:
        client.primary_therapist = primary_therapist
    return _save(client)


def _only_client_fields(fields: dict) -> dict:
    unknown = set(fields) - set(CLIENT_FIELDS)
    if unknown:
        raise TypeError(f"Not client record fields: {sorted(unknown)}")
    if "email" in fields:
        fields = {**fields, "email": (fields["email"] or "").strip().lower()}
    return fields


def _save(client: Client) -> Client:
    try:
        with transaction.atomic():
            client.save()
    except IntegrityError as error:
        if "client_email_unique_active" in str(error) or "UNIQUE" in str(error).upper():
            raise ClientError("Another active client already uses this e-mail address.") from error
        raise
    return client


@transaction.atomic
def client_archive(*, by: User, client: Client, reason: str) -> Client:
    """R24: a client is never deleted; archiving hides them from the working list, keeps every
    record, and closes their portal access."""
    _require_change(by, client)
    reason = reason.strip()
    if not reason:
        raise ClientError("Give a reason for archiving, e.g. 'Treatment ended' or 'Moved away'.")
    if client.is_archived:
        raise ClientError("This client is already archived.")
    client.archived_at = timezone.now()
    client.archived_reason = reason[:500]
    client.save()
    for invitation in client.invitations.filter(accepted_at__isnull=True, revoked_at__isnull=True):
        invitation.revoked_at = client.archived_at
        invitation.save()
    user = client.user  # None without a query when there is no portal account
    if user is not None and user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
    return client


@transaction.atomic
def client_restore(*, by: User, client: Client) -> Client:
    _require_change(by, client)
    if not client.is_archived:
        raise ClientError("This client is not archived.")
    client.archived_at = None
    client.archived_reason = ""
    _save(client)
    user = client.user  # None without a query when there is no portal account
    if user is not None and not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
    return client


# --- Portal invitations -------------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_send(*, by: User, client: Client, base_url: str) -> PortalInvitation:
    """E-mail the client a single-use link (valid PORTAL_INVITATION_DAYS, default 7) to set a
    password. Sending again replaces the previous link, which stops working."""
    _require_change(by, client)
    if client.is_archived:
        raise ClientError("Restore this client before inviting them to the portal.")
    if client.user_id:
        raise ClientError("This client already has a portal login.")
    if not client.email:
        raise ClientError("Add the client's e-mail address first: the invitation is sent there.")
    if User.objects.filter(email__iexact=client.email).exists():
        raise ClientError(
            "Someone already signs in with this e-mail address. Use another address for the "
            "client, or ask an admin."
        )
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        for open_invitation in client.invitations.select_for_update().filter(
            accepted_at__isnull=True, revoked_at__isnull=True
        ):
            open_invitation.revoked_at = now
            open_invitation.save()
        invitation = PortalInvitation.objects.create(
            client=client,
            email=client.email,
            token_hash=_hash(token),
            created_by=by,
            expires_at=now + timedelta(days=settings.PORTAL_INVITATION_DAYS),
            sent_count=1,
            last_sent_at=now,
        )
        link = base_url + reverse("invitation_accept", kwargs={"token": token})
        invitation.message = _invitation_message(invitation=invitation, link=link, by=by)
        invitation.save(update_fields=["message"])
    return invitation


def _invitation_message(*, invitation: PortalInvitation, link: str, by: User) -> OutboxMessage:
    """The invitation e-mail, in the outbox (sent within a minute, retried through a mail outage
    until the link expires). R25: nothing clinical in the subject or body; the portal explains
    the rest after sign-in. The text holds the link: it is blanked once sent (outbox.models)."""
    client = invitation.client
    context = {
        "first_name": client.preferred_name or client.first_name,
        "link": link,
        "expires_at": invitation.expires_at,
        "clinic": settings.CLINIC_NAME,
        "therapist": client.primary_therapist.get_full_name(),
    }
    return message_queue(
        kind=MessageKind.PORTAL_INVITATION,
        to=invitation.email,
        subject=f"Your {settings.CLINIC_NAME} client portal",
        text=render_to_string("emails/portal_invitation.txt", context),
        client=client,
        secret=True,
        expires_at=invitation.expires_at,
        created_by=by,
    )


@transaction.atomic
def invitation_revoke(*, by: User, invitation: PortalInvitation) -> PortalInvitation:
    _require_change(by, invitation.client)
    if invitation.accepted_at or invitation.revoked_at:
        raise ClientError("This invitation is no longer open.")
    invitation.revoked_at = timezone.now()
    invitation.save()
    return invitation


def invitation_for_token(*, token: str) -> PortalInvitation | None:
    """The open, unexpired invitation for ``token``, or None (used, revoked, expired, unknown)."""
    invitation = (
        PortalInvitation.objects.select_related("client").filter(token_hash=_hash(token)).first()
    )
    if invitation is None or not invitation.is_open or invitation.client.is_archived:
        return None
    return invitation


def invitation_accept(*, token: str, password: str) -> User:
    """The client sets a password: their portal login is created and the link is used up."""
    with transaction.atomic():
        invitation = (
            PortalInvitation.objects.select_for_update()
            .select_related("client")
            .filter(token_hash=_hash(token))
            .first()
        )
        if invitation is None or not invitation.is_open or invitation.client.is_archived:
            raise ClientError(
                "This invitation link has expired or was already used. Ask your therapist to "
                "send a new one."
            )
        client = invitation.client
        if client.user_id:
            raise ClientError("You already have a login: sign in with your e-mail address.")
        user = User(
            email=invitation.email,
            first_name=client.first_name,
            last_name=client.last_name,
            role=Role.CLIENT,
        )
        validate_password(password, user)
        user.set_password(password)
        user.save()
        client.user = user
        client.save(update_fields=["user", "updated_at"])
        invitation.accepted_at = timezone.now()
        invitation.save()
    return user


# --- Sharing a client with a second therapist (cover, supervision, co-therapy) ------------


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
