"""R22 audit controls: views and changes of client records are recorded and cannot be rewritten."""

from datetime import UTC, datetime

import pytest
import time_machine
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent, AppendOnlyError
from audit.services import client_ip
from tests import factories
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


def test_opening_a_client_record_writes_an_access_row(client, therapist, client_record):
    sign_in(client, therapist)
    url = reverse("patients:client_detail", kwargs={"client_id": client_record.pk})
    client.get(url, REMOTE_ADDR="203.0.113.7")
    event = AccessEvent.objects.get()
    assert event.user == therapist
    assert event.client == client_record
    assert event.page == "Client record"
    assert event.path == url
    assert event.ip_address == "203.0.113.7"
    assert event.at is not None


def test_refused_view_writes_no_access_row(client, other_therapist, client_record):
    sign_in(client, other_therapist)
    client.get(reverse("patients:client_detail", kwargs={"client_id": client_record.pk}))
    assert not AccessEvent.objects.exists()


def test_client_viewing_their_portal_is_logged_too(client, client_record):
    sign_in(client, client_record.user)
    client.get(reverse("portal:home"))
    assert AccessEvent.objects.get().user == client_record.user


def test_a_change_writes_a_change_row_with_actor_and_client(client, therapist, client_record):
    with set_actor(therapist):
        client_record.phone = "+1 555 0199"
        client_record.save()
    entry = (
        LogEntry.objects.get_for_object(client_record).filter(action=LogEntry.Action.UPDATE).get()
    )
    assert entry.actor == therapist
    assert entry.changes_dict["phone"] == ["+1 555 0100", "+1 555 0199"]
    assert entry.additional_data == {"client_id": client_record.pk}


def test_creating_a_share_is_logged_against_the_client(client_record, other_therapist, admin_user):
    factories.ClientShareFactory(
        client=client_record, therapist=other_therapist, granted_by=admin_user
    )
    assert (
        LogEntry.objects.filter(
            additional_data__client_id=client_record.pk, action=LogEntry.Action.CREATE
        ).count()
        == 2
    )  # the client itself, then the share


def test_access_rows_refuse_update_and_delete(client, therapist, client_record):
    sign_in(client, therapist)
    client.get(reverse("patients:client_detail", kwargs={"client_id": client_record.pk}))
    event = AccessEvent.objects.get()
    event.page = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigger exists on PostgreSQL only")
@pytest.mark.parametrize("table", ["audit_accessevent", "auditlog_logentry"])
def test_postgres_refuses_raw_rewrites_of_audit_rows(table, client, therapist, client_record):
    sign_in(client, therapist)
    client.get(reverse("patients:client_detail", kwargs={"client_id": client_record.pk}))
    for statement in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)


class TestAuditBrowser:
    url = reverse("audit:audit_log")

    def _views(self, client, therapist, clients):
        for record in clients:
            client.get(reverse("patients:client_detail", kwargs={"client_id": record.pk}))

    def test_admin_filters_views_by_user_client_and_date(self, client, admin_user, therapist):
        mine = factories.ClientFactory.create_batch(2, primary_therapist=therapist)
        sign_in(client, therapist)
        self._views(client, therapist, mine)
        client.logout()
        sign_in(client, admin_user)
        response = client.get(self.url, {"client": mine[0].pk})
        assert [e.client for e in response.context["trail"].page.rows] == [mine[0]]
        # Looking at one client's trail is itself a view of that client's record (R22).
        response = client.get(self.url, {"user": admin_user.pk})
        assert [(e.page, e.client) for e in response.context["trail"].page.rows] == [
            ("Audit trail", mine[0])
        ]
        today = timezone.localdate(AccessEvent.objects.first().at).isoformat()  # clinic time
        response = client.get(self.url, {"date_from": today, "date_to": today})
        assert response.context["trail"].count == 3
        assert "3 entries, newest first." in response.content.decode()
        response = client.get(self.url, {"date_from": "2001-01-01", "date_to": "2001-01-02"})
        assert response.context["trail"].count == 0

    def test_bad_date_range_explains_itself(self, client, admin_user):
        sign_in(client, admin_user)
        response = client.get(self.url, {"date_from": "2026-02-01", "date_to": "2026-01-01"})
        assert "The end date must be on or after the start date." in response.content.decode()

    def test_changes_tab_filters_by_client(self, client, admin_user, therapist):
        _first, second = factories.ClientFactory.create_batch(2, primary_therapist=therapist)
        sign_in(client, admin_user)
        response = client.get(self.url, {"kind": "changes", "client": second.pk})
        entries = response.context["trail"].page.rows
        assert [e.object_pk for e in entries] == [str(second.pk)]
        assert "Create" in response.content.decode()

    def test_changes_read_as_words_not_ids(self, client, admin_user, therapist):
        record = factories.ClientFactory(primary_therapist=therapist, first_name="Rosa")

        with set_actor(admin_user):
            record.archived_at = timezone.now()
            record.archived_reason = "Moved away"
            record.save()
        sign_in(client, admin_user)
        body = client.get(self.url, {"kind": "changes", "client": record.pk}).content.decode()
        assert "Primary therapist</strong>: Sam Rivera" in body  # a name, not an id
        assert "Archived reason</strong>: (empty) → Moved away" in body
        # reverse relations hidden
        assert "Shares" not in body
        assert "Access_events" not in body
        assert "<strong>Id</strong>" not in body
        assert "<strong>id</strong>" not in body

    def test_times_are_clinic_time_12_hour_in_every_column(self, client, admin_user, therapist):
        # auditlog writes a datetime change in UTC without a zone ("2026-03-05 23:36:00"); it was
        # shown as such beside the clinic-time "When" column, and both were 24-hour.
        record = factories.ClientFactory(primary_therapist=therapist, first_name="Rosa")
        # The trail is append-only (a PostgreSQL trigger refuses an UPDATE): the rows are written
        # at the wanted moments instead of moved there.
        moment = datetime(2026, 3, 5, 23, 36, 9, tzinfo=UTC)
        with time_machine.travel(moment, tick=False), set_actor(admin_user):
            record.archived_at = datetime(2026, 3, 5, 23, 36, tzinfo=UTC)
            record.archived_reason = "Moved away"
            record.save()
        sign_in(client, admin_user)
        body = client.get(self.url, {"kind": "changes", "client": record.pk}).content.decode()
        assert "Archived at</strong>: (empty) → Mar 5, 2026, 6:36 PM" in body
        assert "Mar 5, 2026, 6:36:09 PM" in body  # When: the seconds order events in a minute
        assert "Times are clinic time (America/New_York)." in body
        assert "23:36" not in body
        assert "18:36" not in body
        with time_machine.travel(datetime(2026, 3, 6, 14, 5, 1, tzinfo=UTC), tick=False):
            sign_in(client, admin_user)
            client.get(reverse("patients:client_detail", kwargs={"client_id": record.pk}))
        sign_in(client, admin_user)
        body = client.get(self.url, {"kind": "views"}).content.decode()
        assert "Mar 6, 2026, 9:05:01 AM" in body
        assert "14:05" not in body

    def test_no_way_to_edit_or_delete_through_the_app(self, client, admin_user):
        sign_in(client, admin_user)
        assert client.post(self.url).status_code == 405

    @pytest.mark.parametrize("kind", ["views", "changes"])
    def test_query_count_does_not_grow_with_the_trail(self, client, admin_user, therapist, kind):
        def count_queries():
            with CaptureQueriesContext(connection) as queries:
                assert client.get(self.url, {"kind": kind}).status_code == 200
            return len(queries)

        sign_in(client, therapist)
        self._views(
            client, therapist, factories.ClientFactory.create_batch(3, primary_therapist=therapist)
        )
        client.logout()
        sign_in(client, admin_user)
        small = count_queries()
        client.logout()
        sign_in(client, therapist)
        self._views(
            client, therapist, factories.ClientFactory.create_batch(30, primary_therapist=therapist)
        )
        client.logout()
        sign_in(client, admin_user)
        assert count_queries() == small


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "198.51.100.9", "10.0.0.2"),  # no trusted proxy: the header is ignored (forgeable)
        (1, "198.51.100.9", "198.51.100.9"),
        (1, "203.0.113.66, 198.51.100.9", "198.51.100.9"),  # forged first hop ignored
        (2, "198.51.100.9, 10.0.0.7", "198.51.100.9"),
    ],
)
def test_client_address_behind_trusted_proxies(rf, settings, proxies, forwarded, expected):
    settings.PROXY_COUNT = proxies
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected
