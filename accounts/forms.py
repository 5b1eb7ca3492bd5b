from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.template.loader import render_to_string

from accounts.models import User
from accounts.services import password_reset_queue


class SignInForm(AuthenticationForm):
    username = forms.EmailField(
        label="E-mail address",
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": (
            "That e-mail address and password do not match an active account. "
            "Passwords are case-sensitive. After 5 failed attempts sign-in is locked for a while."
        ),
    }


class ResetRequestForm(PasswordResetForm):
    email = forms.EmailField(
        label="E-mail address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        """Django's reset e-mail, put in the outbox instead of sent inside the request: a mail
        outage neither shows an error page nor loses the link (retried while it is valid)."""
        password_reset_queue(
            to=to_email,
            subject="".join(render_to_string(subject_template_name, context).splitlines()),
            text=render_to_string(email_template_name, context),
        )


class TokenForm(forms.Form):
    token = forms.CharField(
        label="Code",
        max_length=16,
        help_text="The 6-digit code from your authenticator app, or one of your backup codes.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_token(self) -> str:
        return self.cleaned_data["token"].replace(" ", "").strip()


class EnrolForm(TokenForm):
    token = forms.CharField(
        label="6-digit code from the app",
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


STAFF_ROLE_CHOICES = [("therapist", "Therapist"), ("admin", "Admin")]


class StaffInviteForm(forms.Form):
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    email = forms.EmailField(label="E-mail address")
    role = forms.ChoiceField(choices=STAFF_ROLE_CHOICES, initial="therapist")

    def clean_email(self) -> str:

        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("Someone already signs in with this e-mail address.")
        return email


class StaffEditForm(forms.Form):
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=STAFF_ROLE_CHOICES)
    is_active = forms.BooleanField(
        required=False,
        label="Account active",
        help_text="Untick to stop this person signing in. Their records and history are kept.",
    )


class TherapistChoiceField(forms.ModelChoiceField):
    """A choice of therapist, by name. ``show_email`` adds the e-mail address, where two
    therapists of the same name must be told apart before a change that moves a caseload."""

    def __init__(self, *args, show_email: bool = False, **kwargs):
        self.show_email = show_email
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj) -> str:
        name = obj.get_full_name() or obj.email
        return f"{name} ({obj.email})" if self.show_email and obj.get_full_name() else name
