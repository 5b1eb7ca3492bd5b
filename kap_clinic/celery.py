"""The Celery app. Configuration comes from Django settings (CELERY_*); the beat schedule is here,
in code, so that it is reviewed like code and needs no database scheduler."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kap_clinic.settings")

app = Celery("kap_clinic")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each app's tasks.py, and the task modules of resource packages inside an app.
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # R22: expired sessions (idle logoff, closed browsers) are removed from the database nightly.
    "clear-expired-sessions": {
        "task": "accounts.clear_expired_sessions",
        "schedule": crontab(hour=3, minute=17),
    },
    # R8: integration reminders are plan rows with a due time; this hands what is due to the
    # outbox (never eta).
    "dispatch-due-reminders": {
        "task": "integration.dispatch_due_reminders",
        "schedule": 60.0,
    },
    # Every e-mail is an outbox row; this sends what is due, retries what failed for now, and
    # picks up what a dead worker or a broker outage left behind.
    "dispatch-outbox": {
        "task": "outbox.dispatch_due",
        "schedule": 60.0,
    },
}
