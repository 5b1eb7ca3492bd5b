"""The database role the web and worker processes run as: it owns nothing (R22, integrity).

The role that runs the migrations owns every table, and an owner can always TRUNCATE a table or
ALTER TABLE ... DISABLE TRIGGER, which would defeat the append-only audit trail. So production
runs two roles: the owner, for `migrate` and this command, and an application role made here,
with only the privileges the app needs: read and write the clinical tables, insert into the two
audit tables (audit_accessevent, auditlog_logentry) and nothing else on them. Run it as the owner
after every `migrate` (new tables get their grants); it is idempotent.

    python manage.py grant_app_role kap_app --password-env APP_POSTGRES_PASSWORD
"""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from psycopg import sql

AUDIT_TABLES = ("audit_accessevent", "auditlog_logentry")


class Command(BaseCommand):
    help = "Create or update the PostgreSQL role the app runs as (owns nothing; audit insert-only)."

    def add_arguments(self, parser):
        parser.add_argument("role", help="name of the application role, e.g. kap_app")
        parser.add_argument(
            "--password-env",
            help="environment variable holding the role's password (the role can then sign in)",
        )

    def handle(self, *args, role: str, password_env: str | None, **options):
        if connection.vendor != "postgresql":
            raise CommandError("grant_app_role is for PostgreSQL (SQLite has no roles).")
        password = os.environ.get(password_env, "") if password_env else ""
        if password_env and not password:
            raise CommandError(f"{password_env} is empty.")
        name = sql.Identifier(role)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(name))
            if password:
                cursor.execute(
                    sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(name, sql.Literal(password))
                )
            database = sql.Identifier(connection.settings_dict["NAME"])
            statements = [
                sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(database, name),
                sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(name),
                sql.SQL(
                    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}"
                ).format(name),
                sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(name),
                # The audit trail: read and append, never change or empty (R22).
                *(
                    sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE ON {} FROM {}").format(
                        sql.Identifier(table), name
                    )
                    for table in AUDIT_TABLES
                ),
            ]
            for statement in statements:
                cursor.execute(statement)
        self.stdout.write(
            f"Role {role}: reads and writes the app's tables, appends to the audit trail, owns "
            "nothing."
        )
