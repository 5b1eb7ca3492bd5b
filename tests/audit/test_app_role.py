"""R22 integrity on PostgreSQL: the role the app runs as (manage.py grant_app_role) can read and
append to the audit trail but cannot change it, empty it or switch its guards off; the owner that
runs the migrations could. Each statement is tried under SET ROLE, as the app's connection."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from audit.models import AccessEvent

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="roles and privileges are PostgreSQL's"
    ),
]
ROLE = "kap_app_under_test"
AUDIT_TABLES = ["audit_accessevent", "auditlog_logentry"]


@pytest.fixture
def as_app_role(client_record):
    # CREATE ROLE is transactional: the test's rollback removes the role and its grants.
    call_command("grant_app_role", ROLE)
    AccessEvent.objects.create(user=client_record.primary_therapist, client=client_record, page="x")
    with connection.cursor() as cursor:
        cursor.execute(f"SET ROLE {ROLE}")
        try:
            yield cursor
        finally:
            cursor.execute("RESET ROLE")


def _refused(cursor, statement: str) -> str:
    with pytest.raises(DatabaseError) as error, transaction.atomic():
        cursor.execute(statement)
    return str(error.value)


@pytest.mark.parametrize("table", AUDIT_TABLES)
@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        ("UPDATE {table} SET id = id", "permission denied"),
        ("DELETE FROM {table}", "permission denied"),
        ("TRUNCATE {table}", "permission denied"),
        ("ALTER TABLE {table} DISABLE TRIGGER ALL", "must be owner"),
    ],
)
def test_the_app_role_cannot_change_or_empty_the_audit_trail(
    as_app_role, table, statement, refusal
):
    assert refusal in _refused(as_app_role, statement.format(table=table))


def test_the_app_role_reads_and_appends_to_the_audit_trail(as_app_role, client_record):
    as_app_role.execute("SELECT count(*) FROM audit_accessevent")
    assert as_app_role.fetchone()[0] == 1
    as_app_role.execute(
        "INSERT INTO audit_accessevent (at, user_id, client_id, page, path, method) "
        "VALUES (now(), %s, %s, 'Client record', '/', 'GET')",
        [client_record.primary_therapist_id, client_record.pk],
    )
    as_app_role.execute("SELECT count(*) FROM audit_accessevent")
    assert as_app_role.fetchone()[0] == 2


def test_the_app_role_works_the_clinical_tables(as_app_role, client_record):
    as_app_role.execute(
        "UPDATE patients_client SET preferred_name = 'M' WHERE id = %s", [client_record.pk]
    )
    assert as_app_role.rowcount == 1


def test_it_owns_nothing(as_app_role):
    as_app_role.execute(
        "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = %s", [ROLE]
    )
    assert as_app_role.fetchone()[0] == 0


def test_the_owner_could_switch_the_guard_off_which_is_why_the_app_is_not_the_owner():
    # What the separate role protects against: the migrating owner can disable the trigger.
    with connection.cursor() as cursor, transaction.atomic():
        cursor.execute("ALTER TABLE audit_accessevent DISABLE TRIGGER ALL")
        cursor.execute("ALTER TABLE audit_accessevent ENABLE TRIGGER ALL")
