"""Charting: a progress note per session (a template per kind; signed to lock, addenda after),
and psychotherapy notes (R23): the therapist's private process notes, stored apart from the chart,
visible only to their author and never exported or put in the referral packet."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class ProgressNote(models.Model):
    session = models.OneToOneField(
        "clinic_sessions.Session", on_delete=models.PROTECT, related_name="progress_note"
    )
    # The template's fields by name (sessions.notes.schema): {"history": "...", ...}.
    content = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(signed_at__isnull=True, signed_by__isnull=True)
                | Q(signed_at__isnull=False, signed_by__isnull=False),
                name="progress_note_signed_with_signer",
            ),
        ]

    def __str__(self) -> str:
        return f"Progress note for session #{self.session_id}"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    def get_additional_data(self) -> dict:
        return {"client_id": self.session.client_id}


class NoteAddendum(models.Model):
    """A correction or addition to a signed note: the note itself never changes after signing."""

    note = models.ForeignKey(ProgressNote, on_delete=models.PROTECT, related_name="addenda")
    text = models.TextField(max_length=10000)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Addendum #{self.pk} to session #{self.note.session_id}"

    def get_additional_data(self) -> dict:
        return {"client_id": self.note.session.client_id}


class PsychotherapyNote(models.Model):
    """R23. Read only through ``sessions.notes.selectors.psychotherapy_note_for`` (author only).
    The audit trail records that it changed, never its text."""

    session = models.ForeignKey(
        "clinic_sessions.Session", on_delete=models.PROTECT, related_name="+"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(max_length=20000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "author"], name="psychotherapy_note_one_per_author"
            ),
        ]

    def __str__(self) -> str:
        return f"Psychotherapy note #{self.pk}"

    def get_additional_data(self) -> dict:
        return {"client_id": self.session.client_id}
