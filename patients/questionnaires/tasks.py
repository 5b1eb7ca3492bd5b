"""Celery tasks of the patients app: thin, take primitive ids, re-fetch, call a service."""

from __future__ import annotations

from celery import shared_task

from patients.questionnaires import services

# Backoff for a mail server that refuses for now: 1, 2, 4, 8, 16 minutes, then give up (the
# alert itself is in the app and on the staff banner whatever happens to the e-mail).
MAX_RETRIES = 5


@shared_task(name="patients.send_alert_email", bind=True, max_retries=MAX_RETRIES)
def send_alert_email(self, alert_id: int, base_url: str = "") -> bool:
    """R20/R25: tell the therapist there is a safety alert to review, without clinical detail.
    Sends at most once per alert (the service claims the row)."""
    try:
        return services.alert_email_send(alert_id=alert_id, base_url=base_url)
    except services.TransientEmailError as error:
        raise self.retry(exc=error, countdown=60 * 2**self.request.retries) from error
