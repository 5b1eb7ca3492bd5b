"""Migration patients 0008 (R4): the merged "Oral (buccal)" route, stored as "oral", becomes
"buccal"; "oral" then means swallowed. Run on the real migration graph, forwards and back."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from patients.models import Prescription
from tests.factories_referrals import PrescriptionFactory

BEFORE = ("patients", "0007_outbox_messages")
AFTER = ("patients", "0008_prescription_routes_separate")

pytestmark = pytest.mark.django_db(transaction=True)


def migrate(target):
    """Migrate to ``target`` (one app's migration) and return the models as they are there."""
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    executor.loader.build_graph()
    return executor.loader.project_state([target]).apps


def migrate_to_latest():
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.fixture
def back_to_latest():
    yield
    migrate_to_latest()


def test_the_route_migration_forwards_and_back(back_to_latest):
    """Each migration of the whole graph takes seconds: one round trip for the three properties,
    in turn (as tests/demo/test_scale.py does with its seed)."""
    _the_merged_oral_buccal_route_becomes_buccal_and_reverses_to_it()
    _reversing_refuses_a_route_the_old_choices_cannot_hold()


def _the_merged_oral_buccal_route_becomes_buccal_and_reverses_to_it():
    under_tongue = PrescriptionFactory(route="sublingual")
    lozenge = PrescriptionFactory(route="buccal")
    old = migrate(BEFORE)
    OldPrescription = old.get_model("patients", "Prescription")
    field = OldPrescription._meta.get_field("route")
    assert dict(field.choices)["oral"] == "Oral (buccal)"
    # Reversing maps buccal back to the merged value.
    assert OldPrescription.objects.get(pk=lozenge.pk).route == "oral"
    assert OldPrescription.objects.get(pk=under_tongue.pk).route == "sublingual"

    migrate(AFTER)
    assert Prescription.objects.get(pk=lozenge.pk).route == "buccal"
    assert Prescription.objects.get(pk=under_tongue.pk).route == "sublingual"
    assert not Prescription.objects.filter(route="oral").exists()


def _reversing_refuses_a_route_the_old_choices_cannot_hold():
    migrate_to_latest()
    PrescriptionFactory(route="intramuscular")
    with pytest.raises(RuntimeError, match="1 prescription"):
        migrate(BEFORE)
