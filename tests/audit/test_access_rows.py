"""audit.services.access_record_ids: R22's access rows for many clients in one statement (the CSV
export, every list page), with each column as the ORM would have written it."""

from datetime import timedelta
from ipaddress import ip_address

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AccessEvent
from audit.services import access_record_ids
from tests import factories


def test_one_row_per_client_in_one_statement(db):
    viewer = factories.AdminFactory()
    clients = factories.ClientFactory.create_batch(3)
    ids = [c.pk for c in clients]
    before = timezone.now()

    with CaptureQueriesContext(connection) as queries:
        written = access_record_ids(
            user_id=viewer.pk,
            client_ids=[*ids, ids[0]],  # a client twice: one row
            page="CSV export",
            path="/dashboard/export.csv?" + "q" * 600,
            method="GET",
            ip_address="203.0.113.7",
        )

    assert written == 3
    assert len(queries) == 1
    rows = list(AccessEvent.objects.filter(user=viewer).order_by("id"))
    assert [row.client_id for row in rows] == ids  # in the order given
    for row in rows:
        assert row.page == "CSV export"
        assert row.method == "GET"
        assert len(row.path) == 500
        assert row.path.startswith("/dashboard/export.csv?q")
        assert ip_address(row.ip_address) == ip_address("203.0.113.7")
        assert before <= row.at <= timezone.now() + timedelta(seconds=1)


def test_no_clients_no_statement(db):
    viewer = factories.TherapistFactory()
    with CaptureQueriesContext(connection) as queries:
        written = access_record_ids(
            user_id=viewer.pk,
            client_ids=[],
            page="Client list",
            path="/",
            method="GET",
            ip_address=None,
        )
    assert written == 0
    assert len(queries) == 0


def test_without_an_address(db):
    viewer = factories.TherapistFactory()
    client = factories.ClientFactory(primary_therapist=viewer)
    access_record_ids(
        user_id=viewer.pk,
        client_ids=[client.pk],
        page="Calendar",
        path="/calendar/",
        method="GET",
        ip_address=None,
    )
    assert AccessEvent.objects.get(user=viewer).ip_address is None
