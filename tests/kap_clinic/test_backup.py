"""R24: `manage.py backup` then `manage.py restore` gives back every client, course, reading and
audit row (pg_dump/pg_restore on PostgreSQL; SQLite's online backup on `make run`'s database)."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from audit.models import AccessEvent, AppendOnlyError
from patients.models import Client, TreatmentCourse
from sessions.models import BloodPressureReading, DoseAdministration
from tests import factories
from tests.factories_integration import dose_for

MODELS = [Client, TreatmentCourse, BloodPressureReading, DoseAdministration, AccessEvent, LogEntry]


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.mark.django_db(transaction=True)
def test_a_restored_backup_has_every_record(tmp_path, therapist):
    for _ in range(3):
        client = factories.ClientFactory(primary_therapist=therapist)
        dose_for(client)
        AccessEvent.objects.create(user=therapist, client=client, page="Client record")
    before = _counts()
    assert all(before.values()), before  # something of each kind to lose
    target = tmp_path / ("clinic.dump" if connection.vendor == "postgresql" else "clinic.sqlite3")

    call_command("backup", output=str(target))
    assert target.stat().st_size > 0
    # What is written after the backup is not in it: the restore goes back to the backup.
    factories.ClientFactory(primary_therapist=therapist)
    assert Client.objects.count() == before["Client"] + 1

    call_command("restore", str(target), yes=True)
    assert _counts() == before
    # The append-only guards came back with the data (R22): the model's, and PostgreSQL's trigger.
    event = AccessEvent.objects.first()
    with pytest.raises(AppendOnlyError):
        event.save()
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE audit_accessevent SET page = 'x'")


def test_restore_asks_for_confirmation(tmp_path):
    backup = tmp_path / "x.dump"
    backup.write_bytes(b"not a backup")
    with pytest.raises(CommandError, match="Add --yes"):
        call_command("restore", str(backup))
    with pytest.raises(CommandError, match="No backup at"):
        call_command("restore", str(tmp_path / "missing.dump"), yes=True)
