from django import forms

from accounts.forms import TherapistChoiceField
from accounts.models import User
from staff.team import selectors


class CaseloadReassignForm(forms.Form):
    to_therapist = TherapistChoiceField(
        label="Therapist who takes over",
        show_email=True,
        queryset=User.objects.none(),
        empty_label="Choose a therapist…",
        error_messages={"required": "Choose the therapist who takes over these clients."},
    )
    reason = forms.CharField(
        label="Reason",
        max_length=300,
        help_text="For example: leaving the clinic, long leave. Kept in the change history.",
        error_messages={"required": "Give a reason for the reassignment."},
    )

    def __init__(self, *args, from_therapist: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_therapist"].queryset = selectors.receiving_therapists(
            exclude=from_therapist
        )
