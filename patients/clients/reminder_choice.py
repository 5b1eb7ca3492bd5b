"""Whether a client gets appointment and integration reminders by e-mail, and the link every
reminder carries to stop them in one click (RFC 8058: ``List-Unsubscribe`` and
``List-Unsubscribe-Post``, and the same link in the text for a person to follow).

The link is signed (django.core.signing, with its own salt) and names only the client's row: it
does one thing, turn reminders off, so it does not expire and may be used again. It is not a
sign-in: the page it opens says nothing but that reminders are off (R25). Safety e-mails to
staff, password resets and invitations do not depend on the choice."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from kap_clinic.errors import DomainError
from patients.access import can_change_client
from patients.models import Client, ReminderChoiceVia

if TYPE_CHECKING:
    from accounts.models import User

SALT = "kap.reminders-off"
TURNED_OFF = "The client turned e-mail reminders off."


class ReminderChoiceError(DomainError):
    """The choice cannot be changed this way; the message is for the person asking."""


def _signer() -> signing.Signer:
    # No timestamp: the same link in every reminder to the client, for as long as they get them.
    return signing.Signer(salt=SALT)


def stop_token(client: Client) -> str:
    return _signer().sign_object(client.pk)


def client_for_stop_token(token: str) -> Client | None:
    try:
        pk = _signer().unsign_object(token)
    except signing.BadSignature:
        return None
    if not isinstance(pk, int):
        return None
    return Client.objects.filter(pk=pk).first()


def stop_url(client: Client) -> str:
    """The one-click link, absolute (SITE_URL) where the site's address is known."""
    return settings.SITE_URL + reverse("reminders_stop", kwargs={"token": stop_token(client)})


def stop_headers(client: Client) -> dict[str, str]:
    """RFC 8058 headers for a reminder to ``client``. A mail program offers "unsubscribe" only for
    an absolute https (or http) address: without SITE_URL there is none to give."""
    if not settings.SITE_URL:
        return {}
    return {
        "List-Unsubscribe": f"<{stop_url(client)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def reminders_set(
    *,
    client: Client,
    wanted: bool,
    via: ReminderChoiceVia,
    by: User | None = None,
    client_asked: bool = False,
) -> Client:
    """Turn the client's reminders on or off and keep who, how and when (R22: audited). Staff
    need the right to change the record; in the portal only the client themself; the e-mail's
    link (``by`` None) only turns them off. Asking again for what is already so changes nothing
    (the first choice's time is kept). Staff turn back on what the client turned off themself
    only when the client asked for it (``client_asked``): a click must not undo their choice."""
    if via == ReminderChoiceVia.STAFF:
        if by is None or not can_change_client(by, client):
            raise ReminderChoiceError("You cannot change this client's record.")
    elif via == ReminderChoiceVia.PORTAL:
        if by is None or client.user_id != by.pk:
            raise ReminderChoiceError("Only the client can change this in the portal.")
    elif wanted or by is not None:
        raise ReminderChoiceError("The e-mail's link only turns reminders off.")
    with transaction.atomic():
        locked = Client.objects.select_for_update().get(pk=client.pk)
        if locked.reminders_wanted == wanted:
            return locked
        by_the_client = locked.reminders_changed_via in (
            ReminderChoiceVia.PORTAL,
            ReminderChoiceVia.EMAIL,
        )
        if via == ReminderChoiceVia.STAFF and wanted and by_the_client and not client_asked:
            raise ReminderChoiceError(
                "The client turned reminders off themself. Turn them on only if they asked for "
                "it: tick the box to say so."
            )
        locked.reminders_wanted = wanted
        locked.reminders_changed_at = timezone.now()
        locked.reminders_changed_via = via
        locked.reminders_changed_by = by
        locked.save(
            update_fields=[
                "reminders_wanted",
                "reminders_changed_at",
                "reminders_changed_via",
                "reminders_changed_by",
                "updated_at",
            ]
        )
    return locked
