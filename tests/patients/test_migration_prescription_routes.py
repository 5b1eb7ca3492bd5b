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


@pytest.fixture
def back_to_latest():
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_the_merged_oral_buccal_route_becomes_buccal(back_to_latest):
    under_tongue = PrescriptionFactory(route="sublingual")
    lozenge = PrescriptionFactory(route="sublingual")
    old = migrate(BEFORE)
    OldPrescription = old.get_model("patients", "Prescription")
    field = OldPrescription._meta.get_field("route")
    assert dict(field.choices)["oral"] == "Oral (buccal)"
    OldPrescription.objects.filter(pk=lozenge.pk).update(route="oral")

    migrate(AFTER)
    assert Prescription.objects.get(pk=lozenge.pk).route == "buccal"
    assert Prescription.objects.get(pk=under_tongue.pk).route == "sublingual"
    assert not Prescription.objects.filter(route="oral").exists()


def test_reversing_maps_buccal_back_to_the_merged_value(back_to_latest):
    lozenge = PrescriptionFactory(route="buccal")
    old = migrate(BEFORE)
    assert old.get_model("patients", "Prescription").objects.get(pk=lozenge.pk).route == "oral"


def test_reversing_refuses_a_route_the_old_choices_cannot_hold(back_to_latest):
    PrescriptionFactory(route="intramuscular")
    with pytest.raises(RuntimeError, match="1 prescription"):
        migrate(BEFORE)
