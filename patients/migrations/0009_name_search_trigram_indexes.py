"""Trigram indexes for the name searches (issue 13): the client list's search box and the audit
trail's "Who" and "Client" fields look for any part of a name or an e-mail address in any case
(``icontains``, which PostgreSQL runs as ``UPPER(column::text) LIKE UPPER('%word%')``). A B-tree
cannot serve a pattern that starts with a wildcard, so each search read every client (415 ms over
50,000 clients); a GIN index of the same expression with trigram operators finds the matches
directly (about 1 ms). PostgreSQL only: SQLite (``make run``'s demo clinic) is small and goes
without. pg_trgm ships with PostgreSQL and is a trusted extension, so the database's owner (who
runs the migrations) may create it.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

# table: {column: the indexed expression, as the ORM writes the lookup}
INDEXES = {
    "patients_client": {
        "first_name": "UPPER(first_name::text)",
        "last_name": "UPPER(last_name::text)",
        "preferred_name": "UPPER(preferred_name::text)",
        "email": "UPPER(email::text)",
        # Three digits or more of a phone number: ``contains`` (the digits have no case).
        "phone_digits": "phone_digits::text",
    },
    "accounts_user": {
        "first_name": "UPPER(first_name::text)",
        "last_name": "UPPER(last_name::text)",
        "email": "UPPER(email::text)",
    },
}


def _name(table: str, column: str) -> str:
    return f"{table}_{column}_trgm_idx"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, columns in INDEXES.items():
        for column, expression in columns.items():
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {_name(table, column)} ON {table} "
                f"USING gin (({expression}) gin_trgm_ops)"
            )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, columns in INDEXES.items():
        for column in columns:
            schema_editor.execute(f"DROP INDEX IF EXISTS {_name(table, column)}")


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0008_prescription_routes_separate"),
        ("accounts", "0001_initial"),
    ]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create, drop, elidable=False),
    ]
