"""Indexes for the Outbox page (issue 13): newest first, all messages or one status, read as a
keyset page off the index instead of sorting the whole outbox (every reminder and confirmation
the clinic ever sent); and UPPER("to") for a therapist's own messages (``to__iexact``). Built
CONCURRENTLY on PostgreSQL: the dispatcher writes to the outbox all day."""

import django.db.models.functions.text
from django.db import migrations, models

from kap_clinic.migration_operations import AddIndexWithoutBlocking


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY refuses to run in a transaction

    dependencies = [
        ("outbox", "0002_topic_and_confirmations"),
    ]

    operations = [
        AddIndexWithoutBlocking(
            model_name="outboxmessage",
            index=models.Index(fields=["-created_at", "-id"], name="outbox_list_idx"),
        ),
        AddIndexWithoutBlocking(
            model_name="outboxmessage",
            index=models.Index(
                fields=["status", "-created_at", "-id"], name="outbox_list_status_idx"
            ),
        ),
        AddIndexWithoutBlocking(
            model_name="outboxmessage",
            index=models.Index(
                django.db.models.functions.text.Upper("to"), name="outbox_to_upper_idx"
            ),
        ),
    ]
