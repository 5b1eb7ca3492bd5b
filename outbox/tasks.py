"""Celery tasks of the outbox: thin; the beat runs the dispatcher every minute."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from outbox import dispatch


@shared_task(name="outbox.dispatch_due", ignore_result=True)
def dispatch_due() -> dict:
    """Send every message that is due. Safe to run on several workers at once and to redeliver:
    rows are claimed, never scheduled with eta. Stops claiming well before the soft time limit."""
    result = dispatch.dispatch_all_due(
        budget_seconds=max(settings.CELERY_TASK_SOFT_TIME_LIMIT - 60, 10)
    )
    return {"sent": result.sent, "cancelled": result.cancelled, "failed": result.failed}
