"""Reminder dispatch throughput (R8): 10,000 due reminders, ONE real Celery worker process
on Redis (production settings, --pool=solo), a local SMTP server (aiosmtpd, no delay). Wall time
from the first queued dispatch to every row marked sent, through the plan step and the outbox
(one dispatcher for every e-mail); reminders per minute and the duplicate count (must be 0).
Run with `make bench` (DATABASE_URL and REDIS_URL as in .ci/run)."""

from __future__ import annotations

import os
import time

import pytest
from django.utils import timezone

from integration.models import IntegrationReminder, ReminderStatus
from integration.tasks import dispatch_due_reminders
from kap_clinic.celery import app
from outbox.tasks import dispatch_due as dispatch_outbox
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
        started = time.perf_counter()
        dispatch_due_reminders.delay()
        last_beat = started
        while sent.count() < REMINDERS:
            now = time.perf_counter()
            if now - started >= 900:
                done = sent.count()
                pytest.fail(
                    f"{done} of {REMINDERS} sent in 15 min ({done / 15:,.0f} reminders/minute)"
                    f":\n{worker.output()}"
                )
            assert worker.process.poll() is None, worker.output()
            if now - last_beat >= BEAT:
                dispatch_due_reminders.delay()
                dispatch_outbox.delay()
                last_beat = now
            time.sleep(0.1)
        elapsed = time.perf_counter() - started
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
