"""A batch of the dispatcher (outbox/dispatch.py, issue 13): its lease renewed for the whole rest
of the batch once half of it is spent (not before each message), rows another worker took over
skipped, the queueing app asked once for the batch, and one failing check held to its own row.
Against a real SMTP server and the real database, as tests/outbox/test_dispatch.py."""

from __future__ import annotations

import email
import socket
import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from outbox import bookkeeping, dispatch, kinds, smtp
from outbox.dispatch import DispatchResult
from outbox.models import MessageKind, MessageStatus, OutboxMessage
from outbox.services import message_queue

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def queued(count: int, *, kind=MessageKind.STAFF_INVITE) -> list[int]:
    now = timezone.now()
    return [
        message_queue(
            kind=kind,
            to=f"person{n}@example.org",
            subject="Your account",
            text=f"Hello {n}",
            expires_at=now + timedelta(hours=12),
            kick=False,
        ).pk
        for n in range(count)
    ]


def renewals(queries) -> int:
    """The lease renewals among the statements run: UPDATEs that set claimed_at alone."""
    return sum(
        1
        for query in queries.captured_queries
        if query["sql"].startswith('UPDATE "outbox_outboxmessage" SET "claimed_at"')
    )


def test_the_lease_is_renewed_once_half_of_it_is_spent_not_per_message(sink, settings):
    """A 2-second lease and a slow server (0.15 s a message): 16 messages take about 2.4 s, so
    the batch renews the rest of its rows about twice, in one UPDATE each; it used to be one
    UPDATE before every message."""
    settings.OUTBOX_LEASE_SECONDS = 2
    ids = queued(16)
    sink.delay = 0.15
    with CaptureQueriesContext(connection) as queries:
        result = dispatch.dispatch_due(limit=16)
    assert (result.sent, result.lost) == (16, 0)
    assert 1 <= renewals(queries) <= 3
    assert sink.count == 16
    assert not sink.duplicates()
    assert set(OutboxMessage.objects.filter(pk__in=ids).values_list("status", flat=True)) == {
        MessageStatus.SENT
    }


def test_a_short_batch_renews_nothing(sink):
    queued(5)
    with CaptureQueriesContext(connection) as queries:
        assert dispatch.dispatch_due().sent == 5
    assert renewals(queries) == 0


def test_rows_taken_over_by_another_worker_are_not_sent_by_the_first(sink, settings):
    """The first worker was stopped (a frozen VM) past its lease; a second took half its rows
    over. At its next renewal the first finds which rows are still its own and sends only
    those: each message goes once."""
    settings.OUTBOX_LEASE_SECONDS = 300
    now = timezone.now()
    ids = queued(6)
    slow, messages = bookkeeping.claim_rows(now=now, limit=6)
    taken = ids[3:]
    OutboxMessage.objects.filter(pk__in=taken).update(
        claimed_at=timezone.now() - timedelta(seconds=301)
    )
    fast, took = bookkeeping.claim_rows(now=now, limit=6)
    assert [message.pk for message in took] == taken
    result = DispatchResult(claimed=6)
    mail = dispatch.get_connection()
    try:
        # Its lease half spent long ago: it renews before its first message.
        dispatch._deliver_batch(
            messages,
            slow,
            now=now,
            mail=mail,
            deadline=None,
            leased_at=time.monotonic() - 200,
            result=result,
        )
    finally:
        dispatch._close(mail)
    assert (result.sent, result.lost) == (3, 3)
    assert sink.count == 3
    rows = OutboxMessage.objects.filter(pk__in=taken)
    assert {(row.status, row.claim_token) for row in rows} == {(MessageStatus.SENDING, fast)}
    assert dispatch.dispatch_due(now=now).claimed == 0  # the second worker's, under its lease


@pytest.fixture
def fragile_check():
    """A still-wanted check for staff invitations that fails on one address (a bug in the app
    that queued it, a database error of its own), and a record of how it was asked."""
    asked: list[int] = []

    def check(messages):
        asked.append(len(messages))
        if any(message.to == "person1@example.org" for message in messages):
            raise RuntimeError("the check broke")
        return {
            message.pk: "No longer wanted."
            for message in messages
            if message.to.startswith("person2")
        }

    kinds.register_check(MessageKind.STAFF_INVITE, check)
    yield asked
    kinds._checks.pop(MessageKind.STAFF_INVITE)


def test_the_queueing_app_is_asked_once_for_the_batch(sink, fragile_check):
    ids = queued(4)
    OutboxMessage.objects.filter(pk=ids[1]).update(to="someone@example.org")
    later = timezone.now() + timedelta(minutes=2)  # asked again once time has passed
    with time_machine.travel(later, tick=False):
        result = dispatch.dispatch_due(now=later)
    assert fragile_check == [4]
    assert (result.sent, result.cancelled) == (3, 1)
    cancelled = OutboxMessage.objects.get(pk=ids[2])
    assert (cancelled.status, cancelled.cancelled_reason) == ("cancelled", "No longer wanted.")


def test_a_failing_check_is_held_to_its_own_message(sink, fragile_check):
    """The batch's check fails: each message is asked on its own, the one it fails on is tried
    again later (as any unexpected error on one row), the rest go."""
    ids = queued(4)
    later = timezone.now() + timedelta(minutes=2)
    with time_machine.travel(later, tick=False):
        result = dispatch.dispatch_due(now=later)
    assert fragile_check == [4, 1, 1, 1, 1]
    assert (result.sent, result.cancelled, result.retried) == (2, 1, 1)
    broken = OutboxMessage.objects.get(pk=ids[1])
    assert broken.status == MessageStatus.PENDING
    assert broken.last_error == "Unexpected error (RuntimeError)."
    assert sink.count == 2


def test_a_message_is_accepted_only_once_the_one_before_it_is_marked(sink):
    """The next message is on its way while one is being marked sent (outbox.smtp holds back
    the end of its text), but the server takes it only after: at the moment of each acceptance
    every message accepted before it is marked, so a crash can still leave only one message
    sent and unmarked, as when they went one after the other. Each mark is held up for a moment
    (its row locked from another connection, as a slow disk would hold its COMMIT), so that a
    next message finished too early would be seen."""
    ids = queued(6)
    unmarked: list[int] = []

    def hold(message_id: str, locked: threading.Event) -> None:
        try:
            with transaction.atomic():
                OutboxMessage.objects.select_for_update().get(message_id=message_id)
                locked.set()
                time.sleep(0.3)
        finally:
            connections.close_all()

    def at_acceptance(raw: bytes) -> None:
        # On a thread of the server's, before it answers, with connections of its own.
        earlier = sink.message_ids()
        unmarked.append(
            OutboxMessage.objects.filter(message_id__in=earlier)
            .exclude(status=MessageStatus.SENT)
            .count()
        )
        connections.close_all()
        locked = threading.Event()
        message_id = email.message_from_bytes(raw)["Message-ID"]
        threading.Thread(target=hold, args=(message_id, locked)).start()
        assert locked.wait(timeout=10)

    sink.on_data = at_acceptance
    assert dispatch.dispatch_due().sent == 6
    assert unmarked == [0] * 6
    assert set(OutboxMessage.objects.filter(pk__in=ids).values_list("status", flat=True)) == {
        MessageStatus.SENT
    }


def test_the_connection_sends_each_write_at_once(sink):
    """A message goes in two writes (outbox.smtp): with Nagle's algorithm on, the second waited
    for the server's delayed ACK of the first, 40 ms a message. The batch's connection has
    TCP_NODELAY set from its first message."""
    queued(1)
    mail = dispatch.get_connection()
    sender = smtp.Sender(mail)
    sender.prepare(OutboxMessage.objects.get())
    sock = mail.connection.sock
    assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    sender.finish()
    smtp.close(mail)
    assert sink.count == 1
