"""The one dispatcher of every e-mail (outbox/dispatch.py), against a real SMTP server (aiosmtpd on
a free port) and the real database: the answers of a mail server, an outage, our own faults.

Each fault names the item of the delivery-under-faults issue it closes. Every test asserts per
message: delivered, and how many copies (by Message-ID)."""

from __future__ import annotations

import signal
import threading
from datetime import timedelta

import pytest
import time_machine
from celery.exceptions import SoftTimeLimitExceeded
from django.db import connection, connections
from django.utils import timezone

from outbox import dispatch
from outbox.models import MessageKind, MessageStatus, OutboxMessage
from outbox.services import OutboxError, message_queue, message_resend
from tests.integration.delivery_helpers import SmtpSink, free_port, use_sink

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def queued(count: int = 1, *, hours: float = 12, kind=MessageKind.INTEGRATION_REMINDER, **fields):
    """``count`` messages due now, of use for ``hours``."""
    now = timezone.now()
    return [
        message_queue(
            kind=kind,
            to=f"client{n}@example.org",
            subject="A reminder",
            text=f"Hello {n}",
            expires_at=now + timedelta(hours=hours),
            **fields,
        ).pk
        for n in range(count)
    ]


def row(pk: int) -> OutboxMessage:
    return OutboxMessage.objects.get(pk=pk)


# --- The mail server's answers: one rule for every message (kap_clinic.mail) ---------------------


def test_a_batch_goes_over_one_smtp_connection(sink):
    """Item 6: one connect and one QUIT per batch (it was one of each per message, which put a
    QUIT round-trip inside the window between acceptance and marking)."""
    ids = queued(20)
    assert dispatch.dispatch_due().sent == 20
    assert (sink.ehlos, sink.quits, sink.count) == (1, 1, 20)
    assert not sink.duplicates()
    assert {row(pk).message_id for pk in ids} == set(sink.message_ids())


def test_a_550_reply_fails_at_once_with_the_reason(sink):
    sink.reply = "550 5.7.1 Message rejected"
    [pk] = queued()
    assert dispatch.dispatch_due().failed == 1
    message = row(pk)
    assert (message.status, message.attempts) == (MessageStatus.FAILED, 1)
    assert "550" in message.last_error
    assert "Message rejected" in message.last_error
    assert dispatch.dispatch_due(now=timezone.now() + timedelta(hours=1)).claimed == 0
    assert sink.attempts == 1


def test_a_refused_recipient_fails_at_once(sink):
    sink.rcpt_reply = "550 5.1.1 No such user here"
    [pk] = queued()
    assert dispatch.dispatch_due().failed == 1
    assert row(pk).last_error == "The address was refused: 550"
    assert sink.attempts == 0


def test_greylisting_451_then_ok_is_sent_once(sink):
    """Item 2: a 451 at RCPT is a later attempt for every message, not a failure."""
    sink.rcpt_reply = "451 4.7.1 Greylisted, please try again later"
    [pk] = queued(kind=MessageKind.SAFETY_ALERT)
    assert dispatch.dispatch_due().retried == 1
    message = row(pk)
    assert (message.status, message.last_error) == ("pending", "The address was deferred: 451")
    sink.rcpt_reply = None
    assert dispatch.dispatch_due(now=message.not_before).sent == 1
    assert sink.message_ids() == [message.message_id]


def test_the_first_retry_is_one_backoff_after_the_failure_and_the_next_tick_takes_it(settings):
    """Item 9: the wait counts from the failure, and a tick a few seconds early (the beat's
    jitter) takes it: 60 s, not 120."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.OUTBOX_RETRY_SECONDS = 60
    with time_machine.travel(timezone.now(), tick=False) as clock:
        [pk] = queued()
        clock.shift(2)  # the failure comes 2 s into the batch
        failed_at = timezone.now()
        assert dispatch.dispatch_due(now=failed_at - timedelta(seconds=2)).retried == 1
        message = row(pk)
        assert message.not_before == failed_at + timedelta(seconds=60)
        assert "ConnectionRefusedError" in message.last_error
        # The next minute tick, counted from the batch start: 58 s after the failure.
        clock.shift(58)
        assert dispatch.dispatch_due().retried == 1
        assert row(pk).attempts == 2


def test_a_30_minute_mail_outage_delays_the_messages_and_fails_none(settings):
    """Item 4: retried with a capped backoff (1, 2, 4, 8, 15, 15 ... minutes) for as long as the
    message is of use; when the server is back, each goes once. It used to fail every due
    reminder after 5 attempts in about 15 minutes."""
    dead = free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", dead, 2
    with time_machine.travel(timezone.now(), tick=False) as clock:
        start = timezone.now()
        ids = queued(5)
        waits = []
        while timezone.now() - start < timedelta(minutes=30):  # the beat, every minute
            before = timezone.now()
            result = dispatch.dispatch_due()
            assert result.failed == 0
            if result.retried:
                waits.append(round((row(ids[0]).not_before - before).total_seconds()))
            clock.shift(60)
        assert waits == [60, 120, 240, 480, 900]
        assert {row(pk).status for pk in ids} == {"pending"}
        server = SmtpSink()
        try:
            use_sink(settings, server.port)
            clock.move_to(row(ids[0]).not_before)
            assert dispatch.dispatch_due().sent == 5
            assert server.count == 5
            assert not server.duplicates()
        finally:
            server.stop()


def test_a_message_given_up_at_its_expiry_fails_saying_why(settings):
    """Failed means "will not be sent", with a reason a person can act on; a text with a sign-in
    link is not kept after."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    with time_machine.travel(timezone.now(), tick=False) as clock:
        [pk] = queued(hours=0.04, secret=True)  # of use for 2.4 minutes
        assert dispatch.dispatch_due().retried == 1
        clock.shift(60)
        assert dispatch.dispatch_due().failed == 1  # the next try would be after the expiry
        message = row(pk)
        assert message.status == MessageStatus.FAILED
        assert message.last_error.startswith("Not sent: the mail server did not take it before ")
        assert "ConnectionRefusedError" in message.last_error
        assert message.text == ""
        with pytest.raises(OutboxError, match="link is no longer kept"):
            message_resend(message=message, by=None)
        clock.shift(120)
        with pytest.raises(OutboxError, match="Too late"):
            message_resend(message=message, by=None)


def test_a_server_that_takes_data_then_drops_the_connection(sink):
    """The message was recorded; the sender never heard "250": it is tried again with the same
    Message-ID (at most one extra copy), and the next message starts on a new connection."""
    ids = queued(3)
    sink.drop_after_data = True
    result = dispatch.dispatch_due()
    assert result.retried == 3
    sink.drop_after_data = False
    later = max(row(pk).not_before for pk in ids)
    assert dispatch.dispatch_due(now=later).sent == 3
    # Each was recorded twice, under one Message-ID each: the copies are the same message.
    assert sink.duplicates() == {row(pk).message_id: 2 for pk in ids}


def test_send_again_only_for_a_failed_message_in_time(sink, admin_user):
    sink.reply = "550 5.1.1 mailbox unavailable"
    [pk] = queued()
    dispatch.dispatch_due()
    message = message_resend(message=row(pk), by=admin_user)
    assert (message.status, message.attempts, message.last_error) == ("pending", 0, "")
    with pytest.raises(OutboxError, match="only a failed message"):
        message_resend(message=row(pk), by=admin_user)
    sink.reply = None
    assert dispatch.dispatch_due().sent == 1
    assert sink.count == 1


# --- Our own faults ---------------------------------------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_terminate_backend")
def test_a_dropped_database_connection_marks_the_message_and_sends_nothing_twice(sink):
    """Item 5: the dispatcher's connection is killed (pg_terminate_backend) while the server is
    answering; the "sent" UPDATE reconnects and marks the row, the batch goes on. It used to
    send the message again every time and leave the batch to wait out the lease."""
    ids = queued(5)
    sink.hold_reply_after = 2
    outcome = {}

    def worker() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                outcome["pid"] = cursor.fetchone()[0]
            outcome["result"] = dispatch.dispatch_due()
        finally:
            connections.close_all()

    thread = threading.Thread(target=worker)
    thread.start()
    assert sink.holding.wait(timeout=10)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [outcome["pid"]])
    sink.hold_reply_after = None
    sink.release()
    thread.join(timeout=20)
    assert outcome["result"].sent == 5
    assert {row(pk).status for pk in ids} == {"sent"}
    assert sink.count == 5
    assert not sink.duplicates()


def test_the_soft_time_limit_ends_the_batch_and_gives_the_rest_back_at_once(sink):
    """Item 7: Celery's soft limit (SoftTimeLimitExceeded, raised by a signal as billiard does)
    was swallowed and the batch ran on to the hard kill. Now it ends the batch: what was sent is
    marked, the message in flight and the rest are due again at once (no lease to wait out)."""
    ids = queued(10)
    sink.delay = 0.3

    def soft_limit(signum, frame):
        raise SoftTimeLimitExceeded()

    previous = signal.signal(signal.SIGALRM, soft_limit)
    signal.setitimer(signal.ITIMER_REAL, 1.0)
    try:
        with pytest.raises(SoftTimeLimitExceeded):
            dispatch.dispatch_due()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    statuses = [row(pk).status for pk in ids]
    sent = statuses.count("sent")
    assert 1 <= sent < 10
    assert statuses.count("sending") == 0
    assert statuses.count("pending") == 10 - sent
    sink.delay = 0
    assert dispatch.dispatch_due().sent == 10 - sent
    # The one in flight may have reached the server: at most that one twice, same Message-ID.
    assert len(sink.duplicates()) <= 1
    assert set(sink.message_ids()) == {row(pk).message_id for pk in ids}


def test_the_time_budget_stops_claiming_and_releases_the_unsent(sink):
    ids = queued(6)
    sink.delay = 0.2
    result = dispatch.dispatch_all_due(batch=6, budget_seconds=0.5)
    assert 1 <= result.sent < 6
    assert result.released == 6 - result.sent
    assert OutboxMessage.objects.filter(pk__in=ids, status="pending", attempts=0).count() == (
        6 - result.sent
    )


def test_a_row_taken_over_after_the_lease_is_not_sent_by_its_first_claimer(sink, settings):
    """The lease is per message: a batch that outlived it lost its remaining rows to another
    worker, and must not send them too."""
    settings.OUTBOX_LEASE_SECONDS = 300
    now = timezone.now()
    [pk] = queued()
    slow_token, _ = dispatch.claim(now=now, limit=10)
    later = now + timedelta(seconds=301)
    # The lease runs on the real clock (a fast-forwarded "now" never takes a row over).
    assert dispatch.claim(now=later, limit=10)[1] == []
    mail = dispatch.get_connection()
    with time_machine.travel(later, tick=False):
        fast_token, taken = dispatch.claim(now=later, limit=10)
        assert taken == [pk]
        assert dispatch.deliver(pk, slow_token, now=later, mail=mail) == "lost"
        assert sink.count == 0
        assert dispatch.deliver(pk, fast_token, now=later, mail=mail) == "sent"
    dispatch._close(mail)
    assert sink.count == 1
    assert row(pk).attempts == 2
