"""The clinic settings page (admin only). Values saved there override the server
configuration from then on; past readings keep the thresholds they were judged against."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from auditlog.models import LogEntry
from django.db import IntegrityError, transaction
from django.urls import reverse

from clinic import settings_reader
from clinic.models import ClinicSettings
from clinic.services import clinic_settings_update
from sessions.models import BloodPressureReading
from tests import factories
from tests.conftest import sign_in
from tests.factories_sessions import dosing_ready_session
from tests.sessions.dosing_helpers import MORNING, prepare
from tests.sessions.test_dosing_services import PREPARED, T0, bp

URL = "/clinic/settings/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def prepared(client_record):
    """A dosing session prepared at 9:10, ready for its pre-dose reading."""
    with time_machine.travel(MORNING, tick=False):
        session = dosing_ready_session(client_record)
        prepare(session, now=PREPARED)
        yield session


def post(client, **values):
    return client.post(URL, {name: values.get(name, "") for name in settings_reader.SETTING_NAMES})


def test_url_is_the_named_route():
    assert reverse("clinic:settings") == URL


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_therapist_and_client_get_404(client, therapist):
    sign_in(client, therapist)
    assert client.get(URL).status_code == 404
    assert post(client, bp_defer_systolic="150").status_code == 404
    client.logout()
    sign_in(client, factories.ClientUserFactory())
    assert client.get(URL).status_code == 404
    assert not ClinicSettings.objects.exists()


def test_admin_sees_groups_ranges_and_server_values(client, admin_user, settings):
    settings.BP_DEFER_SYSTOLIC = 140
    sign_in(client, admin_user)
    page = client.get(URL).content.decode()
    for title in ("Dosing session safety", "Scheduling", "Reminders", "Security"):
        assert title in page
    assert "Allowed: 130 to 160 (R12)." in page
    assert "from the server configuration" in page


@pytest.mark.parametrize(("value", "ok"), [(130, True), (129, False), (160, True), (161, False)])
def test_defer_systolic_range_ends(client, admin_user, value, ok):
    sign_in(client, admin_user)
    response = post(client, bp_defer_systolic=str(value))
    if ok:
        assert response.status_code == 302
        assert settings_reader.current().bp_defer_systolic == value
    else:
        assert response.status_code == 200
        page = response.content.decode()
        assert "Enter a whole number from 130 to 160 (R12)." in page
        assert f'value="{value}"' in page  # what was typed is kept
        assert not ClinicSettings.objects.exists()


@pytest.mark.parametrize(
    ("name", "low", "high"),
    [
        ("prep_sessions_required", 1, 6),
        ("bp_recheck_wait_minutes", 5, 15),
        ("bp_rechecks", 1, 3),
        ("post_dose_vitals_minutes", 30, 60),
        ("min_observation_minutes", 60, 240),
        ("dosing_session_minutes", 120, 300),
        ("session_minutes", 15, 180),
        ("dose_hold_minutes", 5, 20),
        ("reminder_send_hour", 0, 23),
        ("idle_timeout_minutes", 5, 60),
    ],
)
def test_other_range_ends(client, admin_user, name, low, high):
    sign_in(client, admin_user)
    for value in (low - 1, high + 1):
        if value < 0:
            continue
        assert post(client, **{name: str(value)}).status_code == 200, (name, value)
    for value in (low, high):
        assert post(client, **{name: str(value)}).status_code == 302, (name, value)
        row = ClinicSettings.objects.get()
        assert getattr(row, name) == value


def test_hard_stop_must_exceed_defer(client, admin_user, settings):
    settings.BP_HARD_STOP_DIASTOLIC = 100
    sign_in(client, admin_user)
    response = post(client, bp_defer_diastolic="100")
    assert response.status_code == 200
    assert "must be above the defer threshold" in response.content.decode()
    assert post(client, bp_defer_diastolic="100", bp_hard_stop_diastolic="101").status_code == 302


def test_reminder_days_list(client, admin_user):
    sign_in(client, admin_user)
    assert post(client, reminder_days="0,2").status_code == 200
    assert post(client, reminder_days="8").status_code == 200
    assert post(client, reminder_days="3, 1,3").status_code == 302
    assert settings_reader.current().reminder_days == (1, 3)


def test_database_refuses_out_of_range_values(admin_user):
    with pytest.raises(IntegrityError), transaction.atomic():
        ClinicSettings.objects.create(pk=1, bp_defer_systolic=129)
    with pytest.raises(IntegrityError), transaction.atomic():
        ClinicSettings.objects.create(pk=2)


def test_empty_field_falls_back_to_the_server_value_read_at_call_time(admin_user, settings):
    clinic_settings_update(by=admin_user, bp_rechecks=3)
    settings.BP_RECHECKS = 1
    settings.BP_RECHECK_WAIT_MINUTES = 12
    current = settings_reader.current()
    assert (current.bp_rechecks, current.bp_recheck_wait_minutes) == (3, 12)
    assert current.overridden == {"bp_rechecks"}
    clinic_settings_update(by=admin_user, bp_rechecks=None)
    assert settings_reader.current().bp_rechecks == 1


def test_change_is_audited_with_the_admin(client, admin_user):
    sign_in(client, admin_user)
    post(client, bp_defer_systolic="150")
    row = ClinicSettings.objects.get()
    assert row.updated_by == admin_user
    entry = LogEntry.objects.get_for_object(row).latest("timestamp")
    assert entry.actor == admin_user
    assert entry.changes_dict["bp_defer_systolic"][1] == "150"


def test_only_admins_may_call_the_service(therapist):
    with pytest.raises(PermissionError):
        clinic_settings_update(by=therapist, bp_rechecks=2)


def test_idle_timeout_override_reaches_the_pages(client, admin_user):
    clinic_settings_update(by=admin_user, idle_timeout_minutes=20)
    sign_in(client, admin_user)
    assert client.get(URL).context["IDLE_TIMEOUT_SECONDS"] == 20 * 60


def test_r12_old_reading_keeps_its_thresholds_and_the_next_uses_the_new(prepared, admin_user):
    first = bp(prepared, 145, 85, at=T0)
    assert first.result == "high"
    clinic_settings_update(by=admin_user, bp_defer_systolic=150, bp_hard_stop_systolic=190)
    second = bp(prepared, 145, 85, at=T0 + timedelta(minutes=5))
    first.refresh_from_db()
    assert (first.result, first.defer_systolic, first.hard_stop_systolic) == ("high", 140, 180)
    assert (second.result, second.defer_systolic, second.hard_stop_systolic) == (
        "in_range",
        150,
        190,
    )
    assert BloodPressureReading.objects.count() == 2


def test_r12_a_lower_defer_threshold_applies_to_the_next_reading(prepared, admin_user):
    clinic_settings_update(by=admin_user, bp_defer_systolic=130)
    reading = bp(prepared, 132, 85, at=T0)
    assert (reading.result, reading.defer_systolic) == ("high", 130)


def test_reader_queries_once_then_uses_the_cache(admin_user, django_assert_num_queries):
    clinic_settings_update(by=admin_user, bp_rechecks=3)
    settings_reader.clear()
    with django_assert_num_queries(1):
        assert settings_reader.current().bp_rechecks == 3
    with django_assert_num_queries(0):
        assert settings_reader.current().bp_rechecks == 3
