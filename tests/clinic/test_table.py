"""The clinic settings table (clinic/table.py) is the one definition the environment, the model,
the form and the reader follow."""

from __future__ import annotations

import dataclasses

import environ
import pytest
from django.core.exceptions import ImproperlyConfigured

from clinic import settings_reader, table
from clinic.models import ClinicSettings
from staff.clinic.forms import ClinicSettingsForm

SETTING_FIELDS = {row.field for row in table.CLINIC_SETTINGS}


def test_the_model_form_and_reader_cover_exactly_the_table():
    model_fields = {f.name for f in ClinicSettings._meta.fields} - {
        "id",
        "updated_by",
        "updated_at",
    }
    assert model_fields == SETTING_FIELDS
    assert set(ClinicSettingsForm().fields) == SETTING_FIELDS
    effective = {f.name for f in dataclasses.fields(settings_reader.Effective)} - {"overridden"}
    assert effective == (SETTING_FIELDS - {"idle_timeout_minutes"}) | {"idle_timeout_seconds"}


def test_each_range_is_a_database_constraint():
    names = {c.name for c in ClinicSettings._meta.constraints}
    assert {f"clinicsettings_{row.field}_range" for row in table.RANGED} <= names
    assert len(table.RANGED) == 16


def test_the_form_says_the_table_range():
    field = ClinicSettingsForm().fields["bp_defer_systolic"]
    assert (field.min_value, field.max_value) == (130, 160)
    assert field.help_text == "Allowed: 130 to 160 (R12)."


def test_the_environment_defaults_are_domain_defaults(monkeypatch):
    for row in table.CLINIC_SETTINGS:
        monkeypatch.delenv(row.env, raising=False)
    values = table.environment_values(environ.Env(), clinic_name="Riverside")
    assert values["BP_DEFER_SYSTOLIC"] == 140  # R12
    assert values["BP_HARD_STOP_DIASTOLIC"] == 100  # R13
    assert values["PREP_SESSIONS_REQUIRED"] == 3  # R2
    assert values["REMINDER_DAYS"] == [1, 2, 3]  # R8
    assert values["IDLE_TIMEOUT_SECONDS"] == 15 * 60  # R22
    assert values["REMINDER_SIGNATURE"] == "The team at Riverside"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("BP_DEFER_SYSTOLIC", "170", "BP_DEFER_SYSTOLIC must be between 130 and 160 (R12)."),
        ("IDLE_TIMEOUT_MINUTES", "240", "IDLE_TIMEOUT_MINUTES must be between 5 and 60 (R22)."),
        ("REMINDER_DAYS", "0,2", "REMINDER_DAYS must list days 1 to 7 after the dose (R8)."),
    ],
)
def test_the_server_refuses_to_start_outside_a_range(monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ImproperlyConfigured, match=message.replace("(", r"\(").replace(")", r"\)")):
        table.environment_values(environ.Env(), clinic_name="Riverside")


def test_the_hard_stop_must_stay_above_the_defer_threshold(monkeypatch):
    monkeypatch.setenv("BP_DEFER_DIASTOLIC", "100")
    monkeypatch.setenv("BP_HARD_STOP_DIASTOLIC", "100")
    with pytest.raises(ImproperlyConfigured, match="above the defer threshold"):
        table.environment_values(environ.Env(), clinic_name="Riverside")
