"""A cheaper flush after each transactional test (browser tests, real workers), on PostgreSQL.

Django empties every table after a transactional test with one ``TRUNCATE`` of all ~80 tables:
PostgreSQL gives each one new files, about 0.6 s a test here whatever the test wrote (most write
to a dozen tables with a few rows each). This empties the same tables with ``DELETE`` instead
(next to nothing on an empty table), so every table is empty afterwards, as before:

- foreign keys: Django creates them ``DEFERRABLE INITIALLY DEFERRED``, so they are checked at the
  flush's commit, when every table is empty; if any is not deferrable, the plain TRUNCATE is used;
- tables whose own triggers refuse DELETE (the append-only audit trail, audit/migrations/0002)
  are truncated, with every table that references them (two tables: a few ms);
- sequences are not reset, by either (reset_sequences keeps Django's statement).
"""

from __future__ import annotations

from django.db.backends.postgresql.operations import DatabaseOperations

_TRUNCATE_ALL = DatabaseOperations.sql_flush

# Tables with a user trigger on DELETE (tgtype bit 8), and foreign keys: referenced, referencing,
# deferrable.
_DELETE_TRIGGERS = """
    SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    WHERE NOT t.tgisinternal AND t.tgtype & 8 = 8 AND pg_table_is_visible(c.oid)
"""
_FOREIGN_KEYS = """
    SELECT confrelid::regclass::text, conrelid::regclass::text, condeferrable
    FROM pg_constraint WHERE contype = 'f'
"""


def _referencing_closure(start: set[str], foreign_keys) -> set[str]:
    """``start`` and every table that references one of them, transitively (TRUNCATE needs them
    in the same statement)."""
    closure = set(start)
    grew = True
    while grew:
        grew = False
        for referenced, referencing, _deferrable in foreign_keys:
            if referenced.strip('"') in closure and referencing.strip('"') not in closure:
                closure.add(referencing.strip('"'))
                grew = True
    return closure


def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
    if not tables or reset_sequences or allow_cascade:
        return _TRUNCATE_ALL(
            self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
    with self.connection.cursor() as cursor:
        cursor.execute(_FOREIGN_KEYS)
        foreign_keys = cursor.fetchall()
        if not all(deferrable for _referenced, _referencing, deferrable in foreign_keys):
            return _TRUNCATE_ALL(self, style, tables)
        cursor.execute(_DELETE_TRIGGERS)
        guarded = {row[0] for row in cursor.fetchall()}
    truncate = _referencing_closure(guarded & set(tables), foreign_keys) & set(tables)
    quoted = {table: self.quote_name(table) for table in tables}
    # The lock waits, as TRUNCATE does, for any other connection still writing (a thread or a
    # worker a test left behind), so what it commits is deleted too, not left for the next test.
    return [
        "SET CONSTRAINTS ALL DEFERRED;",
        f"LOCK TABLE {', '.join(quoted.values())} IN ACCESS EXCLUSIVE MODE;",
        *(f"DELETE FROM {quoted[table]};" for table in sorted(set(tables) - truncate)),
        *(_TRUNCATE_ALL(self, style, sorted(truncate)) if truncate else []),
    ]


def install() -> None:
    DatabaseOperations.sql_flush = sql_flush
