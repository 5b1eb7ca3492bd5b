"""Indexes for the audit browser's keyset pagination (issue 13): every page of the trail, filtered
or not, is read newest first by (time, id) and stops after one page of rows. Without them the
newest 50 of two million rows meant sorting all two million.

- Access views (our table): (at, id), (client, at, id), (user, at, id). The last two replace
  (client, at) and (user, at), which they serve as well (same leading columns); (at, id) replaces
  the single-column index on ``at``.
- Changes (django-auditlog's LogEntry, a third-party table whose app we cannot give a migration):
  (timestamp, id), (actor, timestamp, id) and (client id in additional_data, timestamp, id),
  created here in raw SQL on PostgreSQL only. The client expression is the one the ORM writes for
  ``additional_data__client_id=...`` (``additional_data -> 'client_id'``), so the planner matches
  it. SQLite (``make run``'s demo clinic) is small and goes without.

Every page view writes an access row, so a CREATE INDEX that locks out writes would stall the
whole app while it runs (about 35 s at the N=10 size on a 2-core machine: 2,000,000 access rows,
500,000 changes). On PostgreSQL the indexes are therefore built and dropped CONCURRENTLY, which
cannot run in a transaction: the migration is not atomic. If it is interrupted, PostgreSQL may
leave an invalid index behind; the LogEntry ones are dropped and rebuilt on the next run, one of
the AccessEvent ones must be dropped by hand (DROP INDEX name) before migrating again.
"""

from django.db import migrations, models

from kap_clinic.migration_operations import AddIndexWithoutBlocking, RemoveIndexWithoutBlocking

LOGENTRY_INDEXES = {
    "audit_logentry_at_id_idx": '("timestamp" DESC, id DESC)',
    "audit_logentry_actor_at_id_idx": '(actor_id, "timestamp" DESC, id DESC)',
    "audit_logentry_client_at_id_idx": "((additional_data -> 'client_id'), \"timestamp\" DESC, id DESC)",
}


def logentry_indexes_create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE NOT i.indisvalid AND c.relname = ANY(%s)",
            [list(LOGENTRY_INDEXES)],
        )
        invalid = [name for (name,) in cursor.fetchall()]
    for name in invalid:  # left by an interrupted run: IF NOT EXISTS would keep it
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}", params=None)
    for name, columns in LOGENTRY_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON auditlog_logentry {columns}",
            params=None,
        )


def logentry_indexes_drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in LOGENTRY_INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}", params=None)


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY refuses to run in a transaction

    dependencies = [
        ("audit", "0002_append_only_triggers"),
        ("auditlog", "0017_add_actor_email"),
    ]

    operations = [
        AddIndexWithoutBlocking(
            model_name="accessevent",
            index=models.Index(fields=["-at", "-id"], name="audit_access_at_id_idx"),
        ),
        AddIndexWithoutBlocking(
            model_name="accessevent",
            index=models.Index(
                fields=["client", "-at", "-id"], name="audit_access_client_at_id_idx"
            ),
        ),
        AddIndexWithoutBlocking(
            model_name="accessevent",
            index=models.Index(fields=["user", "-at", "-id"], name="audit_access_user_at_id_idx"),
        ),
        RemoveIndexWithoutBlocking(model_name="accessevent", name="audit_acces_client__64ad25_idx"),
        RemoveIndexWithoutBlocking(model_name="accessevent", name="audit_acces_user_id_b4739b_idx"),
        migrations.AlterField(
            model_name="accessevent",
            name="at",
            field=models.DateTimeField(auto_now_add=True),
        ),
        migrations.RunPython(logentry_indexes_create, logentry_indexes_drop, atomic=False),
    ]
