from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Fieldset, Layout, Row
from django import forms
from django.contrib.auth.password_validation import password_validators_help_text_html

from accounts.forms import TherapistChoiceField
from accounts.models import Role, User
from kap_clinic.fields import model_formfield
from patients.clients import time_zones
from patients.clients.services import CLIENT_FIELDS
from patients.clients.validators import normalize_phone, validate_date_of_birth
from patients.models import Client, ClientShare
from patients.models.clients import FlagCode
from patients.models.courses import Phase

PHONE_FIELDS = ("phone", "emergency_contact_phone", "chaperone_phone", "pcp_phone")


class TimeZoneField(forms.ChoiceField):
    """R8: the client's zone, from patients.clients.time_zones. An old name for a zone (an alias
    such as Asia/Calcutta, from a record saved before or a bookmarked post) is taken as the zone's
    current name."""

    def to_python(self, value):
        value = super().to_python(value)
        return time_zones.canonical(value) if value else value


class ClientForm(forms.ModelForm):
    """The client record as staff edit it. Validation messages say what is allowed (R17)."""

    primary_therapist = forms.ModelChoiceField(
        queryset=User.objects.filter(role=Role.THERAPIST, is_active=True),
        required=False,
        help_text="Only admins choose this; therapists add clients to their own caseload.",
    )
    time_zone = TimeZoneField(
        label="Time zone",
        choices=time_zones.choices,
        required=False,
        help_text="Where the client lives: their reminders are sent at the usual hour of their "
        "own time zone, never at night. Keep the clinic's when they live nearby.",
        error_messages={
            "invalid_choice": "“%(value)s” is not a time zone we know. Choose the client's time "
            "zone from the list, or the clinic's."
        },
    )

    class Meta:
        model = Client
        formfield_callback = model_formfield
        fields = list(CLIENT_FIELDS)
        labels = {
            "first_name": "First name (legal)",
            "last_name": "Last name (legal)",
            # Whole names, so the error summary at the top says which phone is wrong.
            "emergency_contact_name": "Emergency contact's name",
            "emergency_contact_relationship": "Relationship to the client",
            "emergency_contact_phone": "Emergency contact's phone",
            "chaperone_name": "Chaperone's name",
            "chaperone_phone": "Chaperone's phone",
            "pcp_name": "Doctor's name",
            "pcp_practice": "Practice",
            "pcp_phone": "Practice phone",
        }
        help_texts = {
            "email": "Used for the client portal invitation and sign-in.",
            "chaperone_name": "The adult who takes the client home after each dosing session.",
        }
        widgets = {
            "date_of_birth": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "address": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        on_file = self.instance.time_zone
        if on_file:
            # Shown by its current name; a zone outside the list stays listed (and kept).
            self.initial["time_zone"] = time_zones.canonical(on_file)
            self.fields["time_zone"].choices = time_zones.choices(keep=self.initial["time_zone"])
        if not user.is_admin:
            del self.fields["primary_therapist"]
        else:
            self.fields["primary_therapist"].required = True
            if self.instance.pk:
                self.fields["primary_therapist"].initial = self.instance.primary_therapist_id
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        therapist = ["primary_therapist"] if user.is_admin else []
        self.helper.layout = Layout(
            Fieldset(
                "Client",
                Row(Column("first_name"), Column("last_name")),
                Row(Column("preferred_name"), Column("pronouns"), Column("date_of_birth")),
                Row(Column("email"), Column("phone")),
                "address",
                *therapist,
            ),
            Fieldset(
                "Emergency contact",
                Row(
                    Column("emergency_contact_name"),
                    Column("emergency_contact_relationship"),
                    Column("emergency_contact_phone"),
                ),
            ),
            Fieldset("Default chaperone", Row(Column("chaperone_name"), Column("chaperone_phone"))),
            Fieldset(
                "Primary care provider",
                Row(Column("pcp_name"), Column("pcp_practice"), Column("pcp_phone")),
            ),
            Fieldset("Reminders", "time_zone"),
        )

    def clean_date_of_birth(self):
        value = self.cleaned_data.get("date_of_birth")
        validate_date_of_birth(value)
        return value

    def clean_email(self):
        email = (self.cleaned_data.get("email") or "").strip().lower()
        if email:
            clash = Client.objects.active().filter(email__iexact=email)
            if self.instance.pk:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                raise forms.ValidationError(
                    "Another active client already uses this e-mail address."
                )
        return email

    def _clean_phone(self, name):
        return normalize_phone(self.cleaned_data.get(name, ""))

    def clean_phone(self):
        return self._clean_phone("phone")

    def clean_emergency_contact_phone(self):
        return self._clean_phone("emergency_contact_phone")

    def clean_chaperone_phone(self):
        return self._clean_phone("chaperone_phone")

    def clean_pcp_phone(self):
        return self._clean_phone("pcp_phone")


class ArchiveForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        label="Reason for archiving",
        help_text="For example: treatment ended, moved away. The record is kept.",
    )


class ClientFilterForm(forms.Form):
    SORTS = [
        ("name", "Name (A–Z)"),
        ("-created", "Newest first"),
        ("flags", "Most flags first"),
    ]
    STATUSES = [
        ("", "Any stage"),
        ("not_invited", "Not invited to the portal"),
        ("invited", "Invited, not signed up yet"),
        ("intake_due", "Intake not submitted"),
        ("intake_to_review", "Intake waiting for review"),
        ("intake_reviewed", "Intake reviewed"),
    ]
    q = forms.CharField(required=False, max_length=100, label="Search by name, e-mail or phone")
    status = forms.ChoiceField(required=False, choices=STATUSES, label="Portal and intake")
    phase = forms.ChoiceField(
        required=False,
        choices=[("", "Any"), ("none", "No course yet"), *Phase.choices],
        label="Course phase",
    )
    flag = forms.ChoiceField(
        required=False,
        choices=[("", "Any"), ("any", "Any flag raised"), *FlagCode.choices],
        label="Flag for prescriber review",
    )
    sort = forms.ChoiceField(required=False, choices=SORTS, label="Sort by")
    archived = forms.BooleanField(required=False, label="Show archived clients")


class SetPasswordForm(forms.Form):
    password1 = forms.CharField(
        label="Choose a password",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "autofocus": True}),
        help_text=password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Type it again",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", "The two passwords are not the same.")
        return data


# --- Sharing a client with a second therapist -----------------------------------------------


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
