"""Reads for a session's notes panel (templates/sessions/_notes.html), which the session page
includes with ``notes_for(session=..., user=request.user)`` merged into its context.

R23: a psychotherapy note is read here and only here, filtered by its author: a user gets their
own note or nothing, whatever their role. Nothing else in the code base reads PsychotherapyNote."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Prefetch
from django.utils import timezone

from patients.access import can_change_client
from sessions.models import (
    NoteAddendum,
    ProgressNote,
    PsychotherapyNote,
    Session,
    SessionStatus,
)
from sessions.notes import schema

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from accounts.models import User


@dataclass(frozen=True)
class FilledField:
    name: str
    label: str
    help_text: str
    rows: int
    max_length: int
    value: str


@dataclass
class NotesPanel:
    """What the notes panel shows. ``can_write``: the user may save the draft, add an addendum
    and keep a psychotherapy note; ``can_sign``: the user is the session's therapist."""

    session: Session
    note: ProgressNote | None
    fields: list[FilledField]
    addenda: list[NoteAddendum] = field(default_factory=list)
    private_note: PsychotherapyNote | None = None
    can_write: bool = False
    can_sign: bool = False
    cancelled: bool = False
    started: bool = True

    @property
    def is_signed(self) -> bool:
        return self.note is not None and self.note.is_signed

    @property
    def has_text(self) -> bool:
        return any(f.value for f in self.fields)


def psychotherapy_note_for(
    *, session: Session, user: User | AnonymousUser
) -> PsychotherapyNote | None:
    """R23: ``user``'s own psychotherapy note for ``session``, or None. Never another author's."""
    if not user.is_authenticated:
        return None
    return PsychotherapyNote.objects.filter(session=session, author=user).first()


def notes_for(*, session: Session, user: User | AnonymousUser) -> dict:
    """The notes panel for ``session`` as seen by ``user``: ``{"notes": NotesPanel}``.

    At most four queries whatever the number of addenda: the access check, the note with its
    signer and addenda (two), and the user's own psychotherapy note. One more when the caller did
    not load ``session.client``."""
    can_write = can_change_client(user, session.client)
    note = (
        ProgressNote.objects.filter(session=session)
        .select_related("signed_by")
        .prefetch_related(
            Prefetch("addenda", queryset=NoteAddendum.objects.select_related("author"))
        )
        .first()
    )
    content = note.content if note is not None else {}
    fields = [
        FilledField(
            name=f.name,
            label=f.label,
            help_text=f.help_text,
            rows=f.rows,
            max_length=schema.FIELD_MAX_LENGTH,
            value=str(content.get(f.name) or ""),
        )
        for f in schema.fields_for(session.kind)
    ]
    cancelled = session.status == SessionStatus.CANCELLED
    return {
        "notes": NotesPanel(
            session=session,
            note=note,
            fields=fields,
            addenda=list(note.addenda.all()) if note is not None else [],
            private_note=psychotherapy_note_for(session=session, user=user) if can_write else None,
            can_write=can_write and not cancelled,
            can_sign=can_write
            and not cancelled
            and getattr(user, "pk", None) == session.therapist_id,
            cancelled=cancelled,
            started=session.starts_at <= timezone.now(),
        )
    }
