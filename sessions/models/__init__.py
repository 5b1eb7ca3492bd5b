"""The sessions app's models, one module per resource: scheduling, notes, the dosing chart and
the calendar feed."""

from sessions.models.dosing import (
    AdverseEvent,
    BloodPressureReading,
    DoseAdministration,
    DosingChart,
    PrescriberNotice,
)
from sessions.models.feeds import CalendarFeed
from sessions.models.notes import NoteAddendum, ProgressNote, PsychotherapyNote
from sessions.models.scheduling import Session, SessionKind, SessionStatus

__all__ = [
    "AdverseEvent",
    "BloodPressureReading",
    "CalendarFeed",
    "DoseAdministration",
    "DosingChart",
    "NoteAddendum",
    "PrescriberNotice",
    "ProgressNote",
    "PsychotherapyNote",
    "Session",
    "SessionKind",
    "SessionStatus",
]
