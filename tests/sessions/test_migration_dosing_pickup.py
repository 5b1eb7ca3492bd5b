"""Migration clinic_sessions 0005 (R15): the pickup time typed with the return notes is kept as
the expected pickup; on a chart not discharged yet the arrival is cleared (asked at discharge);
a discharged chart keeps what it recorded. Run on the real migration graph."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from sessions.dosing import services as dosing
from sessions.models import DosingChart
from tests.factories_sessions import dosing_ready_session
from tests.sessions.dosing_helpers import MORNING, give_dose

BEFORE = ("clinic_sessions", "0004_dose_gate_interval")
AFTER = ("clinic_sessions", "0005_dosing_chart_expected_and_actual_pickup")
GIVEN = MORNING + timedelta(minutes=30)
TYPED = GIVEN + timedelta(hours=2, minutes=15)  # what the return form held as "Pickup time"

pytestmark = pytest.mark.django_db(transaction=True)


def migrate(target):
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    executor.loader.build_graph()
    return executor.loader.project_state([target]).apps


@pytest.fixture
def back_to_latest():
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.fixture
def dosed():
    with time_machine.travel(MORNING, tick=False):
        session = dosing_ready_session()
        give_dose(session, at=GIVEN)
    return session


def _discharge(session):
    with time_machine.travel(GIVEN + timedelta(hours=2), tick=False):
        dosing.chart_return_save(
            session=session,
            by=session.therapist,
            return_notes="",
            chaperone_name="Ravi Patel",
            chaperone_phone="",
            pickup_expected_at=None,
        )
        dosing.discharge(
            session=session, by=session.therapist, pickup_at=GIVEN + timedelta(hours=2)
        )


def test_an_open_charts_typed_pickup_becomes_the_expected_one(back_to_latest, dosed):
    old = migrate(BEFORE)
    OldChart = old.get_model("clinic_sessions", "DosingChart")
    OldChart.objects.filter(session_id=dosed.pk).update(pickup_at=TYPED)

    migrate(AFTER)
    chart = DosingChart.objects.get(session=dosed)
    assert (chart.pickup_expected_at, chart.pickup_at) == (TYPED, None)


def test_a_discharged_chart_keeps_its_recorded_pickup(back_to_latest, dosed):
    _discharge(dosed)
    old = migrate(BEFORE)
    OldChart = old.get_model("clinic_sessions", "DosingChart")
    # Before the fix: a pickup typed as 15 minutes after the discharge (the issue).
    OldChart.objects.filter(session_id=dosed.pk).update(pickup_at=TYPED)

    migrate(AFTER)
    chart = DosingChart.objects.get(session=dosed)
    assert chart.outcome == "discharged"
    assert (chart.pickup_expected_at, chart.pickup_at) == (TYPED, TYPED)


def test_reversing_puts_the_expected_pickup_back_on_an_open_chart(back_to_latest, dosed):
    DosingChart.objects.filter(session=dosed).update(pickup_expected_at=TYPED)
    old = migrate(BEFORE)
    assert (
        old.get_model("clinic_sessions", "DosingChart").objects.get(session_id=dosed.pk).pickup_at
        == TYPED
    )
