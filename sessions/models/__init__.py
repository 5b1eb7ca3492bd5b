"""The sessions app's models, one module per resource: scheduling, notes, the dosing chart and
the calendar feed."""

from sessions.models.dosing import (
    AdverseEvent,
    BloodPressureReading,
    DoseAdministration,
    DosingChart,
    PrescriberNotice,
)
from sessions.models.dosing_day import DosingDayConfirmation
from sessions.models.feeds import CalendarFeed
from sessions.models.notes import NoteAddendum, ProgressNote, PsychotherapyNote
from sessions.models.scheduling import ClientReply, Session, SessionKind, SessionStatus

__all__ = [
    "AdverseEvent",
    "BloodPressureReading",
    "CalendarFeed",
    "ClientReply",
    "DoseAdministration",
    "DosingChart",
    "DosingDayConfirmation",
    "NoteAddendum",
    "PrescriberNotice",
    "ProgressNote",
    "PsychotherapyNote",
    "Session",
    "SessionKind",
    "SessionStatus",
]
