"""Restore a backup written by `manage.py backup` into the configured database, replacing what
is there. Stop the web server, worker and beat first.

- PostgreSQL: `pg_restore --clean --if-exists --no-owner --single-transaction` (all of it, or
  nothing). Run it as the owner role (the one that runs `migrate`), then `grant_app_role`.
- SQLite: SQLite's backup API, from the copy into the database file.

    python manage.py restore var/backups/kap-clinic-20261201-093000.dump --yes
"""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from kap_clinic.management.commands.backup import base_env, postgres_environment


class Command(BaseCommand):
    help = "Restore a backup made by `manage.py backup` (replaces the database's contents)."

    def add_arguments(self, parser):
        parser.add_argument("backup", help="the file `manage.py backup` wrote")
        parser.add_argument(
            "--yes", action="store_true", help="confirm: the database's contents are replaced"
        )

    def handle(self, *args, backup: str, yes: bool, **options):
        source = Path(backup)
        if not source.is_file():
            raise CommandError(f"No backup at {source}.")
        if not yes:
            raise CommandError("This replaces everything in the database. Add --yes to go on.")
        if connection.vendor == "postgresql":
            self._pg_restore(source)
        elif connection.vendor == "sqlite":
            connection.ensure_connection()
            with sqlite3.connect(source) as copy:
                copy.backup(connection.connection)
        else:
            raise CommandError(f"No restore for a {connection.vendor} database.")
        self.stdout.write(f"Restored {source}.")

    def _pg_restore(self, source: Path) -> None:
        database = connection.settings_dict
        args, env = postgres_environment(database)
        connection.close()  # pg_restore drops and recreates the tables this connection holds
        command = [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            *args,
            "--dbname",
            database["NAME"],
            str(source),
        ]
        result = subprocess.run(
            command, env={**base_env(), **env}, capture_output=True, text=True, check=False
        )
        if result.returncode:
            raise CommandError(f"pg_restore failed: {result.stderr.strip()}")
