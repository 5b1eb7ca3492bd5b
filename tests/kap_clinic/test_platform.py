"""Settings, health check, security headers, demo data."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from kombu import Connection

from accounts.models import User
from integration.dispatch import dispatch_due
from integration.models import IntegrationReminder
from kap_clinic.celery import app
from patients.models import (
    Alert,
    Client,
    ClientFlag,
    ClientShare,
    Intake,
    PortalInvitation,
    Prescription,
    QuestionnaireResponse,
    Referral,
    TreatmentCourse,
)
from sessions.models import BloodPressureReading, DoseAdministration, DosingChart, Session
from tests import factories
from tests.conftest import sign_in

ROOT = Path(__file__).resolve().parents[2]


def _check(env_overrides: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ALLOWED_HOSTS"}}
    env.update({"DJANGO_SETTINGS_MODULE": "kap_clinic.settings", **env_overrides})
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = _check({"DEBUG": "false", "ALLOWED_HOSTS": "clinic.example.org"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = _check({"DEBUG": "false", "SECRET_KEY": "s" * 30 + "t" * 30, "ALLOWED_HOSTS": ""})
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must list" in result.stderr


def test_production_starts_with_both():
    result = _check(
        {"DEBUG": "false", "SECRET_KEY": "s" * 30 + "t" * 30, "ALLOWED_HOSTS": "clinic.example.org"}
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.django_db
def test_healthz_reports_database_and_broker(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_healthz_is_503_when_the_broker_is_down(client, monkeypatch):
    # A broker address where nothing listens.
    monkeypatch.setattr(app, "connection_for_write", lambda: Connection("redis://127.0.0.1:1/0"))
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "broker": "error"}


@pytest.mark.django_db
def test_pages_carry_a_strict_content_security_policy(client):
    response = client.get(reverse("accounts:login"))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    body = response.content.decode()
    assert " style=" not in body  # no inline styles: CSP style-src 'self'
    assert "<script>" not in body  # every script is a file


@pytest.mark.django_db
def test_error_pages_are_friendly(client, therapist):
    sign_in(client, therapist)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert "Go to my home page" in response.content.decode()


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_covers_every_stage(capsys, settings):
    settings.DEBUG = True
    call_command("seed_demo")

    models = (
        User,
        Client,
        ClientShare,
        Intake,
        QuestionnaireResponse,
        Alert,
        PortalInvitation,
        Referral,
        TreatmentCourse,
        Session,
        DoseAdministration,
    )
    counts = [model.objects.count() for model in models]

    counts_reminders = IntegrationReminder.objects.count()
    call_command("seed_demo")
    assert [model.objects.count() for model in models] == counts
    out = capsys.readouterr().out
    assert "rivera@demo.kapclinic.test" in out
    assert "kap-demo-2026" in out
    assert User.objects.filter(role="therapist").count() == 2
    assert User.objects.get(email="rivera@demo.kapclinic.test").check_password("kap-demo-2026")
    # One client at each stage that exists so far.
    assert Intake.objects.filter(status="draft").count() == 1
    assert Intake.objects.filter(status="submitted", reviewed_at__isnull=False).count() == 1
    assert Intake.objects.filter(status="submitted", reviewed_at__isnull=True).count() == 6
    assert ClientFlag.objects.filter(code="hypertension", is_current=True).exists()
    assert Alert.objects.filter(kind="phq9_item9", recipient__email="chen@demo.kapclinic.test")
    assert PortalInvitation.objects.filter(accepted_at__isnull=True).count() == 1
    assert Client.objects.filter(archived_at__isnull=False).count() == 1
    # R1, R3: every referral state, and every course phase reachable before sessions exist.
    states = set(Referral.objects.values_list("status", flat=True))
    assert states == {"draft", "sent", "under_review", "approved", "declined", "withdrawn"}
    phases = set(TreatmentCourse.objects.values_list("phase", flat=True))
    assert phases == {
        "intake",
        "referral",
        "preparation",
        "dosing",
        "complete",
        "on_hold",
        "discontinued",
    }
    assert Prescription.objects.filter(superseded_at__isnull=True).count() == 3
    # R2-R15: a dosing day ready to chart today, doses given (one after a recheck), a hard-stop
    # deferral with the prescriber informed, integration sessions after every dose.
    daniel_dose = Session.objects.get(client__first_name="Daniel", kind="dosing")
    assert daniel_dose.status == "scheduled"
    assert timezone.localdate(daniel_dose.starts_at) == timezone.localdate()
    assert not DosingChart.objects.filter(session=daniel_dose).exists()
    assert DoseAdministration.objects.count() == 5
    assert DosingChart.objects.filter(outcome="deferred", deferral_reason="bp_hard_stop").count()
    assert BloodPressureReading.objects.filter(result="high").count() == 1
    assert Session.objects.filter(kind="integration", status="completed").count() == 4
    # R8: Ruth's dose yesterday has no integration session booked: its three reminders and
    # Sam's 24-hour check are pending; every older dose's were cancelled by its integration
    # session (R8). The check becomes an open alert when it is sent (as the beat will today).
    assert IntegrationReminder.objects.count() == counts_reminders
    pending = IntegrationReminder.objects.filter(status="pending")
    assert {row.client.first_name for row in pending} == {"Ruth"}
    assert sorted(pending.values_list("kind", "day")) == [
        ("client", 1),
        ("client", 2),
        ("client", 3),
        ("therapist", 0),
    ]
    assert set(
        IntegrationReminder.objects.exclude(status="pending").values_list("status", flat=True)
    ) == {"cancelled"}
    ruth_dose = DoseAdministration.objects.filter(session__client__first_name="Ruth").latest(
        "given_at"
    )
    assert timezone.localdate(ruth_dose.given_at) == timezone.localdate() - timedelta(days=1)
    check = pending.get(kind="therapist")
    dispatch_due(now=check.due_at)  # the seed's safety-alert e-mails go out with it
    check.refresh_from_db()
    assert check.status == "sent"
    assert check.is_open_alert
    ruth_next = Session.objects.get(client__first_name="Ruth", kind="dosing", status="scheduled")
    gap = timezone.localdate(ruth_next.starts_at) - timezone.localdate(ruth_dose.given_at)
    assert gap == timedelta(days=14)  # R6


@pytest.mark.django_db
def test_seed_demo_refuses_a_production_install(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo")


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["therapist", "admin"])
def test_client_list_query_count_is_constant(client, therapist, admin_user, role):
    user = therapist if role == "therapist" else admin_user
    sign_in(client, user)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("patients:client_list")).status_code == 200
        return len(queries)

    factories.ClientFactory.create_batch(2, primary_therapist=therapist)
    small = count()
    factories.ClientFactory.create_batch(40, primary_therapist=therapist)
    others = factories.ClientFactory.create_batch(5)
    for record in others[:3]:
        factories.ClientShareFactory(client=record, therapist=therapist, granted_by=admin_user)
    assert count() == small


@pytest.mark.django_db
def test_client_list_search_and_pagination(client, therapist):
    factories.ClientFactory.create_batch(30, primary_therapist=therapist, last_name="Smith")
    factories.ClientFactory(
        primary_therapist=therapist, last_name="Okafor", phone="+1 (555) 777-1234"
    )
    sign_in(client, therapist)
    response = client.get(reverse("patients:client_list"), {"q": "okaf"})
    assert [c.last_name for c in response.context["page"].object_list] == ["Okafor"]
    response = client.get(reverse("patients:client_list"), {"q": "777-1234"})
    assert response.context["page"].paginator.count == 1
    response = client.get(reverse("patients:client_list"), {"q": "smith", "page": 2})
    assert response.context["page"].number == 2
    assert len(response.context["page"].object_list) == 5
    assert "q=smith" in response.content.decode()
