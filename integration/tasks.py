"""Celery tasks of the integration app: thin; the beat runs the dispatcher every minute."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from integration import dispatch


@shared_task(name="integration.dispatch_due_reminders", ignore_result=True)
def dispatch_due_reminders() -> dict:
    """Send every reminder that is due (R8). Safe to run on several workers at once and to
    redeliver: rows are claimed, never scheduled with eta."""
    result = dispatch.dispatch_all_due(
        budget_seconds=max(settings.CELERY_TASK_SOFT_TIME_LIMIT - 30, 10),
        base_url=settings.SITE_URL,
    )
    return {"sent": result.sent, "cancelled": result.cancelled, "failed": result.failed}
