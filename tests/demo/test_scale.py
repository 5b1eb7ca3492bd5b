"""seed_demo --scale N: a generated clinic group written with COPY through the models' tables, with
every constraint and trigger on. Run at a tiny scale (N=0.02: the demo's two therapists, 100
clients, 40 courses, about 2,000 sessions) on the PostgreSQL test database."""

from __future__ import annotations

import time

import pytest
from auditlog.models import LogEntry
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction

from accounts.models import User
from audit.models import AccessEvent
from demo import scale
from demo import seed as demo
from demo.models import ScaleSeed
from demo.scale import stages
from integration.models import IntegrationReminder
from outbox.models import OutboxMessage
from patients.models import (
    Client,
    ClientFlag,
    Intake,
    Prescription,
    QuestionnaireResponse,
    Referral,
    ReferralTransition,
    TreatmentCourse,
)
from sessions.models import (
    BloodPressureReading,
    DoseAdministration,
    DosingChart,
    Session,
)
from tests.factories_intake import consent

N = 0.02
DEMO_CLIENTS = len(demo.CLIENTS)

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the scale seed writes with PostgreSQL's COPY"
)


@pytest.mark.django_db(transaction=True)
def test_scale_seed(capsys, monkeypatch):
    """One seed (a few seconds; it commits as it goes, on two connections: a transactional
    test), then each property in turn."""
    consent()  # the migrated consent text, made again if an earlier transactional test flushed it
    staff = demo.build()  # the seed's first step; it finds these again
    _the_same_seed_gives_the_same_group(staff)
    _a_failed_seed_leaves_the_demo_as_it_was(monkeypatch)
    call_command("seed_demo", "--scale", str(N), "--force")
    out = capsys.readouterr().out
    _sizes_follow_the_plan_per_n(out)
    _the_clinic_is_realistic()
    _no_therapist_is_double_booked()
    _a_sample_of_rows_passes_full_clean()
    _constraints_and_triggers_were_on()
    _demo_logins_are_there_too()
    _a_second_scale_seed_is_refused()


def _near(actual: int, expected: float, tolerance: float = 0.2) -> bool:
    return abs(actual - expected) <= expected * tolerance


def _sizes_follow_the_plan_per_n(seeded: str):
    plan = scale.Plan.for_scale(N)
    assert User.objects.filter(role="therapist").count() == plan.therapists == 2
    assert Client.objects.count() == plan.clients + DEMO_CLIENTS
    generated = TreatmentCourse.objects.exclude(client__email__endswith=demo.DEMO_DOMAIN)
    assert generated.count() == plan.courses
    assert generated.filter(booster_of__isnull=False).exists()
    assert _near(Session.objects.count(), plan.sessions)
    assert _near(AccessEvent.objects.count(), plan.access_events)
    assert _near(LogEntry.objects.count(), plan.changes, 0.5)
    # A therapist's caseload is the plan's clients shared out (about 100 each from N=0.04 on).
    rivera = User.objects.get(email=f"rivera@{demo.DEMO_DOMAIN}")
    assert Client.objects.filter(primary_therapist=rivera).count() >= plan.clients // 2
    record = ScaleSeed.objects.get()
    assert record.scale == N
    assert record.counts["clinic_sessions_session"] == Session.objects.count()
    assert "clinic_sessions_session" in seeded
    assert "Took " in seeded


def _the_clinic_is_realistic():
    phases = set(TreatmentCourse.objects.values_list("phase", flat=True))
    assert len(phases) >= 5
    assert {"complete", "dosing"} <= phases
    kinds = set(Session.objects.values_list("kind", "status").distinct())
    assert {("general", "completed"), ("general", "cancelled"), ("general", "no_show")} <= kinds
    assert {
        ("general", "scheduled"),
        ("dosing", "completed"),
        ("integration", "completed"),
    } <= kinds
    charts = set(DosingChart.objects.values_list("outcome", "deferral_reason").distinct())
    assert {("discharged", ""), ("deferred", "bp_hard_stop"), ("deferred", "bp_high")} <= charts
    assert BloodPressureReading.objects.filter(result="high", moment="pre_dose").exists()
    statuses = set(IntegrationReminder.objects.values_list("status", flat=True))
    assert {"pending", "sent", "cancelled"} <= statuses
    sent = IntegrationReminder.objects.filter(status="sent")
    assert not sent.filter(outbox_message__isnull=True).exists()
    assert not sent.exclude(outbox_message__status="sent").exists()
    assert ClientFlag.objects.exclude(client__email__endswith=demo.DEMO_DOMAIN).exists()
    assert ReferralTransition.objects.filter(to_status="approved").count() > 10
    assert QuestionnaireResponse.objects.filter(instrument="gad7").count() > 100
    assert Prescription.objects.filter(superseded_at__isnull=False).exists()  # boosters


def _no_therapist_is_double_booked():
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT count(*) FROM clinic_sessions_session a
               JOIN clinic_sessions_session b ON a.therapist_id = b.therapist_id AND a.id < b.id
               WHERE a.status <> 'cancelled' AND b.status <> 'cancelled'
                 AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at"""
        )
        assert cursor.fetchone()[0] == 0


def _a_sample_of_rows_passes_full_clean():
    for model in (
        Client,
        Intake,
        Referral,
        Prescription,
        TreatmentCourse,
        Session,
        DosingChart,
        BloodPressureReading,
        DoseAdministration,
        IntegrationReminder,
        OutboxMessage,
        QuestionnaireResponse,
        AccessEvent,
    ):
        rows = list(model.objects.order_by("-id")[:5])
        assert rows, model
        for row in rows:
            row.full_clean()


def _constraints_and_triggers_were_on():
    """The triggers are enabled, and the database still refuses what they exist to refuse."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname, tgenabled FROM pg_trigger WHERE tgname IN "
            "('clinic_sessions_dose_gate', 'audit_accessevent_append_only')"
        )
        assert dict(cursor.fetchall()) == {
            "clinic_sessions_dose_gate": "O",
            "audit_accessevent_append_only": "O",
        }
    booked = Session.objects.exclude(status="cancelled").filter(kind="general").first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Session.objects.create(
            client=booked.client,
            therapist=booked.therapist,
            kind="general",
            starts_at=booked.starts_at,
            ends_at=booked.ends_at,
            created_by=booked.therapist,
        )
    # R11: a deferred chart's high reading cannot carry a dose.
    chart = DosingChart.objects.filter(deferral_reason="bp_high").select_related("session").first()
    high = chart.session.bp_readings.first()
    with pytest.raises(IntegrityError, match="R11"), transaction.atomic():
        DoseAdministration.objects.create(
            session=chart.session,
            prescription=chart.prescription,
            pre_dose_reading=high,
            given_at=high.taken_at,
            dose_mg=100,
            tablets=1,
            recorded_by=chart.session.therapist,
        )


def _demo_logins_are_there_too():
    for login, *_ in demo.STAFF:
        assert User.objects.get(email=f"{login}@{demo.DEMO_DOMAIN}").check_password(
            demo.DEMO_PASSWORD
        )
    for spec in demo.CLIENTS:
        if spec.portal:
            assert User.objects.filter(email=f"{spec.first.lower()}@{demo.DEMO_DOMAIN}").exists()
    # Generated accounts share one hash of the same password.
    generated = User.objects.filter(email__endswith="@scale.kapclinic.test", role="client")
    assert generated.exists()
    assert generated.first().check_password(demo.DEMO_PASSWORD)
    assert generated.values("password").distinct().count() == 1


def _a_second_scale_seed_is_refused():
    with pytest.raises(CommandError, match="already holds a scale seed"):
        call_command("seed_demo", "--scale", "1", "--force")
    assert ScaleSeed.objects.count() == 1


def _the_same_seed_gives_the_same_group(staff):
    """The group built in memory twice from one seed is the same, row for row (and nothing
    of it is written: each build is rolled back)."""
    now = int(time.time())

    def fingerprint():
        with transaction.atomic():
            ctx = scale._context(scale.Plan.for_scale(N), 7, staff, stages.ALL, now=now)
            scale._generate(ctx)
            transaction.set_rollback(True)
        return [
            (c.email, c.therapist.email, [(s.kind, s.start, s.status) for s in c.sessions])
            for c in ctx.clients
        ]

    first = fingerprint()
    assert len(first) == scale.Plan.for_scale(N).clients
    assert first == fingerprint()


def _a_failed_seed_leaves_the_demo_as_it_was(monkeypatch):
    """A failure once the records are committed (here in the reminders, on the calendar's
    connection, while the trail is written on the other) rolls both back and deletes the
    records again."""
    before = {model: model.objects.count() for model in (User, Client, Session, AccessEvent)}

    def fail(*args, **kwargs):
        raise RuntimeError("the reminders failed")

    with monkeypatch.context() as patch:
        patch.setattr(scale.write_sessions, "reminders", fail)
        with pytest.raises(RuntimeError, match="the reminders failed"):
            scale.build(N)
    assert {model: model.objects.count() for model in before} == before
    assert not ScaleSeed.objects.exists()
