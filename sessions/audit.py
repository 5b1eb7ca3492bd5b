"""R22: sessions, notes and the dosing chart are audited by django-auditlog like the rest of the
clinical record. R23: a psychotherapy note's text never enters the trail (only that it changed)."""

from auditlog.registry import auditlog

from sessions.models import (
    AdverseEvent,
    BloodPressureReading,
    DoseAdministration,
    DosingChart,
    DosingDayConfirmation,
    NoteAddendum,
    PrescriberNotice,
    ProgressNote,
    PsychotherapyNote,
    Session,
)

auditlog.register(Session, exclude_fields=["updated_at"])
auditlog.register(ProgressNote, exclude_fields=["updated_at"])
auditlog.register(NoteAddendum)
auditlog.register(PsychotherapyNote, exclude_fields=["text", "updated_at"])
auditlog.register(DosingChart, exclude_fields=["updated_at"])
auditlog.register(DosingDayConfirmation, exclude_fields=["updated_at", "checklist"])
auditlog.register(BloodPressureReading)
auditlog.register(DoseAdministration)
auditlog.register(AdverseEvent)
auditlog.register(PrescriberNotice)
