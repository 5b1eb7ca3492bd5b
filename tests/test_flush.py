"""The flush after each transactional test (tests/flush.py) leaves every table empty, the
append-only audit trail included, as Django's TRUNCATE of every table does."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.core.management import call_command
from django.db import connection

from audit.models import AccessEvent
from tests.factories_sessions import dose_given, dosing_ready_session

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the flush with DELETE is on PostgreSQL"
    ),
    pytest.mark.django_db(transaction=True),
]


def _tables_with_rows() -> set[str]:
    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    found = set()
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {connection.ops.quote_name(table)})")
            if cursor.fetchone()[0]:
                found.add(table)
    return found


def test_the_flush_empties_every_table():
    session = dosing_ready_session()
    dose_given(session)
    AccessEvent.objects.create(
        user=session.therapist, client=session.client, page="client", path="/", method="GET"
    )
    assert LogEntry.objects.exists()
    assert AccessEvent.objects.exists()
    assert len(_tables_with_rows()) > 10

    call_command("flush", interactive=False, verbosity=0)

    # What the post_migrate signal writes again after any flush.
    assert _tables_with_rows() <= {"django_content_type", "auth_permission"}
