"""The client's answer to an appointment reminder, from its link, without signing in: "I'll be
there" or "I need another time". The therapist's calendar and the session's page show it.

The link is signed (django.core.signing, its own salt) and names the session and its start:
- it expires when the session starts (a reminder's text is made at the booking, maybe months
  before it is sent: no other age limit);
- it is single-use: once the session has an answer, the page shows it and takes no other (the
  clinic is called for a change of mind); a move of the session clears the answer and makes the
  old links useless (the start they name is not the session's any more).
GET only shows the question (a mail scanner opening the link answers nothing); the answer is a
POST from the page. The page names the day, the time and the therapist's first name, as the
e-mail did, and nothing clinical (R25)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from kap_clinic.errors import DomainError
from sessions.models import ClientReply, Session, SessionStatus

SALT = "kap.session-reply"


class ReplyError(DomainError):
    """The link cannot take an answer; the message is for the client."""


def reply_token(session: Session) -> str:
    return signing.dumps(
        {"s": session.pk, "t": int(session.starts_at.timestamp())}, salt=SALT, compress=True
    )


def reply_url(session: Session) -> str:
    return settings.SITE_URL + reverse("session_reply", kwargs={"token": reply_token(session)})


@dataclass(frozen=True)
class Link:
    """What a reply link opens: the session, or why it cannot be answered (``problem``)."""

    session: Session | None
    problem: str = ""


def session_for_token(token: str) -> Link:
    try:
        payload = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return Link(None, "This link is not recognised. It may have been cut short.")
    if not isinstance(payload, dict) or not isinstance(payload.get("s"), int):
        return Link(None, "This link is not recognised. It may have been cut short.")
    session = Session.objects.select_related("client", "therapist").filter(pk=payload["s"]).first()
    if session is None:
        return Link(None, "This link is not recognised. It may have been cut short.")
    if int(session.starts_at.timestamp()) != payload.get("t"):
        return Link(None, "This appointment has moved since this e-mail was sent.")
    if session.status == SessionStatus.CANCELLED:
        return Link(None, "This appointment was cancelled.")
    if session.starts_at <= timezone.now() or session.status != SessionStatus.SCHEDULED:
        return Link(None, "This appointment has already started.")
    return Link(session)


def session_reply(*, token: str, answer: str) -> Session:
    """Record the client's answer, once (a second answer is refused, naming the first)."""
    if answer not in (ClientReply.CONFIRMED, ClientReply.RESCHEDULE):
        raise ReplyError("Choose one of the two answers.")
    with transaction.atomic():
        link = session_for_token(token)
        if link.session is None:
            raise ReplyError(link.problem)
        locked = Session.objects.select_for_update().get(pk=link.session.pk)
        # Again under the lock: a move or a cancellation may have come in between.
        if locked.starts_at != link.session.starts_at:
            raise ReplyError("This appointment has moved since this e-mail was sent.")
        if locked.status != SessionStatus.SCHEDULED or locked.starts_at <= timezone.now():
            raise ReplyError("This appointment can no longer be answered here.")
        if locked.client_reply:
            raise ReplyError(f"You already answered: {locked.get_client_reply_display().lower()}.")
        locked.client_reply = answer
        locked.client_reply_at = timezone.now()
        locked.save(update_fields=["client_reply", "client_reply_at", "updated_at"])
    locked.client, locked.therapist = link.session.client, link.session.therapist
    return locked
