"""Celery wiring: configuration, and one real worker consuming from the real Redis broker."""

import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from accounts.tasks import clear_expired_sessions
from kap_clinic.celery import app


def test_celery_is_configured_for_safe_delivery():
    conf = app.conf
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_time_limit
    assert conf.task_soft_time_limit < conf.task_time_limit
    assert conf.enable_utc is True
    assert conf.timezone == "UTC"
    assert conf.worker_prefetch_multiplier == 1


def test_every_beat_entry_names_a_registered_task():
    app.loader.import_default_modules()
    for entry in app.conf.beat_schedule.values():
        assert entry["task"] in app.tasks, entry["task"]


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_task_queued_on_commit(redis_url):
    past = timezone.now() - timedelta(hours=1)
    Session.objects.create(session_key="expired-session", session_data="e30=", expire_date=past)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        with transaction.atomic():
            transaction.on_commit(clear_expired_sessions.delay)
        deadline = time.monotonic() + 20
        while Session.objects.filter(session_key="expired-session").exists():
            assert time.monotonic() < deadline, "the worker did not run the task within 20 s"
            time.sleep(0.2)
