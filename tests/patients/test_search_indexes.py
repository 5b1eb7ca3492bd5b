"""The name searches (the client list's search box, the audit trail's Who and Client fields) are
served by trigram indexes on PostgreSQL (patients migration 0009): the plan of a search reads the
index, not every client. Needs PostgreSQL; on SQLite the migration creates nothing."""

from __future__ import annotations

import pytest
from django.db import connection

from patients.clients import selectors
from patients.models import Client
from tests import factories

pytestmark = pytest.mark.django_db

pg_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL indexes")


@pg_only
def test_every_searched_column_has_its_trigram_index():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE '%%_trgm_idx'")
        names = {name for (name,) in cursor.fetchall()}
    assert names == {
        f"patients_client_{c}_trgm_idx"
        for c in ("first_name", "last_name", "preferred_name", "email", "phone_digits")
    } | {f"accounts_user_{c}_trgm_idx" for c in ("first_name", "last_name", "email")}


@pg_only
@pytest.mark.parametrize(
    ("lookup", "index"),
    [
        ({"first_name__icontains": "maya"}, "patients_client_first_name_trgm_idx"),
        ({"email__icontains": "MAYA@"}, "patients_client_email_trgm_idx"),
        ({"phone_digits__contains": "5550"}, "patients_client_phone_digits_trgm_idx"),
    ],
)
def test_the_lookups_the_searches_write_match_the_indexes(admin_user, lookup, index):
    """The index expression must be the one the ORM writes for the lookup (UPPER(col::text) for
    icontains), or PostgreSQL never uses it. The table is tiny here, so sequential scans are
    turned off for the plan: an index that matches is then taken, one that does not is not."""
    factories.ClientFactory(first_name="Maya", last_name="Patel", email="maya@example.org")
    queryset = Client.objects.filter(**lookup).values("pk")
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(line for (line,) in cursor.fetchall())
    assert index in plan, plan
    assert queryset.count() == 1
    assert [c.first_name for c in selectors.client_list(user=admin_user, search="maya")] == ["Maya"]
