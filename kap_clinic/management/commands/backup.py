"""A consistent copy of the whole database (R24: records kept, never lost): every client, course,
session, reading and audit row.

- PostgreSQL: `pg_dump --format=custom` (one consistent snapshot, taken while the app runs).
- SQLite (`make run`): SQLite's online backup, a consistent copy even while the app writes.

    python manage.py backup                      # var/backups/kap-clinic-YYYYmmdd-HHMMSS.<ext>
    python manage.py backup --output /mnt/backups/clinic.dump

The file holds health records: keep it encrypted and off the server (README, Backups).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone


def postgres_environment(database: dict) -> tuple[list[str], dict[str, str]]:
    """libpq arguments and environment for ``database`` (a DATABASES entry)."""
    args = [
        "--host",
        database.get("HOST") or "localhost",
        "--port",
        str(database.get("PORT") or 5432),
    ]
    if database.get("USER"):
        args += ["--username", database["USER"]]
    env = {"PGPASSWORD": database["PASSWORD"]} if database.get("PASSWORD") else {}
    return args, env


def base_env() -> dict[str, str]:
    """The environment a libpq tool needs (not the app's secrets)."""
    return {key: value for key, value in os.environ.items() if key in ("PATH", "HOME", "LANG")}


class Command(BaseCommand):
    help = "Write a consistent backup of the database (pg_dump, or SQLite's online backup)."

    def add_arguments(self, parser):
        parser.add_argument("--output", help="the file to write (default: var/backups/...)")

    def handle(self, *args, output: str | None, **options):
        vendor = connection.vendor
        if vendor not in ("postgresql", "sqlite"):
            raise CommandError(f"No backup for a {vendor} database.")
        suffix = ".dump" if vendor == "postgresql" else ".sqlite3"
        if output:
            target = Path(output)
        else:
            stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
            target = Path(settings.BASE_DIR) / "var" / "backups" / f"kap-clinic-{stamp}{suffix}"
        target.parent.mkdir(parents=True, exist_ok=True)
        if vendor == "postgresql":
            self._pg_dump(target)
        else:
            self._sqlite_backup(target)
        self.stdout.write(f"Backup written: {target} ({target.stat().st_size:,} bytes)")

    def _pg_dump(self, target: Path) -> None:
        database = connection.settings_dict
        args, env = postgres_environment(database)
        command = ["pg_dump", "--format=custom", "--file", str(target), *args, database["NAME"]]
        result = subprocess.run(
            command, env={**base_env(), **env}, capture_output=True, text=True, check=False
        )
        if result.returncode:
            raise CommandError(f"pg_dump failed: {result.stderr.strip()}")

    def _sqlite_backup(self, target: Path) -> None:
        connection.ensure_connection()
        with sqlite3.connect(target) as copy:
            connection.connection.backup(copy)
