from __future__ import annotations

import factory
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role, User
from patients.models import Client, ClientShare

PASSWORD = "correct-horse-battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    role = Role.THERAPIST
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save(update_fields=["password"])


class AdminFactory(UserFactory):
    role = Role.ADMIN


class TherapistFactory(UserFactory):
    role = Role.THERAPIST


class ClientUserFactory(UserFactory):
    role = Role.CLIENT


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"client{n}@example.org")
    phone = "+1 555 0100"
    primary_therapist = factory.SubFactory(TherapistFactory)


class ClientShareFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClientShare

    client = factory.SubFactory(ClientFactory)
    therapist = factory.SubFactory(TherapistFactory)
    granted_by = factory.SubFactory(AdminFactory)
    reason = "Holiday cover"


def totp_device(user: User) -> TOTPDevice:
    """A confirmed authenticator for ``user`` (staff who already enrolled)."""
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def totp_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def backup_code(user: User) -> str:
    device, _ = StaticDevice.objects.get_or_create(user=user, name="Backup codes")
    return StaticToken.objects.create(device=device, token=StaticToken.random_token()).token
