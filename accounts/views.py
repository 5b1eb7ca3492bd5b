from __future__ import annotations

from base64 import b32encode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import user_has_device

from accounts import services
from accounts.forms import EnrolForm, ResetRequestForm, SignInForm, TokenForm
from clinic import settings_reader
from kap_clinic.errors import DomainError

BACKUP_CODES_SESSION_KEY = "kap_new_backup_codes"


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("home")


class SignInView(auth_views.LoginView):
    form_class = SignInForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["timed_out"] = self.request.GET.get("timeout") == "1"
        context["signed_in_too_long"] = self.request.GET.get("timeout") == "12h"
        context["idle_minutes"] = settings_reader.current().idle_timeout_seconds // 60
        return context


def lockout_username(request: HttpRequest, credentials: dict | None) -> str:
    """The account name django-axes counts failures against: the e-mail, case-insensitively."""
    raw = (credentials or {}).get("username") or request.POST.get("username") or ""
    return raw.strip().lower()


def lockout(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """django-axes calls this after AXES_FAILURE_LIMIT failed sign-ins (default 5)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(
        request,
        "accounts/locked_out.html",
        {"minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT},
        status=429,
    )


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_clinic_staff:
        raise Http404
    if user_has_device(user):
        # Replacing an enrolled authenticator is an admin's job (lost phone), not self-service.
        return redirect(f"{reverse('accounts:two_factor_verify')}?next={_next_url(request)}")
    device = services.totp_device_pending(user=user)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = services.totp_device_confirm(
                user=user, device=device, token=form.cleaned_data["token"]
            )
        except DomainError as error:
            form.add_error("token", str(error))
        else:
            otp_login(request, device)
            request.session[BACKUP_CODES_SESSION_KEY] = codes
            messages.success(request, "Two-factor sign-in is set up.")
            return redirect(f"{reverse('accounts:backup_codes')}?next={_next_url(request)}")
    return render(
        request,
        "accounts/two_factor_setup.html",
        {
            "form": form,
            "qr_svg": services.totp_qr_svg(device=device),
            "secret": _grouped(device.key),
            "next": _next_url(request),
        },
    )


def _grouped(hex_key: str) -> str:

    secret = b32encode(bytes.fromhex(hex_key)).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_clinic_staff:
        raise Http404
    if user.is_verified():
        return redirect(_next_url(request))
    if not user_has_device(user):
        return redirect(f"{reverse('accounts:two_factor_setup')}?next={_next_url(request)}")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.token_verify(user=user, token=form.cleaned_data["token"])
        except DomainError as error:
            form.add_error("token", str(error))
        else:
            otp_login(request, device)
            if device.name == services.BACKUP_DEVICE_NAME:
                remaining = services.backup_codes_remaining(user=user)
                messages.warning(
                    request,
                    f"You used a backup code; {remaining} left. Make new ones from your account "
                    "page if you are running low.",
                )
            return redirect(_next_url(request))
    return render(
        request, "accounts/two_factor_verify.html", {"form": form, "next": _next_url(request)}
    )


@login_required
@require_http_methods(["GET", "POST"])
def backup_codes(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_clinic_staff:
        raise Http404
    if request.method == "POST":
        request.session[BACKUP_CODES_SESSION_KEY] = services.backup_codes_regenerate(user=user)
        messages.success(request, "New backup codes made; the old ones no longer work.")
        return redirect("accounts:backup_codes")
    codes = request.session.pop(BACKUP_CODES_SESSION_KEY, None)
    return render(
        request,
        "accounts/backup_codes.html",
        {
            "codes": codes,
            "remaining": services.backup_codes_remaining(user=user),
            "next": _next_url(request),
        },
    )


@login_required
def account(request: HttpRequest) -> HttpResponse:
    context = {"idle_minutes": settings_reader.current().idle_timeout_seconds // 60}
    if request.user.is_clinic_staff:
        context["backup_remaining"] = services.backup_codes_remaining(user=request.user)
    return render(request, "accounts/account.html", context)


password_change = auth_views.PasswordChangeView.as_view(
    template_name="accounts/password_change.html",
    success_url=reverse_lazy("accounts:password_change_done"),
)
password_change_done = auth_views.PasswordChangeDoneView.as_view(
    template_name="accounts/password_change_done.html"
)
password_reset = auth_views.PasswordResetView.as_view(
    form_class=ResetRequestForm,
    template_name="accounts/password_reset.html",
    email_template_name="accounts/email/password_reset.txt",
    subject_template_name="accounts/email/password_reset_subject.txt",
    success_url=reverse_lazy("accounts:password_reset_done"),
    extra_email_context={"site_name": settings.CLINIC_NAME},
)
password_reset_done = auth_views.PasswordResetDoneView.as_view(
    template_name="accounts/password_reset_done.html"
)
password_reset_confirm = auth_views.PasswordResetConfirmView.as_view(
    template_name="accounts/password_reset_confirm.html",
    success_url=reverse_lazy("accounts:password_reset_complete"),
)
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="accounts/password_reset_complete.html"
)
