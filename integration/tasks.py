"""Celery tasks of the integration app: thin; the beat runs the queueing every minute."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from integration import dispatch


@shared_task(name="integration.dispatch_due_reminders", ignore_result=True)
def dispatch_due_reminders() -> dict:
    """Decide about every reminder that is due (R8) and hand those to send to the outbox (the
    outbox.dispatch_due task sends them). Safe to run on several workers at once and to
    redeliver: rows are claimed, never scheduled with eta."""
    result = dispatch.queue_all_due(base_url=settings.SITE_URL)
    return {"queued": result.claimed - result.cancelled, "cancelled": result.cancelled}
