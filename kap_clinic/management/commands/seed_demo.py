"""Demo clinic for `make run`: an admin, two therapists and their clients. Idempotent: running it
again updates the same people instead of adding more. Never run against a real clinic's data."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import Role, User
from patients.models import Client, ClientShare

DEMO_PASSWORD = "kap-demo-2026"
DEMO_DOMAIN = "demo.kapclinic.test"

STAFF = [
    ("admin", "Alex", "Morgan", Role.ADMIN),
    ("rivera", "Sam", "Rivera", Role.THERAPIST),
    ("chen", "Jordan", "Chen", Role.THERAPIST),
]

# (first, last, date of birth, therapist login, portal login?, stage in words)
CLIENTS = [
    ("Maya", "Patel", date(1988, 3, 14), "rivera", True, "new client, intake in progress"),
    ("Daniel", "Okafor", date(1979, 11, 2), "rivera", True, "referred to the prescriber"),
    ("Lena", "Hoffmann", date(1992, 6, 30), "rivera", False, "in preparation sessions"),
    ("Marcus", "Bell", date(1985, 1, 19), "rivera", False, "in the dosing phase"),
    ("Priya", "Shah", date(1990, 9, 8), "chen", True, "course complete"),
    ("Tom", "Nguyen", date(1975, 4, 25), "chen", False, "course on hold"),
]


def demo_email(login: str) -> str:
    return f"{login}@{DEMO_DOMAIN}"


class Command(BaseCommand):
    help = "Create (or refresh) the demo clinic and print its logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Run even when DEBUG is off (not for real data)."
        )

    @transaction.atomic
    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo is for demo installations; pass --force to run it.")
        staff = {login: self._user(login, first, last, role) for login, first, last, role in STAFF}
        for first, last, born, therapist, portal, _stage in CLIENTS:
            login = first.lower()
            client, _ = Client.objects.update_or_create(
                email=demo_email(login),
                archived_at__isnull=True,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "date_of_birth": born,
                    "phone": "+1 555 0100",
                    "primary_therapist": staff[therapist],
                },
            )
            if portal and client.user_id is None:
                client.user = self._user(login, first, last, Role.CLIENT)
                client.save(update_fields=["user"])
        # Cover while Jordan Chen is away: one of Sam Rivera's clients is shared with them.
        shared = Client.objects.get(email=demo_email("marcus"), archived_at__isnull=True)
        ClientShare.objects.get_or_create(
            client=shared,
            therapist=staff["chen"],
            revoked_at__isnull=True,
            defaults={"granted_by": staff["admin"], "reason": "Holiday cover"},
        )
        self._print_logins()

    def _user(self, login: str, first: str, last: str, role: str) -> User:
        user, created = User.objects.get_or_create(
            email=demo_email(login),
            defaults={"first_name": first, "last_name": last, "role": role},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        return user

    def _print_logins(self) -> None:
        out = self.stdout
        out.write(self.style.SUCCESS("Demo clinic ready. Sign in at http://127.0.0.1:8000/"))
        out.write(f"Password for every demo account: {DEMO_PASSWORD}")
        out.write("Staff must set up two-factor sign-in with an authenticator app on first login.")
        for login, first, last, role in STAFF:
            out.write(f"  {role.label:<10} {first + ' ' + last:<16} {demo_email(login)}")
        for first, last, _born, _t, portal, stage in CLIENTS:
            if portal:
                name = f"{first} {last}"
                out.write(f"  {'Client':<10} {name:<16} {demo_email(first.lower())}  ({stage})")
