"""The Outbox page: what every e-mail became (due, sent, failed with the reason, cancelled) and
"Send again", by role; an access row naming the clients shown (R22); a fixed number of queries
whatever the outbox's size."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent
from integration.models import ReminderStatus
from outbox.models import MessageKind, MessageStatus, OutboxMessage
from tests import factories
from tests.factories_integration import planned_dose, shape

pytestmark = pytest.mark.django_db
LIST = reverse("outbox:list")


def words(response) -> str:
    text = html.unescape(response.content.decode())
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)).strip()


def message(client=None, *, status=MessageStatus.PENDING, to="someone@example.org", **fields):
    now = timezone.now()
    values = {
        "kind": MessageKind.PORTAL_INVITATION if client else MessageKind.STAFF_INVITE,
        "client": client,
        "to": to,
        "subject": "Your client portal",
        "text": "Hello",
        "message_id": f"<{OutboxMessage.objects.count()}-{now.timestamp()}@example.org>",
        "not_before": now,
        "expires_at": now + timedelta(days=7),
        "status": status,
    }
    if status == MessageStatus.FAILED:
        values |= {"last_error": "The address was refused: 550", "attempts": 1}
    if status == MessageStatus.SENT:
        values |= {"sent_at": now, "attempts": 1}
    return OutboxMessage.objects.create(**(values | fields))


@pytest.fixture
def outbox(client_record, therapist, other_therapist):
    theirs = factories.ClientFactory(primary_therapist=other_therapist, last_name="Elsewhere")
    return {
        "mine_failed": message(client_record, status=MessageStatus.FAILED, to=client_record.email),
        "mine_sent": message(client_record, status=MessageStatus.SENT),
        "theirs": message(theirs, to="else@example.org"),
        "staff": message(None, to="new.admin@example.org"),
        "to_me": message(None, kind=MessageKind.PASSWORD_RESET, to=therapist.email),
    }


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(LIST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_client_gets_404(as_user, client_record, outbox):
    assert as_user(client_record.user).get(LIST).status_code == 404


def test_a_therapist_sees_their_caseload_and_their_own_messages(as_user, therapist, outbox):
    page = words(as_user(therapist).get(LIST))
    assert outbox["mine_failed"].to in page
    assert "The e-mail was not sent: The address was refused: 550" in page
    assert therapist.email in page  # their own password reset
    assert "else@example.org" not in page  # another therapist's client
    assert "new.admin@example.org" not in page  # a staff invitation: admins only
    assert "All 3 Due 1 Sending 0 Sent 1 Failed 1 Cancelled 0" in page
    assert "Hello" not in page  # never the text


def test_an_admin_sees_every_message_and_filters_by_status(as_user, admin_user, outbox):
    web = as_user(admin_user)
    page = words(web.get(LIST))
    for address in (outbox["mine_failed"].to, "else@example.org", "new.admin@example.org"):
        assert address in page
    failed = words(web.get(LIST, {"status": "failed"}))
    assert "Messages: failed" in failed
    assert outbox["mine_failed"].to in failed
    assert "else@example.org" not in failed
    assert "No message is “Cancelled” now." in words(web.get(LIST, {"status": "cancelled"}))


def test_the_page_writes_one_access_row_naming_the_clients_shown(
    as_user, therapist, client_record, outbox
):
    as_user(therapist).get(LIST)
    (event,) = AccessEvent.objects.filter(page="Outbox")
    assert event.client_id == client_record.pk
    assert event.user == therapist


def test_send_again_by_role(client, as_user, therapist, other_therapist, admin_user, outbox):
    failed = outbox["mine_failed"]
    url = reverse("outbox:resend", kwargs={"message_id": failed.pk})
    assert as_user(other_therapist).post(url).status_code == 404
    failed.refresh_from_db()
    assert failed.status == MessageStatus.FAILED
    response = as_user(therapist).post(url, {"next": LIST + "?status=failed"}, follow=True)
    assert f"The message to {failed.to} will be sent again within a minute." in words(response)
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.last_error) == ("pending", 0, "")
    # Twice: refused with the reason, queued once.
    again = words(as_user(therapist).post(url, follow=True))
    assert "This message is due: only a failed message can be sent again." in again


def test_an_invitation_to_an_address_since_corrected_is_not_sent_again(
    as_user, therapist, client_record
):
    failed = message(client_record, status=MessageStatus.FAILED, to="old@example.org")
    url = reverse("outbox:resend", kwargs={"message_id": failed.pk})
    page = words(as_user(therapist).post(url, follow=True))
    assert "The client's e-mail address has changed since this invitation" in page
    failed.refresh_from_db()
    assert failed.status == MessageStatus.FAILED


def test_a_staff_message_is_sent_again_by_an_admin_only(as_user, therapist, admin_user):
    failed = message(None, status=MessageStatus.FAILED, to=therapist.email)
    url = reverse("outbox:resend", kwargs={"message_id": failed.pk})
    page = words(as_user(therapist).post(url, follow=True))
    assert "Only an admin can send this message again." in page
    as_user(admin_user).post(url)
    failed.refresh_from_db()
    assert failed.status == MessageStatus.PENDING


def test_send_again_of_a_reminder_goes_through_its_plan_row(as_user, therapist, client_record):
    _dose, rows = planned_dose(client_record)
    reminder = shape(rows["1"], ReminderStatus.FAILED)
    url = reverse("outbox:resend", kwargs={"message_id": reminder.outbox_message_id})
    as_user(therapist).post(url)
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.SENDING  # the Reminders page follows
    assert reminder.outbox_message.status == MessageStatus.PENDING


@pytest.mark.parametrize("role", ["therapist", "admin"])
def test_query_count_is_the_same_at_two_sizes(as_user, therapist, admin_user, client_record, role):
    web = as_user(therapist if role == "therapist" else admin_user)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert web.get(LIST).status_code == 200
        return len(captured)

    for _ in range(3):
        message(factories.ClientFactory(primary_therapist=therapist))
    small = queries()
    for _ in range(40):
        message(factories.ClientFactory(primary_therapist=therapist), status=MessageStatus.SENT)
    assert queries() == small
