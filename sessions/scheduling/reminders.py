"""Appointment reminders: before every booked session, whatever its kind, the client gets an
e-mail on each of the clinic's reminder days before it (clinic settings: the day before by
default), at the send hour of the client's own time zone and outside the quiet hours.

Each reminder is an outbox row from the moment of the booking (``not_before`` its time,
``expires_at`` the session's start: it never arrives after the session started), on a topic of
its session and day, so a move replaces it and a cancellation cancels it, in the transaction of
the change. Before sending, the outbox asks (the check registered in sessions.apps) whether it is
still wanted: the session still booked at that time, the client's reminders on, the clinic's too.

R25: first name, day, time, place or video link; no session kind, nothing clinical. The text
carries the client's link to confirm or ask to reschedule (sessions.scheduling.replies), and,
before a dosing session, a plain link to the portal's preparation page, where the details stay
behind the sign-in; and the one-click link to stop reminders (patients.clients.reminder_choice).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from clinic import settings_reader
from clinic.hours import out_of_quiet_hours
from outbox.models import MessageKind, OutboxMessage
from outbox.services import Draft, messages_cancel, messages_queue
from patients.clients import reminder_choice
from patients.models import Phase
from sessions.models import Session, SessionKind, SessionStatus
from sessions.scheduling import confirmations, replies

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

PREFIX = "session-reminder:"
# A reminder later than this before the session is no use (the client is on their way).
LATEST_BEFORE = timedelta(hours=1)
# Days before a session a reminder may be for (the setting's range, clinic/table.py).
ALL_DAYS = range(1, 8)


def topic(session_pk: int, days: int) -> str:
    return f"{PREFIX}{session_pk}:{days}"


def topics(session_pk: int) -> list[str]:
    """Every topic a reminder of this session can have had (the clinic's days may have changed
    since it was booked)."""
    return [topic(session_pk, days) for days in ALL_DAYS]


def session_of(message: OutboxMessage) -> int | None:
    """The session a reminder is about, from its topic."""
    if not message.topic.startswith(PREFIX):
        return None
    pk, _, _days = message.topic[len(PREFIX) :].partition(":")
    return int(pk) if pk.isdigit() else None


def due_times(
    *,
    starts_at: datetime,
    zone: ZoneInfo,
    days: tuple[int, ...],
    send_hour: int,
    quiet_start: int,
    quiet_end: int,
    now: datetime,
) -> list[tuple[int, datetime]]:
    """(days before, when) of each reminder still to send for a session at ``starts_at``: the
    send hour of the client's local day ``days`` before the session's local day, moved out of
    the quiet hours. One already past is left out (the booking's own confirmation has just
    told the client), and so is one that would come less than LATEST_BEFORE before the start."""
    local_day = starts_at.astimezone(zone).date()
    found = []
    for before in sorted(days, reverse=True):
        local = datetime.combine(local_day - timedelta(days=before), time(send_hour), tzinfo=zone)
        due = out_of_quiet_hours(local, start=quiet_start, end=quiet_end)
        if now < due <= starts_at - LATEST_BEFORE:
            found.append((before, due))
    return found


def why_not(session: Session, *, now: datetime, values: settings_reader.Effective) -> str:
    """A reason not to remind the client of this session (now, or any more), or ""."""
    client = session.client
    if not values.appointment_reminders:
        return "The clinic turned appointment reminders off."
    if session.status != SessionStatus.SCHEDULED:
        return f"The session is {session.get_status_display().lower()}."
    course = session.course
    paused = course is not None and course.phase == Phase.ON_HOLD and session.is_dosing
    if course is not None and (course.phase == Phase.DISCONTINUED or paused):
        return f"The course is {course.get_phase_display().lower()}."
    if session.starts_at <= now:
        return "The session has started."
    if client.archived_at is not None:
        return "The client's record is archived."
    if not client.reminders_wanted:
        return reminder_choice.TURNED_OFF
    if not client.email:
        return "The client has no e-mail address."
    return ""


MOVED = "The session was moved: a new reminder replaces it."


def reminders_plan(
    *, session: Session, now: datetime | None = None, replaced: str = MOVED
) -> list[OutboxMessage]:
    """Queue the reminders of a session just booked or moved (or whose client's record changed),
    in the caller's transaction, replacing any it had (``replaced``: why, for those). ``session``
    with its client, therapist and course loaded."""
    now = now or timezone.now()
    values = settings_reader.current()
    reason = why_not(session, now=now, values=values)
    reminders_cancel(session=session, reason=reason or replaced)
    if reason:
        return []
    client = session.client
    times = due_times(
        starts_at=session.starts_at,
        zone=client.zone,
        days=values.appointment_reminder_days,
        send_hour=values.reminder_send_hour,
        quiet_start=values.quiet_hours_start,
        quiet_end=values.quiet_hours_end,
        now=now,
    )
    drafts = [reminder_draft(session, days=before, not_before=due) for before, due in times]
    # One INSERT for the messages and one for their audit entries, whatever the clinic's days.
    return messages_queue(drafts, kick=False)


def reminder_queue(*, session: Session, not_before: datetime) -> OutboxMessage:
    """One reminder of ``session`` into the outbox, to go at ``not_before`` (the demo queues one
    due at once), on the topic of its days before the session (at most the last of ALL_DAYS, so
    a move or cancellation reaches it), replacing one there not sent yet."""
    local_day = session.starts_at.astimezone(session.client.zone).date()
    before = (local_day - not_before.astimezone(session.client.zone).date()).days
    days = min(max(before, ALL_DAYS[0]), ALL_DAYS[-1])
    messages_cancel(topics=[topic(session.pk, days)], reason="Replaced by a newer reminder.")
    (message,) = messages_queue([reminder_draft(session, days=days, not_before=not_before)])
    return message


def reminder_draft(session: Session, *, days: int, not_before: datetime) -> Draft:
    """The reminder of ``session`` ``days`` before it, to go at ``not_before``."""
    client = session.client
    context = {
        **confirmations.appointment_context(session),
        "reply_url": replies.reply_url(session),
        # R25: the link names no kind; what to prepare is behind the portal's sign-in.
        "prepare_url": settings.SITE_URL + reverse("portal:dosing_day:confirm", args=[session.pk])
        if session.kind == SessionKind.DOSING
        else "",
        "stop_url": reminder_choice.stop_url(client),
    }
    return Draft(
        kind=MessageKind.APPOINTMENT_REMINDER,
        to=client.email,
        subject=render_to_string("sessions/emails/reminder_subject.txt", context).strip(),
        text=render_to_string("sessions/emails/reminder.txt", context),
        client=client,
        # The text's link answers for the client without a sign-in: not kept once sent.
        secret=True,
        not_before=not_before,
        # Of no use later (LATEST_BEFORE): retries through a mail outage stop there.
        expires_at=session.starts_at - LATEST_BEFORE,
        topic=topic(session.pk, days),
        to_client=True,
        headers=reminder_choice.stop_headers(client),
    )


def reminders_cancel(*, session: Session, reason: str) -> int:
    return messages_cancel(topics=topics(session.pk), reason=reason)


def still_wanted(messages: list[OutboxMessage]) -> dict[int, str]:
    """The outbox's check before a batch's reminders go (outbox.kinds): one query for their
    sessions and clients."""
    now = timezone.now()
    values = settings_reader.current()
    by_message = {message.pk: session_of(message) for message in messages}
    sessions = Session.objects.select_related("client", "course").in_bulk(
        {pk for pk in by_message.values() if pk is not None}
    )
    reasons = {}
    for message in messages:
        message_pk, session_pk = message.pk, by_message[message.pk]
        session = sessions.get(session_pk) if session_pk is not None else None
        if session is None:
            reasons[message_pk] = "The session is no longer on file."
        elif message.expires_at != session.starts_at - LATEST_BEFORE:
            reasons[message_pk] = MOVED
        elif message.to != session.client.email:
            reasons[message_pk] = "The client's e-mail address changed: a new reminder replaces it."
        else:
            reasons[message_pk] = why_not(session, now=now, values=values)
    return reasons
