"""Reminder delivery end to end (R8, R25): a real Celery worker on the real Redis, a real SMTP
server (aiosmtpd) started here, the real PostgreSQL. Exactly one e-mail per reminder whatever
happens: several workers, thirty dispatchers at once, a worker killed mid-batch, SMTP errors.

These run in CI (--require-services): a missing Redis fails them rather than skipping."""

from __future__ import annotations

import email
import email.policy
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from celery.contrib.testing.worker import start_worker
from django.db import connection
from django.utils import timezone

from integration import dispatch
from integration.models import IntegrationReminder, ReminderKind, ReminderStatus
from integration.tasks import dispatch_due_reminders
from kap_clinic.celery import app
from outbox.models import MessageStatus, OutboxMessage
from outbox.tasks import dispatch_due as dispatch_outbox
from patients.models import Client
from sessions.models import SessionKind, SessionStatus
from sessions.scheduling.services import session_mark, session_reschedule, session_schedule
from tests.factories import ClientFactory, ClientUserFactory, TherapistFactory
from tests.factories_sessions import dosing_ready_session
from tests.integration.delivery_helpers import (
    SmtpSink,
    WorkerProcess,
    due_reminders,
    purge_broker,
    worker_env,
)
from tests.sessions.dosing_helpers import give_dose

NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
# The dosing session at 9:00 in the clinic (New York), the dose at 9:20; the client lives in Los
# Angeles (6:20 there), so their reminders go at 10:00 Los Angeles time (R8: the client's zone).
DOSE_DAY = datetime(2025, 3, 12, 9, 0, tzinfo=NEW_YORK)
GIVEN_AT = DOSE_DAY + timedelta(minutes=20)


def client_ten_am(day: int) -> datetime:
    return datetime(2025, 3, 12 + day, 10, 0, 30, tzinfo=LOS_ANGELES)


@pytest.fixture
def broker(redis_url):
    purge_broker(app)
    return redis_url


@pytest.fixture
def workers():
    """Worker processes started by a test; killed at its end whatever happens."""
    started: list[WorkerProcess] = []

    def start(name: str, env: dict[str, str]) -> WorkerProcess:
        started.append(WorkerProcess(name, env))
        return started[-1]

    yield start
    for worker in started:
        worker.stop()


def dosed_client(*, last_name: str):
    """A client in Los Angeles, dosed at GIVEN_AT through the real chart services: the reminder
    plan comes from the dose_recorded signal inside dose_record's transaction."""
    client = ClientFactory(
        first_name="Maya",
        last_name=last_name,
        time_zone="America/Los_Angeles",
        primary_therapist=TherapistFactory(first_name="Sam"),
        user=ClientUserFactory(),
        chaperone_name="Ravi Patel",
        chaperone_phone="+15555550123",
    )
    with time_machine.travel(DOSE_DAY, tick=False):
        session = dosing_ready_session(client, starts_at=DOSE_DAY)
    with time_machine.travel(GIVEN_AT, tick=False):
        dose = give_dose(session, at=GIVEN_AT)
    rows = {
        row.day: row
        for row in IntegrationReminder.objects.filter(dose=dose, kind=ReminderKind.CLIENT)
    }
    assert sorted(rows) == [1, 2, 3]
    assert rows[1].due_at == client_ten_am(1).replace(second=0)
    return client, dose, rows


def to_client(sink, client) -> list:
    """The integration reminders the client received (their booking confirmations and appointment
    reminders left out: those are tests/sessions' and test_appointment_reminder_delivery's)."""
    return [
        message
        for message in sink.received
        if message.recipients == (client.email,)
        and not message.subject.startswith(("Your appointment", "Reminder: your appointment"))
    ]


def wait_until(condition, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.05)


def assert_clean(message, client) -> None:
    """R25: nothing clinical, the first (or preferred) name only."""
    client.refresh_from_db()
    for text in (message.subject, message.text):
        assert "ketamine" not in text.lower()
        assert client.last_name not in text
    assert f"Hi {client.preferred_name or client.first_name}," in message.text


# --- 1. A real worker, real Redis, a real SMTP server -----------------------------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_day_1_2_3_reminders_once_each(broker, sink):
    client, dose, rows = dosed_client(last_name="Okonkwo")
    # The worker thread runs in this process: it sees the travelled clock.
    with (
        time_machine.travel(client_ten_am(1), tick=True) as clock,
        start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10),
    ):
        for day in (1, 2, 3):
            clock.move_to(client_ten_am(day))
            dispatch_due_reminders.delay()
            wait_until(
                lambda day=day: len(to_client(sink, client)) == day,
                timeout=20,
                what=f"the day-{day} reminder",
            )
            rows[day].refresh_from_db()
            wait_until(
                lambda day=day: (
                    IntegrationReminder.objects.get(pk=rows[day].pk).status == ReminderStatus.SENT
                ),
                timeout=5,
                what=f"the day-{day} row marked sent",
            )
        # A redelivered or repeated task sends nothing more.
        dispatch_due_reminders.delay()
        time.sleep(1)
    received = to_client(sink, client)
    assert len(received) == 3
    for day, message in zip((1, 2, 3), received, strict=True):
        row = IntegrationReminder.objects.get(pk=rows[day].pk)
        assert row.status == ReminderStatus.SENT
        assert row.outbox_message.attempts == 1
        assert message.message_id == row.message_id
        assert row.sent_at is not None
        assert row.sent_to == client.email
        assert row.variant == "not_booked"
        # Sent on its day, at 10:00 in Los Angeles.
        assert row.sent_at.astimezone(LOS_ANGELES).date() == client_ten_am(day).date()
        assert row.sent_at.astimezone(LOS_ANGELES).hour == 10
        assert_clean(message, client)
        assert "book" in message.text.lower()
    assert len({message.message_id for message in received}) == 3
    # The therapist's check (24 h after the dose, nothing booked): one alert e-mail, no client
    # detail in it.
    therapist = dose.session.therapist
    alerts = [m for m in sink.received if m.recipients == (therapist.email,)]
    assert len(alerts) == 1
    assert client.first_name not in alerts[0].text
    assert client.last_name not in alerts[0].text
    assert "ketamine" not in alerts[0].text.lower()
    assert sink.count == 4
    assert not sink.duplicates()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_booked_session_is_named_and_its_completion_cancels_day_3(broker, sink):
    client, dose, rows = dosed_client(last_name="Lindqvist")
    # Booked on the dose day for day 2 at 3:00 PM in Los Angeles.
    integration_at = datetime(2025, 3, 14, 15, 0, tzinfo=LOS_ANGELES)
    with time_machine.travel(GIVEN_AT + timedelta(hours=2), tick=False):
        integration = session_schedule(
            client=client,
            kind=SessionKind.INTEGRATION,
            starts_at=integration_at,
            by=dose.session.therapist,
            location="Room 2",
        )
    assert integration.follows_dose_id == dose.session_id
    with (
        time_machine.travel(client_ten_am(1), tick=True) as clock,
        start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10),
    ):
        for day in (1, 2):
            clock.move_to(client_ten_am(day))
            dispatch_due_reminders.delay()
            wait_until(
                lambda day=day: len(to_client(sink, client)) == day,
                timeout=20,
                what=f"the day-{day} reminder",
            )
        # The session is held on day 2 and marked completed: day 3 is cancelled at once.
        clock.move_to(integration_at + timedelta(hours=1))
        session_mark(session=integration, status=SessionStatus.COMPLETED, by=dose.session.therapist)
        day_3 = IntegrationReminder.objects.get(pk=rows[3].pk)
        assert day_3.status == ReminderStatus.CANCELLED
        assert day_3.cancelled_reason == "The integration session took place."
        clock.move_to(client_ten_am(3))
        dispatch_due_reminders.delay()
        time.sleep(1.5)
    received = to_client(sink, client)
    assert len(received) == 2, [m.subject for m in received]
    for message in received:
        assert "Friday, March 14" in message.text
        assert "3:00 PM" in message.text
        assert_clean(message, client)
    for day in (1, 2):
        row = IntegrationReminder.objects.get(pk=rows[day].pk)
        assert row.status == ReminderStatus.SENT
        assert row.variant == "booked"
    day_3 = IntegrationReminder.objects.get(pk=rows[3].pk)
    assert day_3.status == ReminderStatus.CANCELLED
    assert day_3.sent_at is None
    assert day_3.outbox_message is None
    # Booked in time: the therapist's check was cancelled, no alert e-mail; the two other messages
    # are the client's booking confirmation and the session's appointment reminder.
    assert len(to_client(sink, client)) == 2
    assert sink.count == 4


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_an_appointment_reminder_once_at_its_time_after_a_move(
    broker, sink, settings
):
    """sessions.scheduling.reminders through the real worker and SMTP: a session moved after it
    was booked is reminded of once, the day before its new time at 10:00 in the client's zone,
    with the RFC 8058 headers; the reminder of the old time never goes."""
    settings.SITE_URL = "https://clinic.example.org"
    client = ClientFactory(
        first_name="Maya",
        last_name="Okafor",
        time_zone="America/Los_Angeles",
        primary_therapist=TherapistFactory(first_name="Sam"),
    )
    booked_at = datetime(2025, 3, 10, 9, 0, tzinfo=NEW_YORK)
    with time_machine.travel(booked_at, tick=False):
        session = session_schedule(
            client=client,
            kind=SessionKind.GENERAL,
            starts_at=datetime(2025, 3, 13, 15, 0, tzinfo=LOS_ANGELES),
            by=client.primary_therapist,
            location="Room 2",
        )
        session_reschedule(
            session=session,
            starts_at=datetime(2025, 3, 14, 15, 0, tzinfo=LOS_ANGELES),
            by=client.primary_therapist,
        )
    reminders = lambda: [  # noqa: E731
        m for m in sink.received if m.subject.startswith("Reminder: your appointment")
    ]
    with (
        time_machine.travel(
            datetime(2025, 3, 12, 10, 0, 30, tzinfo=LOS_ANGELES), tick=True
        ) as clock,
        start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10),
    ):
        # The old time's day before: nothing (its reminder was replaced by the move).
        dispatch_outbox.delay()
        time.sleep(1.5)
        assert reminders() == []
        clock.move_to(datetime(2025, 3, 13, 10, 0, 30, tzinfo=LOS_ANGELES))
        dispatch_outbox.delay()
        wait_until(lambda: len(reminders()) == 1, timeout=20, what="the appointment reminder")
        dispatch_outbox.delay()  # a repeated task sends nothing more
        time.sleep(1)
    (message,) = reminders()
    assert message.recipients == (client.email,)
    assert "Friday, March 14 at 3:00 PM" in message.text
    headers = email.message_from_bytes(message.raw, policy=email.policy.default)
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    stop = str(headers["List-Unsubscribe"]).strip()
    assert stop.startswith("<https://clinic.example.org/email/stop/")
    assert_clean(message, client)


# --- 2. Concurrency -------------------------------------------------------------------------------


def outbox_rows(ids):
    return OutboxMessage.objects.filter(integration_reminder__in=ids)


def assert_each_sent_once(sinks, ids) -> None:
    message_ids = [mid for sink in sinks for mid in sink.message_ids()]
    rows = IntegrationReminder.objects.filter(pk__in=ids)
    assert len(message_ids) == len(ids), Counter(rows.values_list("status", flat=True))
    assert len(set(message_ids)) == len(ids)
    assert set(message_ids) == set(rows.values_list("message_id", flat=True))
    assert rows.filter(status=ReminderStatus.SENT, sent_at__isnull=False).count() == len(ids)


@pytest.mark.services
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks (SKIP LOCKED) under 30 connections need PostgreSQL; SQLite locks the table",
)
@pytest.mark.django_db(transaction=True)
def test_thirty_concurrent_dispatchers_send_200_reminders_once_each(sink):
    ids = due_reminders(200, now=timezone.now())
    claims: Counter[int] = Counter()
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(30)

    def dispatcher() -> None:
        try:
            start.wait(timeout=10)
            while True:
                result = dispatch.dispatch_due(limit=10)
                if not result.claimed:
                    return
                with lock:
                    claims.update(result.ids)
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            connection.close()  # each thread had its own connection

    threads = [threading.Thread(target=dispatcher) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    messages = outbox_rows(ids)
    assert sorted(claims) == sorted(messages.values_list("id", flat=True))
    assert set(claims.values()) == {1}
    assert_each_sent_once([sink], ids)
    assert set(messages.values_list("attempts", flat=True)) == {1}


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_send_200_reminders_once_each(broker, workers):
    # One SMTP server per worker: which worker sent what is visible, and together exactly once.
    sinks = [SmtpSink(), SmtpSink()]
    try:
        for server in sinks:
            server.delay = 0.01
        ids = due_reminders(200, now=timezone.now())
        procs = [
            workers(f"pair{n}", worker_env(smtp_port=server.port)) for n, server in enumerate(sinks)
        ]
        for worker in procs:
            worker.wait_ready(app)
        for _ in range(4):
            dispatch_due_reminders.delay()
        # The plan step hands the 200 to the outbox in one batch, and its one kick would let one
        # worker send them all; the beat's ticks give both workers an outbox task at once.
        wait_until(
            lambda: not IntegrationReminder.objects.filter(pk__in=ids, status="pending").exists(),
            timeout=30,
            what="200 reminders handed to the outbox",
        )
        for _ in range(4):
            dispatch_outbox.delay()
        wait_until(
            lambda: (
                sum(server.count for server in sinks) >= 200
                and IntegrationReminder.objects.filter(pk__in=ids, status="sent").count() == 200
            ),
            timeout=30,
            what="200 reminders sent",
        )
        time.sleep(0.5)  # anything extra would arrive now
        assert_each_sent_once(sinks, ids)
        assert all(server.count > 0 for server in sinks), [s.count for s in sinks]
    finally:
        for server in sinks:
            server.stop()


# --- 3. A worker killed mid-batch -------------------------------------------------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_leaves_nothing_unsent_and_nothing_twice(broker, workers):
    """SIGKILL while the worker waits for the server's answer to its 31st message (not accepted):
    the 30 accepted are marked sent, the rest of its batch stays "sending" until the lease ends,
    then a new worker sends them. A 3 s lease keeps the test short."""
    sink = SmtpSink()
    try:
        sink.delay = 0.05
        sink.hold_after = 30
        ids = due_reminders(100, now=timezone.now())
        env = worker_env(smtp_port=sink.port, lease_seconds=3)
        first = workers("doomed", env)
        dispatch_due_reminders.delay()
        assert sink.holding.wait(timeout=30), first.output()
        first.kill()
        rows = outbox_rows(ids)
        assert sink.count == 30
        assert rows.filter(status=MessageStatus.SENT).count() == 30
        assert IntegrationReminder.objects.filter(pk__in=ids, status="sent").count() == 30
        stuck = set(rows.filter(status=MessageStatus.SENDING).values_list("id", flat=True))
        assert len(stuck) == 20  # the rest of the first batch of 50
        assert rows.filter(status=MessageStatus.PENDING).count() == 50
        # One connection for the batch, not one per message.
        assert sink.ehlos == 1

        sink.hold_after = None
        sink.release()
        second = workers("survivor", env)
        deadline = time.monotonic() + 40
        while rows.filter(status=MessageStatus.SENT).count() < 100:
            assert time.monotonic() < deadline, second.output()
            # The beat would run the dispatcher every minute; every second here.
            dispatch_outbox.delay()
            time.sleep(1)
        time.sleep(0.3)
        assert sink.count == 100
        assert not sink.duplicates()
        assert_each_sent_once([sink], ids)
        # The stuck ones were taken over after the lease: a second attempt, same Message-ID.
        assert set(rows.filter(id__in=stuck).values_list("attempts", flat=True)) == {2}
        assert set(rows.exclude(id__in=stuck).values_list("attempts", flat=True)) == {1}
    finally:
        sink.stop()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_kill_between_acceptance_and_marking_resends_the_same_message_id(broker, workers):
    """The one window the design leaves open (outbox/dispatch.py): the server has taken the
    30th message, the worker dies before it hears so and marks it sent. After the lease it goes
    again, with the SAME Message-ID, which mail stores treat as one message: one extra copy for
    the crash, no other message twice, no message with a second, different Message-ID."""
    sink = SmtpSink()
    try:
        sink.hold_reply_after = 30
        ids = due_reminders(60, now=timezone.now())
        env = worker_env(smtp_port=sink.port, lease_seconds=3)
        first = workers("doomed", env)
        dispatch_due_reminders.delay()
        assert sink.holding.wait(timeout=30), first.output()
        first.kill()
        rows = outbox_rows(ids)
        assert sink.count == 30
        assert rows.filter(status=MessageStatus.SENT).count() == 29
        in_window = rows.get(message_id=sink.message_ids()[-1])
        assert in_window.status == MessageStatus.SENDING

        sink.hold_reply_after = None
        sink.release()
        second = workers("survivor", env)
        deadline = time.monotonic() + 40
        while rows.filter(status=MessageStatus.SENT).count() < 60:
            assert time.monotonic() < deadline, second.output()
            dispatch_outbox.delay()
            time.sleep(1)
        time.sleep(0.3)
        assert sink.duplicates() == {in_window.message_id: 2}
        assert set(sink.message_ids()) == set(rows.values_list("message_id", flat=True))
        assert sink.count == 61
    finally:
        sink.stop()


# --- 4. A bad address in a batch ----------------------------------------------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_an_unusable_address_fails_its_reminders_and_the_batch_goes_on(sink):
    """An address with a line break (header injection) cannot be sent to: that client's
    reminders fail at once, the others in the same batch are sent."""
    ids = due_reminders(4, now=timezone.now(), per_dose=1, clients=2)
    rows = IntegrationReminder.objects.filter(pk__in=ids)
    bad = rows.order_by("id").first().client
    Client.objects.filter(pk=bad.pk).update(email="maya@example.org\nBcc: all@example.org")
    result = dispatch.dispatch_due()
    assert (result.claimed, result.sent, result.failed) == (4, 2, 2)
    for row in rows.filter(client=bad):
        assert row.status == ReminderStatus.FAILED
        assert row.last_error == "The e-mail address on file cannot be used."
    assert rows.exclude(client=bad).filter(status=ReminderStatus.SENT).count() == 2
    assert sink.count == 2
