"""Reads for the therapist calendar: one week (or one day) of sessions laid out on an hour grid
in the clinic's time zone. Two queries whatever the number of sessions: the sessions (with their
client and therapist) and, for an admin, the therapists of the picker."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from kap_clinic import formats
from patients.access import visible_rows
from sessions.models import ClientReply, Session, SessionKind, SessionStatus
from sessions.scheduling.selectors import show_status, with_chart_outcome

# The grid: 07:00 to 21:00 in the clinic's time zone. Sessions outside it get an extra row.
FIRST_HOUR = 7
LAST_HOUR = 21


def week_start(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def local_midnight(day: date) -> datetime:
    """The start of ``day`` in the clinic's time zone (correct across daylight-saving changes)."""
    return timezone.make_aware(datetime.combine(day, time.min))


@dataclass
class Entry:
    """One session on the grid, with its times in the clinic's zone and the words and link it
    shows, worked out once here: a whole-clinic week is hundreds of entries, and each lookup
    the template makes through the session (a reverse(), a display method) is paid per entry."""

    session: Session
    start: datetime
    end: datetime
    url: str = ""
    # "Dosing", "Dosing · cancelled", "Preparation · completed".
    label: str = ""
    client_name: str = ""
    therapist_name: str = ""
    # What the client answered (a reminder's link) and, before a dosing session, whether they
    # confirmed their chaperone in the portal: "Client confirmed", "Chaperone not confirmed".
    notes: tuple[Note, ...] = ()

    @property
    def cancelled(self) -> bool:
        return self.session.status == SessionStatus.CANCELLED

    @property
    def time_range(self) -> str:
        """ "10:00–10:50 AM", or "11:30 AM–12:20 PM" across noon."""
        if self.start.strftime("%p") == self.end.strftime("%p"):
            return f"{formats.clock(self.start)[:-3]}–{formats.clock(self.end)}"
        return f"{formats.clock(self.start)}–{formats.clock(self.end)}"


@dataclass(frozen=True)
class Note:
    """A line under a session on the grid; ``attention``: something for the therapist to do."""

    text: str
    attention: bool = False


@dataclass
class Cell:
    """One hour of one day: the sessions starting in it, and whether a session started earlier
    still runs (then no "book this slot" link)."""

    day: date
    hour: int | None  # None: the "before 7:00" / "after 21:00" rows
    entries: list[Entry] = field(default_factory=list)
    busy: bool = False
    # The kind of the session running through this hour (its colour on the grid).
    busy_kind: str = ""

    @property
    def slot_param(self) -> str:
        """The booking form's ``start`` for this hour: 2026-12-01T09:00."""
        return f"{self.day.isoformat()}T{self.hour:02d}:00" if self.hour is not None else ""

    @property
    def is_free(self) -> bool:
        return self.hour is not None and not self.busy and not self.active_entries

    @property
    def active_entries(self) -> list[Entry]:
        return [e for e in self.entries if not e.cancelled]


@dataclass
class Row:
    label: str
    hour: int | None
    cells: list[Cell]


@dataclass
class CalendarWeek:
    days: list[date]
    rows: list[Row]
    entries: list[Entry]
    first: date
    last: date

    @property
    def is_empty(self) -> bool:
        return not self.entries


def calendar_sessions(
    *,
    user: User,
    start: datetime,
    end: datetime,
    therapist_id: int | None = None,
    therapist_ids: Sequence[int] | None = None,
) -> QuerySet[Session]:
    """Sessions between ``start`` and ``end`` that ``user`` may see: a therapist's own sessions, an
    admin's for the chosen therapist, or for a group of therapists (``therapist_ids``), or all;
    always only clients the user may see. One query."""
    sessions = with_chart_outcome(
        visible_rows(user, Session.objects.overlapping(start, end))
    ).select_related("client", "therapist", "dosing_day")
    if user.role == Role.THERAPIST:
        sessions = sessions.filter(therapist=user)
    elif therapist_id is not None:
        sessions = sessions.filter(therapist_id=therapist_id)
    elif therapist_ids is not None:
        sessions = sessions.filter(therapist_id__in=therapist_ids)
    return sessions.order_by("starts_at", "id")


def calendar_week(
    *,
    user: User,
    first: date,
    days: int = 7,
    therapist_id: int | None = None,
    therapist_ids: Sequence[int] | None = None,
    show_cancelled: bool = False,
) -> CalendarWeek:
    """``days`` days from ``first`` on the hour grid. One query."""
    day_list = [first + timedelta(days=n) for n in range(days)]
    start = local_midnight(first)
    end = local_midnight(first + timedelta(days=days))
    entries = []
    sessions = list(
        calendar_sessions(
            user=user, start=start, end=end, therapist_id=therapist_id, therapist_ids=therapist_ids
        )
    )
    # The status each session shows: the same words as the client's session list.
    show_status(sessions, now=timezone.now())
    session_url = _session_url()
    kinds = dict(SessionKind.choices)
    for session in sessions:
        cancelled = session.status == SessionStatus.CANCELLED
        if cancelled and not show_cancelled:
            continue
        shown = session.shown  # type: ignore[attr-defined]
        label = kinds.get(session.kind, session.kind)
        if cancelled:
            label += " · cancelled"
        elif shown.key != "scheduled":
            label += f" · {shown.label.lower()}"
        entries.append(
            Entry(
                session=session,
                start=timezone.localtime(session.starts_at),
                end=timezone.localtime(session.ends_at),
                url=session_url(session.client_id, session.pk),
                label=label,
                client_name=session.client.full_name,
                therapist_name=session.therapist.get_full_name(),
                notes=() if cancelled else client_notes(session),
            )
        )

    grid = _empty_grid(day_list)
    # The grid's hours as aware moments, made once per day (not once per session and hour).
    slots = {
        day: {hour: timezone.make_aware(datetime.combine(day, time(hour))) for hour in HOURS}
        for day in day_list
    }
    for entry in entries:
        _place(grid, entry, day_list=day_list, slots=slots)
    return CalendarWeek(
        days=day_list,
        rows=_rows(grid, day_list),
        entries=entries,
        first=day_list[0],
        last=day_list[-1],
    )


def client_notes(session: Session) -> tuple[Note, ...]:
    """What the client told the clinic about a booked session, for the calendar: their answer to
    a reminder, and before a dosing session their chaperone (R15)."""
    notes = []
    if session.client_reply:
        notes.append(
            Note(
                f"Client {session.get_client_reply_display().lower()}",
                attention=session.client_reply == ClientReply.RESCHEDULE,
            )
        )
    if session.kind == SessionKind.DOSING and session.status == SessionStatus.SCHEDULED:
        day = getattr(session, "dosing_day", None)
        confirmed = day is not None and day.chaperone_confirmed
        notes.append(
            Note("Chaperone confirmed")
            if confirmed
            else Note("Chaperone not confirmed", attention=True)
        )
    return tuple(notes)


def _session_url():
    """A session's page address from its client's and its own id, by filling in one reversed
    address (what Session.get_absolute_url gives, without a reverse() per session)."""
    client_mark, session_mark = "918273645", "546372819"
    sample = reverse(
        "patients:sessions:detail",
        kwargs={"client_id": int(client_mark), "session_id": int(session_mark)},
    )
    head, rest = sample.split(client_mark, 1)
    middle, tail = rest.split(session_mark, 1)
    return lambda client_id, session_id: f"{head}{client_id}{middle}{session_id}{tail}"


HOURS = tuple(range(FIRST_HOUR, LAST_HOUR))
Grid = dict[tuple[date, int | str], Cell]


def _empty_grid(day_list: list[date]) -> Grid:
    grid: Grid = {}
    for day in day_list:
        grid[(day, "early")] = Cell(day=day, hour=None)
        grid[(day, "late")] = Cell(day=day, hour=None)
        for hour in HOURS:
            grid[(day, hour)] = Cell(day=day, hour=hour)
    return grid


def _place(grid: Grid, entry: Entry, *, day_list: list[date], slots: dict) -> None:
    """Puts ``entry`` in the cell of its start, and marks the later hours it runs into busy."""
    day, hour = entry.start.date(), entry.start.hour
    if day not in day_list:
        day, hour = day_list[0], -1  # began before the first day shown (overnight)
    key = "early" if hour < FIRST_HOUR else "late" if hour >= LAST_HOUR else hour
    grid[(day, key)].entries.append(entry)
    if entry.cancelled:
        return
    # The hours the session still runs into are busy: no "book this slot" link there.
    for later, slot in slots[day].items():
        if entry.start < slot < entry.end and later != hour:
            grid[(day, later)].busy = True
            grid[(day, later)].busy_kind = entry.session.kind


def _rows(grid: Grid, day_list: list[date]) -> list[Row]:
    rows = []
    if any(grid[(d, "early")].entries for d in day_list):
        rows.append(
            Row(f"Before {_hour_label(FIRST_HOUR)}", None, [grid[(d, "early")] for d in day_list])
        )
    for hour in HOURS:
        rows.append(Row(_hour_label(hour), hour, [grid[(d, hour)] for d in day_list]))
    if any(grid[(d, "late")].entries for d in day_list):
        rows.append(
            Row(f"From {_hour_label(LAST_HOUR)}", None, [grid[(d, "late")] for d in day_list])
        )
    return rows


def _hour_label(hour: int) -> str:
    return f"{hour % 12 or 12} {'AM' if hour < 12 else 'PM'}"


# An admin's "all therapists" calendar shows this many therapists' sessions at a time, in the
# picker's order: a group practice of 500 therapists has about 11,000 sessions in a week, more
# than anyone can read on one grid (and 9 s to lay out). A clinic of up to this many sees them all.
THERAPISTS_PER_PAGE = 12


@dataclass
class TherapistGroup:
    """The therapists an admin's all-therapists calendar shows now (``number``: 1-based), out of
    ``count`` groups."""

    therapists: list[User]
    number: int
    count: int

    @property
    def ids(self) -> list[int]:
        return [t.pk for t in self.therapists]

    @property
    def label(self) -> str:
        """ "Therapists 13–24 of 500 (Adams – Baker)"."""
        first = (self.number - 1) * THERAPISTS_PER_PAGE + 1
        names = f"{self.therapists[0].last_name} – {self.therapists[-1].last_name}"
        return f"Therapists {first}–{first + len(self.therapists) - 1} ({names})"


def therapist_group(therapists: list[User], number: int) -> TherapistGroup | None:
    """Group ``number`` (1-based, held within range) of the picker's therapists, or None when
    they all fit on one calendar."""
    if len(therapists) <= THERAPISTS_PER_PAGE:
        return None
    count = -(-len(therapists) // THERAPISTS_PER_PAGE)
    number = min(max(number, 1), count)
    start = (number - 1) * THERAPISTS_PER_PAGE
    return TherapistGroup(therapists[start : start + THERAPISTS_PER_PAGE], number, count)


def picker_therapists() -> QuerySet[User]:
    """The admin's therapist picker: active therapists. One query."""
    return User.objects.filter(role=Role.THERAPIST, is_active=True).order_by(
        "last_name", "first_name", "id"
    )
