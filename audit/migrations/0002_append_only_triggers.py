"""R22 integrity: on PostgreSQL the database itself refuses UPDATE and DELETE on audit rows, so
no code path (a bug, a shell session using the app's connection) can rewrite history.
SQLite (the `make run` default) relies on the model guards in audit/models.py."""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION kap_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit rows are append-only: % on % refused', TG_OP, TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
"""
TABLES = ["audit_accessevent", "auditlog_logentry"]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION, params=None)
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION kap_audit_append_only();",
            params=None,
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};", None)
    schema_editor.execute("DROP FUNCTION IF EXISTS kap_audit_append_only();", None)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        ("auditlog", "0017_add_actor_email"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
