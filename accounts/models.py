"""Users: one table for staff (admins, therapists) and clients, told apart by ``role``.

People sign in with their e-mail address. Users are never deleted (R24): they are deactivated.
"""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    THERAPIST = "therapist", "Therapist"
    CLIENT = "client", "Client"


STAFF_ROLES = (Role.ADMIN, Role.THERAPIST)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str) -> User:
        # Sign-in is case-insensitive on the e-mail address.
        return self.get(email__iexact=username)

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.setdefault("role", Role.ADMIN)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField("e-mail address", max_length=254, unique=True)
    first_name = models.CharField(max_length=150)
    last_name = models.CharField(max_length=150)
    role = models.CharField(max_length=16, choices=Role.choices)
    is_active = models.BooleanField(
        default=True, help_text="Unticked instead of deleting the account (R24)."
    )
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["first_name", "last_name", "role"]

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_unique_ci"),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="user_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.email.strip().lower()

    def save(self, *args, **kwargs) -> None:
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_therapist(self) -> bool:
        return self.role == Role.THERAPIST

    @property
    def is_client(self) -> bool:
        return self.role == Role.CLIENT

    @property
    def is_clinic_staff(self) -> bool:
        """Admins and therapists: the people who must use two-factor sign-in (R22)."""
        return self.role in STAFF_ROLES

    @property
    def is_staff(self) -> bool:
        # Django's own admin site is not mounted; this keeps third-party checks meaningful.
        return self.is_admin
