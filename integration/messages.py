"""What a reminder says, decided when it is sent (R8, R25): first name only, no "ketamine", no
diagnosis, nothing clinical in the subject; the clinic's signature. HTML and plain text from
templates/integration/emails/."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from clinic import settings_reader
from integration.models import IntegrationReminder
from kap_clinic import formats
from patients.clients import reminder_choice
from sessions.models import Session, SessionStatus


@dataclass(frozen=True)
class Message:
    variant: str  # "booked", "not_booked" (client) or "alert" (therapist)
    to: str
    subject: str
    text: str
    html: str

    def email(self, *, message_id: str) -> EmailMultiAlternatives:
        email = EmailMultiAlternatives(
            subject=self.subject,
            body=self.text,
            to=[self.to],
            headers={"Message-ID": message_id},
        )
        email.attach_alternative(self.html, "text/html")
        return email


def booked_integration(integrations: list[Session], *, now: datetime) -> Session | None:
    """The next integration session still to come among those following the dose, if any."""
    upcoming = [
        s for s in integrations if s.status == SessionStatus.SCHEDULED and s.starts_at >= now
    ]
    return min(upcoming, key=lambda s: s.starts_at, default=None)


def _render(name: str, context: dict) -> tuple[str, str, str]:
    subject = render_to_string(f"integration/emails/{name}_subject.txt", context).strip()
    text = render_to_string(f"integration/emails/{name}.txt", context)
    html = render_to_string(f"integration/emails/{name}.html", context)
    return subject, text, html


def client_message(
    reminder: IntegrationReminder,
    *,
    now: datetime,
    integrations: list[Session],
    values: settings_reader.Effective | None = None,
) -> Message:
    """``values``: the clinic settings, read once for a batch."""
    client = reminder.client
    values = values or settings_reader.current()
    booked = booked_integration(integrations, now=now)
    context = {
        "first_name": client.preferred_name or client.first_name,
        "clinic": settings.CLINIC_NAME,
        "signature": values.reminder_signature,
        # Clinic settings: how the client can answer; "reply" only where someone reads replies.
        "clinic_phone": values.clinic_phone,
        "can_reply": bool(values.reply_to_email),
        "booking_url": values.self_booking_url,
        "therapist_first_name": reminder.course.therapist.first_name,
        "stop_url": reminder_choice.stop_url(client),
    }
    if booked is not None:
        local = booked.starts_at.astimezone(client.zone)
        context |= {
            "day": formats.weekday_day_long(local),
            "time": formats.clock(local),
            "telehealth": bool(booked.telehealth_url),
            "location": booked.location,
        }
        variant = "booked"
    else:
        variant = "not_booked"
    subject, text, html = _render(f"reminder_{variant}", context)
    return Message(variant=variant, to=client.email, subject=subject, text=text, html=html)


def therapist_message(reminder: IntegrationReminder, *, base_url: str = "") -> Message:

    therapist = reminder.course.therapist
    context = {
        "first_name": therapist.first_name,
        "clinic": settings.CLINIC_NAME,
        # A bare path is no use in an e-mail: without the site's address (a beat task has no
        # request to take it from) the message says where to look instead.
        "link": base_url + reverse("integration:reminder_list") if base_url else "",
    }
    subject, text, html = _render("therapist_alert", context)
    return Message(variant="alert", to=therapist.email, subject=subject, text=text, html=html)
