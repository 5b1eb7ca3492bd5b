"""A broker outage (Redis down) delays e-mail and never loses it: the message is a row written
with the change, and the beat's dispatcher finds it once the broker is back. Real Redis, a real
Celery worker, a real SMTP server, the real database.

Items 1 and 10 of the delivery-under-faults issue: the PHQ-9 item-9 alert e-mail was a task
queued after commit, lost when the broker was down (the error was logged and swallowed); a
portal invitation sent while the mail server was down answered 500 after its commit."""

from __future__ import annotations

import contextlib
import re
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.urls import reverse

from kap_clinic.celery import app
from outbox.models import MessageKind, OutboxMessage
from outbox.tasks import dispatch_due
from patients.models import Alert, PortalInvitation
from tests import factories
from tests.conftest import sign_in
from tests.integration.delivery_helpers import SmtpSink, free_port, use_sink
from tests.patients.questionnaire_helpers import PHQ9_ITEM9, submit

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@contextlib.contextmanager
def broker_down():
    """Point the app's producers at a port nothing listens on, as when Redis is down."""
    url = app.conf.broker_url
    app.conf.broker_url = f"redis://127.0.0.1:{free_port()}/0"
    app._pool = None
    app.amqp._producer_pool = None
    try:
        yield
    finally:
        app.conf.broker_url = url
        app._pool = None
        app.amqp._producer_pool = None


def recover_and_tick(sink, count: int) -> None:
    """The broker is back: a worker runs, the beat's next minute tick queues the dispatcher."""
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        dispatch_due.delay()
        deadline = time.monotonic() + 20
        while sink.count < count:
            assert time.monotonic() < deadline, f"{sink.count} of {count} e-mails after recovery"
            time.sleep(0.1)
        time.sleep(0.3)  # anything extra would arrive now


def test_the_item9_alert_email_survives_a_broker_outage(redis_url, sink, client_record):
    therapist = client_record.primary_therapist
    with broker_down():
        submit(client_record, "phq9", PHQ9_ITEM9)  # commits; the kick to the dispatcher fails
    alert = Alert.objects.get()
    assert alert.message.status == "pending"
    assert sink.count == 0
    recover_and_tick(sink, 1)
    (received,) = sink.received
    assert received.recipients == (therapist.email,)
    assert received.message_id == alert.message.message_id
    alert.refresh_from_db()
    assert alert.email_sent_at is not None
    assert not sink.duplicates()


def test_an_invitation_with_the_broker_and_the_mail_server_down(
    redis_url, settings, client, therapist
):
    record = factories.ClientFactory(primary_therapist=therapist, email="rosa@example.org")
    sign_in(client, therapist)
    settings.EMAIL_PORT = free_port()  # and no mail server either
    url = reverse("patients:invitation_send", kwargs={"client_id": record.pk})
    with broker_down():
        response = client.post(url, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "it will be e-mailed within a minute" in page
    assert 'data-delivery="pending"' in page
    invitation = PortalInvitation.objects.get()
    assert invitation.message.kind == MessageKind.PORTAL_INVITATION
    # The mail server comes back with the broker.
    server = SmtpSink()
    try:
        use_sink(settings, server.port)
        recover_and_tick(server, 1)
        (received,) = server.received
        assert received.recipients == ("rosa@example.org",)
        assert re.search(r"/welcome/\S+/", received.text)
    finally:
        server.stop()
    assert OutboxMessage.objects.get().status == "sent"
    page = client.get(reverse("patients:client_detail", kwargs={"client_id": record.pk}))
    assert 'data-delivery="sent"' in page.content.decode()
