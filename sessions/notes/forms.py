"""Input boundary for session notes. The forms shape the input; note_services checks every rule
again (signed notes are locked, cancelled sessions refused, R23 authorship)."""

from __future__ import annotations

from django import forms

from sessions.notes import schema, services


class NoteForm(forms.Form):
    """The progress note's fields for one session kind (notes.schema), all optional: a draft
    may be partly written."""

    use_required_attribute = False

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        for field in schema.fields_for(kind):
            self.fields[field.name] = forms.CharField(
                label=field.label,
                help_text=field.help_text,
                required=False,
                strip=False,
                max_length=schema.FIELD_MAX_LENGTH,
                widget=forms.Textarea(attrs={"rows": field.rows}),
            )


class AddendumForm(forms.Form):
    use_required_attribute = False

    text = forms.CharField(
        label="Addendum",
        max_length=services.ADDENDUM_MAX,
        error_messages={"required": "Write the addendum before adding it."},
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class PsychotherapyNoteForm(forms.Form):
    use_required_attribute = False

    text = forms.CharField(
        label="Psychotherapy note",
        required=False,
        strip=False,
        max_length=services.PSYCHOTHERAPY_NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
