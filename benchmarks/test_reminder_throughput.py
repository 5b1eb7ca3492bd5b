"""Reminder dispatch throughput (R8): 10,000 due reminders, ONE real Celery worker process
on Redis (production settings, --pool=solo), a local SMTP server (aiosmtpd, no delay). Wall time
from the first queued dispatch to every row marked sent, through the plan step and the outbox
(one dispatcher for every e-mail); reminders per minute and the duplicate count (must be 0).
The second run mixes the kinds: half integration reminders, half appointment reminders (which
the outbox asks about first: sessions.scheduling.reminders.still_wanted).
Run with `make bench` (DATABASE_URL and REDIS_URL as in .ci/run)."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from integration.models import IntegrationReminder, ReminderStatus
from integration.tasks import dispatch_due_reminders
from kap_clinic.celery import app
from outbox.models import MessageKind, MessageStatus, OutboxMessage
from outbox.services import messages_queue
from outbox.tasks import dispatch_due as dispatch_outbox
from sessions.models import Session, SessionKind
from sessions.scheduling import reminders
from tests.factories import ClientFactory, TherapistFactory
from tests.integration.delivery_helpers import (
    SmtpSink,
    WorkerProcess,
    due_reminders,
    purge_broker,
    worker_env,
)

# BENCH_REMINDERS: a smaller run to compare two versions on a busy machine (the figure
# is for 10,000).
REMINDERS = int(os.environ.get("BENCH_REMINDERS", 10_000))
# The beat queues the dispatcher every minute; a long run here gets one every BEAT seconds, so a
# task that ends at its time budget is followed promptly (as the next beat would).
BEAT = 10.0


def _until_sent(sent, worker) -> float:
    """Kick the plan step and the outbox as the beat would, every BEAT seconds, until ``sent``
    (a queryset) counts REMINDERS rows; returns the seconds it took."""
    started = time.perf_counter()
    dispatch_due_reminders.delay()
    dispatch_outbox.delay()
    last_beat = started
    while sent.count() < REMINDERS:
        now = time.perf_counter()
        if now - started >= 900:
            done = sent.count()
            pytest.fail(
                f"{done} of {REMINDERS} sent in 15 min ({done / 15:,.0f} a minute)"
                f":\n{worker.output()}"
            )
        assert worker.process.poll() is None, worker.output()
        if now - last_beat >= BEAT:
            dispatch_due_reminders.delay()
            dispatch_outbox.delay()
            last_beat = now
        time.sleep(0.1)
    return time.perf_counter() - started


@pytest.mark.django_db(transaction=True)
def test_reminder_dispatch_throughput(services, capsys):
    purge_broker(app)
    sink = SmtpSink()
    worker = None
    try:
        made = time.perf_counter()
        ids = due_reminders(REMINDERS, now=timezone.now(), per_dose=4, clients=10)
        made = time.perf_counter() - made
        assert len(ids) == REMINDERS
        worker = WorkerProcess("bench", worker_env(smtp_port=sink.port))
        worker.wait_ready(app)

        sent = IntegrationReminder.objects.filter(status=ReminderStatus.SENT)
        elapsed = _until_sent(sent, worker)
        time.sleep(1)  # anything sent twice would arrive now

        duplicates = sink.duplicates()
        extra = sink.count - len(set(sink.message_ids()))
        rows = IntegrationReminder.objects.filter(pk__in=ids)
        with capsys.disabled():
            print(
                f"\nreminder dispatch, 1 worker (solo pool) on Redis, local SMTP sink:\n"
                f"  {REMINDERS} due reminders (made in {made:.1f} s)\n"
                f"  all sent in {elapsed:.1f} s: {REMINDERS / elapsed * 60:,.0f} reminders/minute"
                f" ({REMINDERS / elapsed:,.0f}/s)\n"
                f"  messages received: {sink.count}, duplicate Message-IDs: {len(duplicates)}"
                f" ({extra} extra copies)\n"
                f"  rows: {rows.filter(status=ReminderStatus.SENT).count()} sent, "
                f"attempts > 1: {rows.filter(outbox_message__attempts__gt=1).count()}"
            )
        assert not duplicates
        assert extra == 0
        assert sink.count == REMINDERS
        assert set(sink.message_ids()) == set(rows.values_list("message_id", flat=True))
    finally:
        if worker is not None:
            worker.stop()
        sink.stop()


def due_appointment_reminders(count: int, *, now, therapists: int = 10) -> list[int]:
    """``count`` appointment reminders due a minute ago, made two minutes ago (so the outbox asks
    whether each is still wanted, as for a reminder made days before), for general sessions in
    the coming weeks, each therapist's an hour apart. Returns the outbox ids."""
    people = [ClientFactory(primary_therapist=TherapistFactory()) for _ in range(therapists)]
    base = now.replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
    sessions = Session.objects.bulk_create(
        Session(
            client=people[n % therapists],
            therapist=people[n % therapists].primary_therapist,
            kind=SessionKind.GENERAL,
            starts_at=base + timedelta(hours=n // therapists),
            ends_at=base + timedelta(hours=n // therapists, minutes=50),
            location="Room 2",
            created_by=people[n % therapists].primary_therapist,
        )
        for n in range(count)
    )
    for session in sessions:
        session.client = people[[p.pk for p in people].index(session.client_id)]
        session.therapist = session.client.primary_therapist
    due = now - timedelta(minutes=1)
    ids = []
    for start in range(0, count, 1000):
        drafts = [
            reminders.reminder_draft(session, days=1, not_before=due)
            for session in sessions[start : start + 1000]
        ]
        ids += [message.pk for message in messages_queue(drafts, kick=False)]
    OutboxMessage.objects.filter(pk__in=ids).update(created_at=now - timedelta(minutes=2))
    return ids


@pytest.mark.django_db(transaction=True)
def test_mixed_dispatch_throughput(services, capsys):
    """Every kind through the one outbox: integration reminders (the plan step first) and
    appointment reminders (the outbox's still-wanted check first)."""
    purge_broker(app)
    sink = SmtpSink()
    worker = None
    half = REMINDERS // 2
    try:
        made = time.perf_counter()
        now = timezone.now()
        due_reminders(half, now=now, per_dose=4, clients=10)
        appointment_ids = due_appointment_reminders(REMINDERS - half, now=now)
        made = time.perf_counter() - made
        worker = WorkerProcess("bench-mixed", worker_env(smtp_port=sink.port))
        worker.wait_ready(app)

        kinds = [MessageKind.INTEGRATION_REMINDER, MessageKind.APPOINTMENT_REMINDER]
        sent = OutboxMessage.objects.filter(kind__in=kinds, status=MessageStatus.SENT)
        elapsed = _until_sent(sent, worker)
        time.sleep(1)  # anything sent twice would arrive now

        duplicates = sink.duplicates()
        extra = sink.count - len(set(sink.message_ids()))
        with capsys.disabled():
            print(
                f"\nmixed dispatch, 1 worker (solo pool) on Redis, local SMTP sink:\n"
                f"  {half} integration + {REMINDERS - half} appointment reminders due (made in "
                f"{made:.1f} s)\n"
                f"  all sent in {elapsed:.1f} s: {REMINDERS / elapsed * 60:,.0f} messages/minute\n"
                f"  messages received: {sink.count}, duplicate Message-IDs: {len(duplicates)}"
                f" ({extra} extra copies)"
            )
        assert not duplicates
        assert extra == 0
        assert sink.count == REMINDERS
        assert OutboxMessage.objects.filter(
            pk__in=appointment_ids, status=MessageStatus.SENT
        ).count() == len(appointment_ids)
    finally:
        if worker is not None:
            worker.stop()
        sink.stop()
