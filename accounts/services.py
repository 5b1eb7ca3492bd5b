"""Two-factor enrolment for staff (R22: person authentication)."""

from __future__ import annotations

import io
from datetime import timedelta

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role, User
from kap_clinic.errors import DomainError
from outbox.models import MessageKind
from outbox.services import message_queue

BACKUP_CODE_COUNT = 10
AUTHENTICATOR_NAME = "Authenticator app"
BACKUP_DEVICE_NAME = "Backup codes"


class TwoFactorError(DomainError):
    pass


def totp_device_pending(*, user: User) -> TOTPDevice:
    """The not-yet-confirmed authenticator for ``user``: the same secret on every reload of the
    enrolment page, so a code scanned a minute ago still works."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    return device


def totp_qr_svg(*, device: TOTPDevice) -> str:
    """The otpauth:// URL as inline SVG, drawn here: no QR service ever sees the secret."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()


def totp_device_confirm(*, user: User, device: TOTPDevice, token: str) -> list[str]:
    """Confirm the authenticator with a code from it; returns fresh backup codes to show once."""
    if device.user_id != user.pk or device.confirmed:
        raise TwoFactorError("This enrolment is no longer valid. Reload the page to start again.")
    allowed, _reason = device.verify_is_allowed()
    if not allowed:
        raise TwoFactorError(THROTTLED)
    if not device.verify_token(token.replace(" ", "")):
        raise TwoFactorError(
            "That code did not match. Check that your phone's clock is right and enter the "
            "6-digit code currently shown in your authenticator app."
        )
    # Outside the transaction above: a wrong code's throttling count must survive the refusal.
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return backup_codes_regenerate(user=user)


@transaction.atomic
def backup_codes_regenerate(*, user: User) -> list[str]:
    """Replace all backup codes of ``user`` with new single-use ones."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=BACKUP_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


THROTTLED = (
    "Too many wrong codes in a row. Wait a few seconds, then enter the code currently shown in "
    "your app."
)


def _is_authenticator_code(token: str) -> bool:
    # Authenticator codes are 6 digits; backup codes are 8 letters and digits. Sending each code
    # only to its own kind of device keeps a backup code from counting as a wrong authenticator
    # code (which would make django-otp throttle the next real one).
    return len(token) == 6 and token.isdigit()


def token_verify(*, user: User, token: str) -> Device:
    """The device that accepts ``token`` (authenticator or backup code), or a TwoFactorError that
    says why not. django-otp slows guessing down after each wrong code (doubling waits)."""
    token = token.replace(" ", "").strip()
    model = TOTPDevice if _is_authenticator_code(token) else StaticDevice
    devices = list(model.objects.filter(user=user, confirmed=True))
    for device in devices:
        allowed, _reason = device.verify_is_allowed()
        if not allowed:
            raise TwoFactorError(THROTTLED)
    for device in devices:
        if device.verify_token(token):
            return device
    raise TwoFactorError(
        "That code did not work. Codes change every 30 seconds: enter the one shown now, "
        "or use one of your backup codes."
    )


def backup_codes_remaining(*, user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


# --- Staff management (admins). Users are never deleted (R24): deactivated instead.


def staff_invite(
    *, by: User, first_name: str, last_name: str, email: str, role: str, base_url: str
) -> User:
    """Create a staff account without a password and e-mail a link to choose one."""
    if not by.is_admin:
        raise PermissionError("Only admins add staff.")
    if role not in (Role.ADMIN, Role.THERAPIST):
        raise ValueError("Staff are admins or therapists.")
    with transaction.atomic():
        user = User(first_name=first_name, last_name=last_name, email=email.lower(), role=role)
        user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
        _set_password_message(user=user, base_url=base_url, by=by)
    return user


def _set_password_message(*, user: User, base_url: str, by: User) -> None:
    """The link to choose a password, in the outbox (retried through a mail outage while the
    link is valid; its text is blanked once sent)."""
    link = base_url + reverse(
        "accounts:password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    context = {"user": user, "link": link, "clinic": settings.CLINIC_NAME}
    message_queue(
        kind=MessageKind.STAFF_INVITE,
        to=user.email,
        subject=f"Your {settings.CLINIC_NAME} account",
        text=render_to_string("accounts/email/staff_invite.txt", context),
        secret=True,
        expires_at=timezone.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT),
        created_by=by,
    )


def password_reset_queue(*, to: str, subject: str, text: str) -> None:
    """A password-reset e-mail (Django's text, with its link) in the outbox, retried while the
    link is valid; blanked once sent."""
    message_queue(
        kind=MessageKind.PASSWORD_RESET,
        to=to,
        subject=subject,
        text=text,
        secret=True,
        expires_at=timezone.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT),
    )


@transaction.atomic
def staff_update(
    *, by: User, user: User, first_name: str, last_name: str, role: str, is_active: bool
) -> User:
    if not by.is_admin:
        raise PermissionError("Only admins change staff accounts.")
    if user.pk == by.pk and (not is_active or role != Role.ADMIN):
        raise StaffError("You cannot deactivate yourself or remove your own admin role.")
    user.first_name, user.last_name, user.role, user.is_active = (
        first_name,
        last_name,
        role,
        is_active,
    )
    user.save(update_fields=["first_name", "last_name", "role", "is_active"])
    return user


@transaction.atomic
def two_factor_reset(*, by: User, user: User) -> None:
    """A lost phone: remove the authenticator and backup codes; the person enrols again at their
    next sign-in. Recorded in the audit trail (the devices are registered with auditlog)."""
    if not by.is_admin:
        raise PermissionError("Only admins reset two-factor sign-in.")
    for device in [*TOTPDevice.objects.filter(user=user), *StaticDevice.objects.filter(user=user)]:
        device.delete()


class StaffError(DomainError):
    pass
