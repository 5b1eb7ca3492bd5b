from django import forms

from accounts.forms import TherapistChoiceField
from accounts.models import Role, User
from patients.models import Client, ClientShare


class ShareForm(forms.Form):
    therapist = TherapistChoiceField(
        label="Share with",
        queryset=User.objects.none(),
        empty_label="Choose a therapist…",
        error_messages={"required": "Choose the therapist to share this client with."},
    )
    reason = forms.CharField(
        label="Reason",
        max_length=200,
        help_text="For example: holiday cover, co-therapy, supervision.",
        error_messages={"required": "Give a reason for sharing."},
    )

    def __init__(self, *args, client: Client, **kwargs):
        super().__init__(*args, **kwargs)
        shared = ClientShare.objects.filter(client=client, revoked_at__isnull=True).values(
            "therapist_id"
        )
        self.fields["therapist"].queryset = (
            User.objects.filter(role=Role.THERAPIST, is_active=True)
            .exclude(pk=client.primary_therapist_id)
            .exclude(pk__in=shared)
            .order_by("last_name", "first_name")
        )
