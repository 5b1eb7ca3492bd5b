"""R22: changes to accounts are audited like clinical data: who changed whose role, who reset
whose two-factor sign-in. Secrets and sign-in bookkeeping are never copied into the trail."""

from auditlog.registry import auditlog
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User

auditlog.register(User, exclude_fields=["password", "last_login"])
auditlog.register(
    TOTPDevice,
    include_fields=["user", "name", "confirmed"],
)
auditlog.register(StaticDevice, include_fields=["user", "name", "confirmed"])
