"""Writes to a session's notes: the progress note (draft, sign to lock, addenda after signing) and
psychotherapy notes (R23: the author's private process notes, one per author per session).

Every write checks the access policy (patients.access.can_change_client) and runs in a
transaction under a row lock, so two tabs never both sign or overwrite a signed note. A refused
write raises NoteError with a message for the clinician. django-auditlog records the rows; a
psychotherapy note's text never enters the trail (sessions/audit.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone

from kap_clinic.errors import DomainError
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
    from accounts.models import User

ADDENDUM_MAX = 10000
PSYCHOTHERAPY_NOTE_MAX = 20000


class NoteError(DomainError):
    """A rule refused the write; the message is for the clinician."""


def _locked_session(session: Session, by: User) -> Session:
    """The session, locked for this transaction, after the access check."""
    locked = Session.objects.select_for_update().select_related("client").get(pk=session.pk)
    if not can_change_client(by, locked.client):
        raise NoteError("You cannot write notes for this client.")
    return locked


def _refuse_cancelled(session: Session) -> None:
    if session.status == SessionStatus.CANCELLED:
        raise NoteError("This session was cancelled, so it has no notes to write.")


def _clean_content(kind: str, content: dict) -> dict[str, str]:
    """Only the template's fields, as text. Nothing typed into them is dropped."""
    cleaned = {}
    for field in schema.fields_for(kind):
        value = content.get(field.name, "")
        value = "" if value is None else str(value)
        # Browsers send CRLF; store one form so a re-save does not look like a change.
        value = value.replace("\r\n", "\n").strip()
        if len(value) > schema.FIELD_MAX_LENGTH:
            raise NoteError(
                f"{field.label} is too long: keep it under {schema.FIELD_MAX_LENGTH:,} characters."
            )
        cleaned[field.name] = value
    return cleaned


def note_save(*, session: Session, content: dict, by: User) -> ProgressNote:
    """Save the progress note as a draft: the fields of the session kind's template only
    (notes.schema). Refused once the note is signed (it is locked: add an addendum) and for a
    cancelled session."""
    with transaction.atomic():
        locked = _locked_session(session, by)
        _refuse_cancelled(locked)
        cleaned = _clean_content(locked.kind, content)
        note = ProgressNote.objects.select_for_update().filter(session=locked).first()
        if note is None:
            return ProgressNote.objects.create(session=locked, content=cleaned, created_by=by)
        if note.is_signed:
            raise NoteError("This note is signed and locked. Add an addendum to correct it.")
        if note.content != cleaned:
            note.content = cleaned
            note.save(update_fields=["content", "updated_at"])
        return note


def note_sign(*, session: Session, by: User) -> ProgressNote:
    """Sign and lock the progress note. Only the session's own therapist signs (the note is their
    account of the session; colleagues and admins add addenda instead). Needs at least one field
    written, and the session must have started."""
    with transaction.atomic():
        locked = _locked_session(session, by)
        _refuse_cancelled(locked)
        if by.pk != locked.therapist_id:
            raise NoteError(
                "Only the therapist who held this session can sign its note. "
                "Your text is kept as a draft."
            )
        if locked.starts_at > timezone.now():
            raise NoteError(
                "This session has not started yet. Sign the note once the session has taken "
                "place; your text is kept as a draft."
            )
        note = ProgressNote.objects.select_for_update().filter(session=locked).first()
        if note is None or not any(
            (note.content.get(name) or "").strip() for name in schema.field_names(locked.kind)
        ):
            raise NoteError("Write at least one part of the note before signing it.")
        if note.is_signed:
            raise NoteError("This note is already signed.")
        note.signed_at = timezone.now()
        note.signed_by = by
        note.save(update_fields=["signed_at", "signed_by", "updated_at"])
        return note


def note_addendum_add(*, session: Session, text: str, by: User) -> NoteAddendum:
    """A correction or addition to a signed note, with its author and time. The note itself never
    changes after signing; before signing, edit the draft instead."""
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise NoteError("Write the addendum before adding it.")
    if len(text) > ADDENDUM_MAX:
        raise NoteError(f"Keep the addendum under {ADDENDUM_MAX:,} characters.")
    with transaction.atomic():
        locked = _locked_session(session, by)
        note = ProgressNote.objects.filter(session=locked).first()
        if note is None or not note.is_signed:
            raise NoteError(
                "Addenda are for signed notes. The note is still a draft: edit it directly."
            )
        return NoteAddendum.objects.create(note=note, text=text, author=by)


def psychotherapy_note_save(*, session: Session, text: str, by: User) -> PsychotherapyNote:
    """R23: the author's own psychotherapy note for this session (one per author per session,
    also a database constraint), written by staff who may change the client's record. Saving
    again replaces the author's text; nobody else ever reads or writes it."""
    text = (text or "").replace("\r\n", "\n").strip()
    if len(text) > PSYCHOTHERAPY_NOTE_MAX:
        raise NoteError(f"Keep the psychotherapy note under {PSYCHOTHERAPY_NOTE_MAX:,} characters.")
    try:
        with transaction.atomic():
            locked = _locked_session(session, by)
            _refuse_cancelled(locked)
            note = (
                PsychotherapyNote.objects.select_for_update()
                .filter(session=locked, author=by)
                .first()
            )
            if note is None:
                if not text:
                    raise NoteError("Write the psychotherapy note before saving it.")
                return PsychotherapyNote.objects.create(session=locked, author=by, text=text)
            if note.text != text:
                note.text = text
                note.save(update_fields=["text", "updated_at"])
            return note
    except IntegrityError as error:
        # The session row lock serialises writers; this only guards the database constraint.
        if "psychotherapy_note_one_per_author" in str(error):
            raise NoteError(
                "Your psychotherapy note was just saved elsewhere. Reload the page."
            ) from error
        raise
