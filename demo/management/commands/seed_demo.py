"""Demo clinic for `make run` (kap_clinic/demo.py). Idempotent: running it again finds the same
people instead of adding more. Never run against a real clinic's data.

With ``--scale N`` it also generates a whole clinic group for benchmarks (demo.scale): N=1 is 50
therapists, 5,000 clients and 100,000 sessions. PostgreSQL only; once per database."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from demo import scale as scale_seed
from demo import seed as demo


class Command(BaseCommand):
    help = "Create (or refresh) the demo clinic and print its logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Run even when DEBUG is off (not for real data)."
        )
        parser.add_argument(
            "--scale",
            type=float,
            default=None,
            help="Also generate a clinic group of N x (50 therapists, 5,000 clients, 100,000 "
            "sessions); fractions work (0.02). PostgreSQL, once per database.",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=scale_seed.SEED,
            help="Random seed of the generated group (the same seed gives the same data).",
        )

    def handle(self, *args, force: bool = False, scale=None, seed=scale_seed.SEED, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo is for demo installations; pass --force to run it.")
        if scale is None:
            with transaction.atomic():
                demo.build()
        else:
            try:
                log = self.stdout.write if options.get("verbosity", 1) >= 2 else None
                result = scale_seed.build(scale, seed=seed, log=log)
            except scale_seed.ScaleError as error:
                raise CommandError(str(error)) from error
            self._print_counts(result)
        self._print_logins()

    def _print_counts(self, result) -> None:
        out = self.stdout
        plan = result.plan
        out.write(
            self.style.SUCCESS(
                f"Generated a clinic group at scale {plan.scale:g}: {plan.therapists} therapists, "
                f"{plan.clients} clients, {plan.courses} courses planned."
            )
        )
        for table, count in sorted(result.counts.items()):
            out.write(f"  {table:<40} {count:>10,}")
        out.write(f"Took {result.seconds:.1f} s.")

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
        out.write(
            "Ruth Alvarez's reminder for her next session is in the worker's output (the console "
            "e-mail): open its first link to answer it, sign in as Ruth to prepare her dosing "
            "day, then see both on Sam Rivera's calendar."
        )
