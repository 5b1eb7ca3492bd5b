"""Demo clinic for `make run` (kap_clinic/demo.py). Idempotent: running it again finds the same
people instead of adding more. Never run against a real clinic's data."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from demo import seed as demo


class Command(BaseCommand):
    help = "Create (or refresh) the demo clinic and print its logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Run even when DEBUG is off (not for real data)."
        )

    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo is for demo installations; pass --force to run it.")
        with transaction.atomic():
            demo.build()
        self._print_logins()

    def _print_logins(self) -> None:
        out = self.stdout
        out.write(self.style.SUCCESS(f"Demo clinic ready. Sign in at {demo.site_url()}/"))
        out.write(f"Password for every demo account: {demo.DEMO_PASSWORD}")
        out.write("Staff set up two-factor sign-in with an authenticator app on first sign-in.")
        for login, first, last, role in demo.STAFF:
            out.write(f"  {role.label:<10} {first + ' ' + last:<16} {login}@{demo.DEMO_DOMAIN}")
        for spec in demo.CLIENTS:
            if spec.portal:
                name = f"{spec.first} {spec.last}"
                email = f"{spec.first.lower()}@{demo.DEMO_DOMAIN}"
                out.write(f"  {'Client':<10} {name:<16} {email}  ({spec.stage})")
