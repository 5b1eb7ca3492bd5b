"""The client's confirmation of a booking, a move or a cancellation (R25: first name, day, time,
place or video link; no session kind, nothing clinical), as an outbox row written in the
transaction of the change. A newer change of the same session replaces a confirmation not yet
sent; none is sent for a session that has started, a client without an e-mail address or an
archived record."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from clinic import settings_reader
from kap_clinic import formats
from outbox.models import MessageKind
from outbox.services import message_queue
from sessions.models import Session

BOOKED, MOVED, CANCELLED = "booked", "moved", "cancelled"


def appointment_context(session: Session) -> dict:
    """What every client e-mail about a session says of it (R25), in the client's time: the
    confirmations here and the reminders (sessions.scheduling.reminders)."""
    client = session.client
    local = session.starts_at.astimezone(client.zone)
    values = settings_reader.current()
    return {
        "first_name": client.preferred_name or client.first_name,
        "therapist_first_name": session.therapist.first_name,
        "day": formats.weekday_day_long(local),
        "time": formats.clock(local),
        "location": session.location,
        "telehealth_url": session.telehealth_url,
        "clinic": settings.CLINIC_NAME,
        "signature": values.reminder_signature,
        "clinic_phone": values.clinic_phone,
        "can_reply": bool(values.reply_to_email),
    }


def confirmation_queue(*, session: Session, change: str) -> None:
    client = session.client
    if not client.email or client.archived_at is not None or session.starts_at <= timezone.now():
        return
    context = {"change": change, **appointment_context(session)}
    message_queue(
        kind=MessageKind.APPOINTMENT_CONFIRMATION,
        to=client.email,
        subject=render_to_string("sessions/emails/confirmation_subject.txt", context).strip(),
        text=render_to_string("sessions/emails/confirmation.txt", context),
        client=client,
        expires_at=session.starts_at,
        topic=f"session:{session.pk}",
        to_client=True,
    )
