"""The progress note's template for each session kind, as data: what the note form asks, in order.

A ProgressNote stores its text in ``content`` by field name; only the names below are ever kept
(services.note_save drops anything else). The structured dosing chart (blood pressure, dose,
discharge) lives in the dosing chart, so the dosing note is a short summary only. Changing a label
or help text here is safe; renaming a field would hide text already written under the old name.
"""

from __future__ import annotations

from dataclasses import dataclass

from sessions.models import SessionKind

# Per field; the form and the service both enforce it, the textarea carries it as maxlength.
FIELD_MAX_LENGTH = 10000


@dataclass(frozen=True)
class NoteField:
    name: str
    label: str
    help_text: str
    rows: int = 4


PLAN = NoteField(
    "plan",
    "Plan / next steps",
    "What happens next: the next session, homework, anything to follow up or tell the prescriber.",
    rows=3,
)

TEMPLATES: dict[str, tuple[NoteField, ...]] = {
    SessionKind.PREPARATION: (
        NoteField(
            "history",
            "History",
            "Relevant history discussed: what brings the client to treatment, past experiences, "
            "current supports.",
        ),
        NoteField(
            "intentions",
            "Intentions",
            "The client's hopes, fears and intentions for the dosing sessions, in their words "
            "where possible.",
        ),
        NoteField(
            "logistics",
            "Dosing-day logistics explained",
            "What was explained about the dosing day: fasting beforehand, a chaperone to take the "
            "client home, no driving until the next day.",
            rows=3,
        ),
        PLAN,
    ),
    SessionKind.DOSING: (
        NoteField(
            "summary",
            "Session summary",
            "A short summary of the session. Blood pressure, the dose and discharge are recorded "
            "in the dosing chart, not here.",
        ),
        PLAN,
    ),
    SessionKind.INTEGRATION: (
        NoteField(
            "experience",
            "Experience processed",
            "What the client brought from the dosing session and how it was worked through.",
        ),
        NoteField(
            "insights",
            "Insights",
            "Insights, meanings or shifts the client named.",
            rows=3,
        ),
        NoteField(
            "intentions",
            "Behavioural intentions",
            "Concrete changes the client intends to make before the next session.",
            rows=3,
        ),
        PLAN,
    ),
    SessionKind.GENERAL: (
        NoteField(
            "note",
            "Session note",
            "Themes, interventions and the client's response.",
            rows=6,
        ),
        PLAN,
    ),
}


def fields_for(kind: str) -> tuple[NoteField, ...]:
    """The template of a session kind; an unknown kind gets the general note (never an error)."""
    return TEMPLATES.get(kind, TEMPLATES[SessionKind.GENERAL])


def field_names(kind: str) -> list[str]:
    return [field.name for field in fields_for(kind)]
