"""Partial indexes for the dashboard and its CSV export (issue 13), measured at N=10 (973,851
sessions, 55,020 dosing charts): each alert that the export tests once per chunk read the whole
dosing-chart table (a sequential scan, ~20 ms, several times a chunk), and "preparation done"
read each course's sessions from the heap. Each index holds the few rows its question is about.
Built CONCURRENTLY on PostgreSQL (sessions and charts are written all day)."""

from django.db import migrations, models

from kap_clinic.migration_operations import AddIndexWithoutBlocking


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY refuses to run in a transaction

    dependencies = [
        ("clinic_sessions", "0006_session_and_dose_time_indexes"),
    ]

    operations = [
        AddIndexWithoutBlocking(
            model_name="dosingchart",
            index=models.Index(
                condition=models.Q(("discharged_at__isnull", True), ("outcome", "open")),
                fields=["session"],
                name="dosingchart_undischarged_idx",
            ),
        ),
        AddIndexWithoutBlocking(
            model_name="dosingchart",
            index=models.Index(
                condition=models.Q(("outcome", "deferred")),
                fields=["deferred_at"],
                name="dosingchart_deferred_idx",
            ),
        ),
        AddIndexWithoutBlocking(
            model_name="session",
            index=models.Index(
                condition=models.Q(("kind", "preparation"), ("status", "completed")),
                fields=["course"],
                name="session_prep_done_idx",
            ),
        ),
    ]
