"""R20 safety alerts: PHQ-9 item 9 ≥ 1 alerts the client's therapists at once, by an in-app
alert and an e-mail without clinical detail (R25), sent exactly once; acknowledged in the app."""

from __future__ import annotations

import smtplib
import time
from datetime import UTC, datetime

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kap_clinic.celery import app
from outbox.models import MessageKind, OutboxMessage
from patients.models import Alert
from patients.questionnaires import services
from tests import factories
from tests.conftest import sign_in
from tests.outbox_helpers import send_outbox
from tests.patients.questionnaire_helpers import PHQ9_CALM, PHQ9_ITEM9, eager_celery, submit

pytestmark = pytest.mark.django_db
__all__ = ["eager_celery"]  # the fixture, imported for this module's tests
ALERTS = reverse("patients:alerts:alert_list")


@pytest.fixture
def care_team(client_record, therapist, admin_user):
    """The client's primary therapist, a colleague it is shared with, and one whose share was
    revoked."""
    shared = factories.TherapistFactory(first_name="Kim", last_name="Shared")
    revoked = factories.TherapistFactory(first_name="Lee", last_name="Revoked")
    factories.ClientShareFactory(client=client_record, therapist=shared, granted_by=admin_user)
    factories.ClientShareFactory(
        client=client_record, therapist=revoked, granted_by=admin_user, revoked_at=timezone.now()
    )
    return {"primary": therapist, "shared": shared, "revoked": revoked}


def test_item9_alerts_the_primary_and_shared_therapists_at_once(
    client_record, care_team, other_therapist
):
    response = submit(client_record, "phq9", PHQ9_ITEM9)
    alerts = Alert.objects.order_by("recipient_id")
    assert {alert.recipient for alert in alerts} == {care_team["primary"], care_team["shared"]}
    for alert in alerts:
        assert alert.kind == Alert.Kind.PHQ9_ITEM9
        assert alert.client == client_record
        assert alert.response == response
        assert alert.acknowledged_at is None


@pytest.mark.parametrize("answers", [PHQ9_CALM, [3, 3, 3, 3, 3, 3, 3, 3, 0]])
def test_no_alert_when_item9_is_0_whatever_the_total(client_record, care_team, answers):
    submit(client_record, "phq9", answers)
    assert not Alert.objects.exists()


def test_the_email_is_sent_once_and_says_nothing_clinical(client_record, care_team):
    submit(client_record, "phq9", PHQ9_ITEM9, base_url="https://clinic.example")
    # Saved with the answers, one outbox row per recipient; nothing sent inside the request.
    assert mail.outbox == []
    rows = OutboxMessage.objects.filter(kind=MessageKind.SAFETY_ALERT)
    assert sorted(rows.values_list("to", flat=True)) == sorted(
        [care_team["primary"].email, care_team["shared"].email]
    )
    assert all(alert.message_id for alert in Alert.objects.all())
    assert send_outbox().sent == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [care_team["primary"].email, care_team["shared"].email]
    )
    assert all(alert.email_sent_at for alert in Alert.objects.all())

    # A second run, a redelivered task or a second worker: nothing is due, nothing is sent.
    assert send_outbox().claimed == 0
    assert len(mail.outbox) == 2

    message = mail.outbox[0]
    assert message.subject == f"New item to review in {settings.CLINIC_NAME}"
    assert "https://clinic.example/clients/alerts/" in message.body
    text = (message.subject + "\n" + message.body).lower()
    for secret in (
        client_record.first_name,
        client_record.last_name,
        client_record.initials,
        "12",  # the total
        "moderate",
        "phq",
        "item 9",
        "ketamine",
        "suicid",
        "self-harm",
        "hurting",
    ):
        assert secret.lower() not in text, secret


def test_the_alert_and_its_email_commit_together_or_not_at_all(client_record, care_team):
    """The e-mail is a row in the answers' transaction: no broker in the way (it used to be a
    task queued after commit, lost when the broker was down)."""

    def submit_then_fail() -> None:
        with transaction.atomic():
            submit(client_record, "phq9", PHQ9_ITEM9)
            assert OutboxMessage.objects.count() == 2
            raise RuntimeError("the request failed after the answers were saved")

    with pytest.raises(RuntimeError):
        submit_then_fail()
    assert not Alert.objects.exists()
    assert not OutboxMessage.objects.exists()


class GreylistingBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise smtplib.SMTPRecipientsRefused({"sam@example.org": (451, b"greylisted, try later")})


class RefusedRecipientBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise smtplib.SMTPRecipientsRefused({"sam@example.org": (550, b"no such user")})


def test_greylisting_at_rcpt_is_retried_like_a_reminder(client_record, therapist, settings):
    # A 451 at RCPT was "permanent" for the alert (transient for reminders): the alert e-mail was
    # dropped. One rule and one dispatcher for every message: a 4xx is retried.
    submit(client_record, "phq9", PHQ9_ITEM9)
    alert = Alert.objects.get()
    settings.EMAIL_BACKEND = "tests.patients.test_alerts.GreylistingBackend"
    assert send_outbox().retried == 1
    alert.refresh_from_db()
    assert alert.email_sent_at is None
    assert "deferred: 451" in alert.message.last_error
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert send_outbox(now=alert.message.not_before).sent == 1
    alert.refresh_from_db()
    assert alert.email_sent_at is not None
    assert len(mail.outbox) == 1


def test_a_recipient_refused_with_a_5xx_fails_with_the_reason(client_record, therapist, settings):
    submit(client_record, "phq9", PHQ9_ITEM9)
    settings.EMAIL_BACKEND = "tests.patients.test_alerts.RefusedRecipientBackend"
    assert send_outbox().failed == 1
    alert = Alert.objects.get()
    assert alert.email_sent_at is None
    assert (alert.message.status, alert.message.last_error) == (
        "failed",
        "The address was refused: 550",
    )
    # The alert itself stays in the app whatever happened to its e-mail (R20).
    assert alert.acknowledged_at is None


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_alert_email_once(redis_url, client_record, therapist):
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        submit(client_record, "phq9", PHQ9_ITEM9)  # commits: the dispatcher is kicked on Redis
        deadline = time.monotonic() + 20
        while not mail.outbox:
            assert time.monotonic() < deadline, "the worker did not send within 20 s"
            time.sleep(0.2)
    (message,) = mail.outbox
    assert message.to == [therapist.email]
    assert Alert.objects.get().email_sent_at is not None


# --- Acknowledging ------------------------------------------------------------------------------


def test_the_recipient_acknowledges_on_the_alerts_page(client, client_record, care_team):
    submit(client_record, "phq9", PHQ9_ITEM9)
    mine = Alert.objects.get(recipient=care_team["primary"])
    sign_in(client, care_team["primary"])
    page = client.get(ALERTS).content.decode()
    assert "Maya Patel: PHQ-9 item 9" in page
    assert "item 9 answered 1 of 3" in page
    response = client.post(reverse("patients:alerts:alert_acknowledge", args=[mine.pk]))
    assert response["Location"] == ALERTS
    mine.refresh_from_db()
    assert mine.acknowledged_by == care_team["primary"]
    assert mine.acknowledged_at
    # The colleague's own alert stays open: each recipient acknowledges their own.
    assert Alert.objects.get(recipient=care_team["shared"]).acknowledged_at is None
    page = client.get(ALERTS).content.decode()
    assert "No open safety alerts." in page
    assert "Recently acknowledged" in page


def test_acknowledge_rules(client, client_record, care_team, other_therapist, admin_user):
    submit(client_record, "phq9", PHQ9_ITEM9)
    primary_alert = Alert.objects.get(recipient=care_team["primary"])
    # Not addressed to them: the shared therapist may not acknowledge the primary's alert.
    with pytest.raises(services.QuestionnaireError, match="another therapist"):
        services.alert_acknowledge(alert=primary_alert, by=care_team["shared"])
    # An outsider cannot see it at all: 404.
    sign_in(client, other_therapist)
    url = reverse("patients:alerts:alert_acknowledge", args=[primary_alert.pk])
    assert client.post(url).status_code == 404
    with pytest.raises(services.QuestionnaireError, match="cannot acknowledge"):
        services.alert_acknowledge(alert=primary_alert, by=other_therapist)
    # An admin may acknowledge any alert; twice is refused.
    services.alert_acknowledge(alert=primary_alert, by=admin_user)
    with pytest.raises(services.QuestionnaireError, match="already acknowledged"):
        services.alert_acknowledge(alert=primary_alert, by=care_team["primary"])


def test_acknowledge_returns_to_a_safe_next_page_only(client, client_record, therapist):
    submit(client_record, "phq9", PHQ9_ITEM9)
    alert = Alert.objects.get()
    sign_in(client, therapist)
    url = reverse("patients:alerts:alert_acknowledge", args=[alert.pk])
    response = client.post(url, {"next": "https://evil.example/"})
    assert response["Location"] == ALERTS
    assert client.get(url).status_code == 405


def test_who_sees_which_alerts(client, client_record, care_team, other_therapist, admin_user):
    submit(client_record, "phq9", PHQ9_ITEM9)
    for user, count in [
        (care_team["primary"], 1),
        (care_team["shared"], 1),
        (care_team["revoked"], 0),
        (other_therapist, 0),
        (admin_user, 2),  # every open alert in the clinic
    ]:
        client.logout()
        sign_in(client, user)
        response = client.get(ALERTS)
        assert response.status_code == 200
        assert response.content.decode().count('action="/clients/alerts/') == count, user
        assert response.context.get("open_alert_count", 0) == count


def test_a_revoked_share_hides_the_alert_too(client, client_record, care_team):
    submit(client_record, "phq9", PHQ9_ITEM9)
    care_team["shared"].shared_clients.update(revoked_at=timezone.now())
    sign_in(client, care_team["shared"])
    assert "No open safety alerts." in client.get(ALERTS).content.decode()


# --- The banner ---------------------------------------------------------------------------------


def test_the_banner_shows_on_staff_pages(client, client_record, therapist):
    submit(client_record, "phq9", PHQ9_ITEM9)
    sign_in(client, therapist)
    page = client.get(reverse("patients:client_list")).content.decode()
    assert "1 safety alert needs your attention." in page
    assert "Review alert</a>" in page
    # Not repeated on the alerts page itself.
    assert "needs your attention" not in client.get(ALERTS).content.decode()


def test_the_banner_is_nothing_for_clients_and_unverified_staff(client, client_record, therapist):
    submit(client_record, "phq9", PHQ9_ITEM9)
    sign_in(client, client_record.user)
    response = client.get(reverse("portal:home"))
    assert "open_alert_count" not in response.context
    client.logout()
    sign_in(client, therapist, verified=False)
    response = client.get(reverse("accounts:two_factor_setup"))
    assert "open_alert_count" not in response.context
    assert "safety alert" not in response.content.decode()


def test_the_banner_costs_one_count_query(client, client_record, therapist):
    submit(client_record, "phq9", PHQ9_ITEM9)
    sign_in(client, therapist)
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("accounts:account"))
    alert_queries = [q["sql"] for q in queries if "patients_alert" in q["sql"]]
    assert len(alert_queries) == 1
    assert "COUNT(" in alert_queries[0].upper()


# --- Query counts -------------------------------------------------------------------------------


def _alerts_for(therapist, n: int) -> None:
    for _ in range(n):
        record = factories.ClientFactory(
            primary_therapist=therapist, user=factories.ClientUserFactory()
        )
        submit(record, "phq9", PHQ9_ITEM9)
        alert = Alert.objects.filter(client=record).first()
        services.alert_acknowledge(alert=alert, by=therapist)
        submit(record, "phq9", PHQ9_ITEM9, by=therapist)


@pytest.mark.parametrize("role", ["therapist", "admin"])
def test_alerts_page_query_count_is_constant(client, therapist, admin_user, role):
    user = therapist if role == "therapist" else admin_user
    sign_in(client, user)
    _alerts_for(therapist, 2)
    with CaptureQueriesContext(connection) as small:
        assert client.get(ALERTS).status_code == 200
    _alerts_for(therapist, 6)
    with CaptureQueriesContext(connection) as large:
        response = client.get(ALERTS)
    assert response.content.decode().count("Acknowledge<span") == 8
    assert len(small) == len(large), [q["sql"] for q in large]
    print(f"alerts page ({role}): {len(large)} queries")


def test_the_alerts_page_writes_times_as_every_other_page_does(client, client_record, therapist):
    # 23:36 UTC on Mar 5, 2026 is 6:36 PM in the clinic's zone (New York, standard time): the page
    # said "Mar 5, 23:36" (24-hour) where every other page says "6:36 PM".
    open_alert = Alert.objects.create(
        kind=Alert.Kind.PHQ9_ITEM9, client=client_record, recipient=therapist
    )
    done = Alert.objects.create(
        kind=Alert.Kind.PHQ9_ITEM9,
        client=client_record,
        recipient=therapist,
        acknowledged_by=therapist,
        acknowledged_at=datetime(2026, 3, 6, 14, 5, tzinfo=UTC),
    )
    raised = datetime(2026, 3, 5, 23, 36, tzinfo=UTC)
    Alert.objects.filter(pk__in=[open_alert.pk, done.pk]).update(created_at=raised)
    sign_in(client, therapist)
    page = client.get(ALERTS).content.decode()
    assert "Raised Mar 5, 6:36 PM" in page
    assert "Mar 6, 9:05 AM by Sam Rivera" in page
    assert "23:36" not in page
    assert "18:36" not in page


def test_the_banner_says_more_than_the_cap_when_the_count_stopped_there(rf, therapist):
    """The navbar's counts stop at kap_clinic.listing.COUNT_CAP + 1 (staff_badges): the banner
    says "10,000+", not the number the count stopped at."""
    request = rf.get("/clients/")
    request.user = therapist
    request.resolver_match = None
    banner = render_to_string(
        "partials/alerts_banner.html", {"open_alert_count": 10_001, "request": request}
    )
    assert "10,000+ safety alerts need your attention." in banner
    assert "10001" not in banner
