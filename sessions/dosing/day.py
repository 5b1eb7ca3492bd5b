"""The dosing day as the client prepares it in the portal (R15): the clinic's checklist, read
and acknowledged, and the chaperone who takes them home (name, phone, pickup time). The therapist
sees on the calendar and the chart whether it was confirmed, and the chart starts from it
(sessions.dosing.services.chart_open). The client may change it until the session starts."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clinic import settings_reader, table
from kap_clinic import formats
from kap_clinic.errors import DomainError
from patients.clients.validators import normalize_phone
from sessions.models import DosingDayConfirmation, Session, SessionKind, SessionStatus

if TYPE_CHECKING:
    from accounts.models import User
    from patients.models import Client


class DosingDayError(DomainError):
    """A rule refused the change; ``field`` names the form field it is about, if one."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def checklist() -> tuple[str, ...]:
    """The clinic's checklist now (clinic settings), one item a line."""
    return table.lines(settings_reader.current().dosing_day_checklist)


def upcoming_dosing_session(
    *, client: Client, session_id: int, now: datetime | None = None
) -> Session | None:
    """The client's dosing session ``session_id`` if it is still to come, with its therapist and
    what the client confirmed; else None. One query."""
    now = now or timezone.now()
    return (
        Session.objects.filter(
            pk=session_id,
            client=client,
            kind=SessionKind.DOSING,
            status=SessionStatus.SCHEDULED,
            starts_at__gt=now,
        )
        .select_related("therapist", "dosing_day")
        .first()
    )


# R10: the preparation phase (check-in, intention, the pre-dose blood pressure) before the dose.
PREPARATION_ALLOWANCE = timedelta(minutes=30)


def earliest_pickup(session: Session) -> datetime:
    """R15: the client stays at least the minimum observation time after the dose, which is given
    after the session's preparation phase: no pickup before the start, that phase and then the
    observation time."""
    minutes = settings_reader.current().min_observation_minutes
    return session.starts_at + PREPARATION_ALLOWANCE + timedelta(minutes=minutes)


def pickup_moment(session: Session, pickup: time) -> datetime:
    """The pickup time typed in the client's zone, on the session's day there."""
    zone = session.client.zone
    day = session.starts_at.astimezone(zone).date()
    return datetime.combine(day, pickup, tzinfo=zone)


def dosing_day_confirm(
    *,
    session: Session,
    by: User,
    checklist_read: bool,
    chaperone_name: str,
    chaperone_phone: str,
    pickup: time,
    now: datetime | None = None,
) -> DosingDayConfirmation:
    """The client confirms the checklist and their chaperone for a dosing session of theirs still
    to come (R15). Changing it later keeps one row, each change audited (R22)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            Session.objects.select_for_update(of=("self",))
            .select_related("client")
            .get(pk=session.pk)
        )
        if locked.client.user_id != by.pk:
            raise DosingDayError("Only the client confirms their dosing day.")
        if locked.kind != SessionKind.DOSING or locked.status != SessionStatus.SCHEDULED:
            raise DosingDayError("This appointment is not a dosing session still to come.")
        if locked.starts_at <= now:
            raise DosingDayError(
                "This session has started: tell your therapist about any change in person."
            )
        if not checklist_read:
            raise DosingDayError(
                "Tick the box once you have read the list.", field="checklist_read"
            )
        name = " ".join((chaperone_name or "").split())
        if not name:
            raise DosingDayError("Enter the name of the person taking you home.", field="name")
        if len(name) > 150:
            raise DosingDayError("Keep the name under 150 characters.", field="name")
        try:
            phone = normalize_phone(chaperone_phone)
        except ValidationError as error:
            raise DosingDayError(error.messages[0], field="phone") from error
        if not phone:
            raise DosingDayError("Enter a phone number for them.", field="phone")
        pickup_at = pickup_moment(locked, pickup)
        earliest = earliest_pickup(locked)
        if pickup_at < earliest:
            local = earliest.astimezone(locked.client.zone)
            raise DosingDayError(
                f"You stay at the clinic for a while after the dose: choose a pickup time from "
                f"{formats.clock(local)}.",
                field="pickup",
            )
        row, _created = DosingDayConfirmation.objects.get_or_create(session=locked)
        row.checklist_read_at = row.checklist_read_at or now
        row.checklist = "\n".join(checklist())
        row.chaperone_name, row.chaperone_phone, row.pickup_at = name, phone, pickup_at
        row.chaperone_confirmed_at = now
        row.save()
    return row
