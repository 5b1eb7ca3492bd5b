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
app.autodiscover_tasks(["patients.questionnaires"])

app.conf.beat_schedule = {
    # R22: expired sessions (idle logoff, closed browsers) are removed from the database nightly.
    "clear-expired-sessions": {
        "task": "accounts.clear_expired_sessions",
        "schedule": crontab(hour=3, minute=17),
    },
    # R8: integration reminders are rows with a due time; this sends what is due (never eta).
    "dispatch-due-reminders": {
        "task": "integration.dispatch_due_reminders",
        "schedule": 60.0,
    },
}
