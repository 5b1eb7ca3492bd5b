"""The access rows lose their single-column indexes on user and client (issue 13): the composite
(user, at, id) and (client, at, id) indexes of 0003 lead with the same columns and serve every
lookup, the foreign-key checks included; each index was one more write on every page view.

Only the indexes go: AlterField alone would also drop and re-add both foreign keys, which checks
every row of the trail (two million at N=10) while it blocks writes. On PostgreSQL they are
dropped CONCURRENTLY, so page views go on meanwhile; the migration is not atomic for it."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

COLUMNS = ("client_id", "user_id")


def _single_column_indexes(schema_editor, model):
    """The names of the plain indexes on exactly one of COLUMNS (not the composite ones)."""
    with schema_editor.connection.cursor() as cursor:
        found = schema_editor.connection.introspection.get_constraints(cursor, model._meta.db_table)
    return [
        name
        for name, info in found.items()
        if info["index"]
        and not info["primary_key"]
        and not info["unique"]
        and len(info["columns"]) == 1
        and info["columns"][0] in COLUMNS
    ]


def drop_indexes(apps, schema_editor):
    model = apps.get_model("audit", "AccessEvent")
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    for name in _single_column_indexes(schema_editor, model):
        schema_editor.execute(
            f"DROP INDEX {concurrently}IF EXISTS {schema_editor.quote_name(name)}", params=None
        )


def create_indexes(apps, schema_editor):
    model = apps.get_model("audit", "AccessEvent")
    for column in COLUMNS:
        name = schema_editor._create_index_name(model._meta.db_table, [column])
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {schema_editor.quote_name(name)} "
            f"ON {schema_editor.quote_name(model._meta.db_table)} ({column})",
            params=None,
        )


class Migration(migrations.Migration):
    atomic = False  # DROP INDEX CONCURRENTLY refuses to run in a transaction

    dependencies = [
        ("audit", "0003_trail_keyset_indexes"),
        ("patients", "0009_name_search_trigram_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="accessevent",
                    name="client",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="access_events",
                        to="patients.client",
                    ),
                ),
                migrations.AlterField(
                    model_name="accessevent",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="access_events",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            database_operations=[
                migrations.RunPython(drop_indexes, create_indexes, atomic=False),
            ],
        ),
    ]
