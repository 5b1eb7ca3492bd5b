"""Query budgets (issue 13): every page, for each role that uses it, runs an exact number of SQL
statements for a realistic record, the same number once the record and the clinic around it have
grown (more sessions, doses, readings, adverse events, questionnaires, reminders, audit rows,
shares, other clients and other therapists), and never more than 12.

The numbers count everything a request sends, the per-request floor included: the session and the
user for everyone, and for staff the navbar's two counts (open safety alerts, open reminder
alerts) in one statement; the session save and the two-factor device read come once a minute,
not on these requests (accounts.middleware). A client page adds its client lookup and its
access row (R22).

A number that changes is a finding either way: more queries is a regression to explain, fewer is
the budget to lower here.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import transaction
from django.urls import reverse

from audit.models import AccessEvent
from clinic import settings_reader
from patients.models import ClientFlag, CourseTransition, Phase, QuestionnaireResponse
from patients.models.clients import FlagCode
from patients.questionnaires import scoring
from patients.questionnaires import services as questionnaire_services
from sessions.dosing import services as dosing_services
from sessions.models import (
    AdverseEvent,
    BloodPressureReading,
    DoseAdministration,
    DosingChart,
    Session,
)
from sessions.scheduling.services import session_schedule
from tests import factories
from tests.conftest import sign_in
from tests.factories_integration import IntegrationReminderFactory
from tests.factories_sessions import SessionFactory, dosing_ready_session
from tests.sessions.dosing_helpers import MORNING, give_dose

pytestmark = pytest.mark.django_db

MAX_QUERIES = 12
# The record's dose, an hour into its dosing session on the morning of MORNING.
DOSE_AT = MORNING + timedelta(minutes=30)
# Where the clock stands for the requests: the day after the dose.
NOW = MORNING + timedelta(days=1, hours=3)
THRESHOLDS = {
    "defer_systolic": settings.BP_DEFER_SYSTOLIC,
    "defer_diastolic": settings.BP_DEFER_DIASTOLIC,
    "hard_stop_systolic": settings.BP_HARD_STOP_SYSTOLIC,
    "hard_stop_diastolic": settings.BP_HARD_STOP_DIASTOLIC,
}


@dataclass
class Record:
    """A client in the dosing phase, built through the services as the pages build it: a
    submitted intake with a flag, an approved referral with its history and prescription, three
    completed preparation sessions, a dose charted on the dosing chart with readings, an adverse
    event and the discharge, its reminders, an integration session booked, a next session,
    PHQ-9 and GAD-7 scores, a share with a second therapist."""

    therapist: object
    admin: object
    client: object
    course: object
    session: object
    referral: object


def _record() -> Record:
    therapist = factories.TherapistFactory(first_name="Sam", last_name="Rivera")
    admin = factories.AdminFactory()
    session = dosing_ready_session(therapist=therapist, starts_at=MORNING)
    client = session.client
    intake = client.intakes.get(status="submitted")
    ClientFlag.objects.create(client=client, intake=intake, code=FlagCode.LIVER, evidence=[])
    give_dose(session, at=DOSE_AT)
    dosing_services.bp_record(
        session=session,
        by=therapist,
        moment="post_dose",
        systolic=131,
        diastolic=84,
        pulse=74,
        taken_at=DOSE_AT + timedelta(minutes=40),
        now=DOSE_AT + timedelta(minutes=40),
    )
    dosing_services.adverse_event_record(
        session=session,
        by=therapist,
        kind="nausea",
        severity="mild",
        noticed_at=DOSE_AT + timedelta(minutes=20),
        now=DOSE_AT + timedelta(minutes=25),
    )
    discharge_at = DOSE_AT + timedelta(hours=2, minutes=30)
    dosing_services.chart_return_save(
        session=session,
        by=therapist,
        return_notes="",
        chaperone_name="Ravi Patel",
        chaperone_phone="+1 555 201 7777",
        pickup_expected_at=discharge_at,
    )
    dosing_services.discharge(
        session=session, by=therapist, pickup_at=discharge_at, now=discharge_at
    )
    session_schedule(
        client=client, kind="integration", starts_at=MORNING + timedelta(days=2), by=therapist
    )
    _score(client, "phq9", [1] * 8 + [0])
    _score(client, "gad7", [1] * 7)
    # Due in the portal (the portal's questionnaire page fills it in).
    questionnaire_services.questionnaire_request(client=client, instrument="phq9", by=therapist)
    factories.ClientShareFactory(
        client=client, therapist=factories.TherapistFactory(), granted_by=admin
    )
    session.course.refresh_from_db()
    return Record(
        therapist=therapist,
        admin=admin,
        client=client,
        course=session.course,
        session=session,
        referral=client.referrals.get(),
    )


def _score(client, instrument: str, answers: list[int]) -> QuestionnaireResponse:
    """A response entered by the therapist (no safety alert: item 9 stays 0)."""
    result = scoring.score(instrument, answers)
    return QuestionnaireResponse.objects.create(
        client=client,
        instrument=instrument,
        answers=answers,
        total=result.total,
        band=result.band,
        item9_score=result.item9,
        entered_by=client.primary_therapist,
    )


_DAYS = itertools.count(1)
_SLOTS = itertools.count(1)


def _slot():
    """A past hour of its own, for a grown session (no double booking of the therapist)."""
    return MORNING - timedelta(days=30, hours=3 * next(_SLOTS))


def _grow(record: Record, n: int = 3) -> None:
    """``n`` more of everything the pages read or could read by mistake."""
    client, course, therapist = record.client, record.course, record.therapist
    prescription = client.prescriptions.get(superseded_at__isnull=True)
    for _ in range(n):
        day = next(_DAYS)
        # Older dosing sessions of the course, each with a chart, readings, a dose, an adverse
        # event and the integration session after it (before the record's own dose: R6 counts
        # forward from the latest).
        start = MORNING - timedelta(days=40 + 15 * day)
        dosing = Session.objects.create(
            client=client,
            course=course,
            therapist=therapist,
            kind="dosing",
            starts_at=start,
            ends_at=start + timedelta(hours=3),
            status="completed",
            created_by=therapist,
        )
        DosingChart.objects.create(session=dosing, prescription=prescription, created_by=therapist)
        reading = BloodPressureReading.objects.create(
            session=dosing,
            moment="pre_dose",
            systolic=120,
            diastolic=80,
            taken_at=start,
            result="in_range",
            recorded_by=therapist,
            **THRESHOLDS,
        )
        dose = DoseAdministration.objects.create(
            session=dosing,
            prescription=prescription,
            pre_dose_reading=reading,
            given_at=start + timedelta(minutes=5),
            dose_mg=100,
            tablets=1,
            recorded_by=therapist,
        )
        IntegrationReminderFactory(dose=dose)
        IntegrationReminderFactory(dose=dose, kind="therapist", day=0)
        AdverseEvent.objects.create(
            session=dosing,
            kind="dizziness",
            severity="mild",
            noticed_at=start + timedelta(minutes=30),
            recorded_by=therapist,
        )
        SessionFactory(
            client=client,
            course=course,
            kind="integration",
            status="completed",
            starts_at=start + timedelta(days=1),
            follows_dose=dosing,
        )
        # More readings, an adverse event and a later session on the record's own dosing day.
        BloodPressureReading.objects.create(
            session=record.session,
            moment="post_dose",
            systolic=125,
            diastolic=82,
            taken_at=DOSE_AT + timedelta(minutes=45 + day),
            result="in_range",
            recorded_by=therapist,
            **THRESHOLDS,
        )
        AdverseEvent.objects.create(
            session=record.session,
            kind="anxiety",
            severity="mild",
            noticed_at=DOSE_AT + timedelta(minutes=50 + day),
            recorded_by=therapist,
        )
        SessionFactory(
            client=client, course=course, kind="integration", status="no_show", starts_at=_slot()
        )
        CourseTransition.objects.create(
            course=course,
            from_phase=Phase.DOSING,
            to_phase=Phase.DOSING,
            reason="",
            by=therapist,
        )
        _score(client, "phq9", [2] * 8 + [0])
        _score(client, "gad7", [2] * 7)
        _score(client, "pcl5", [1] * 20)
        # Around the record: other therapists (the share form lists them), shares, other clients
        # of the caseload with their sessions and reminders, and audit rows.
        other = factories.TherapistFactory()
        factories.ClientShareFactory(client=client, therapist=other, granted_by=record.admin)
        neighbour = factories.ClientFactory(primary_therapist=therapist)
        SessionFactory(client=neighbour, kind="preparation", status="completed", starts_at=_slot())
        AccessEvent.objects.create(user=therapist, client=neighbour, page="Client record")
        AccessEvent.objects.create(user=record.admin, client=client, page="Client record")


def _urls(record: Record) -> dict[str, str]:
    client_id, course_id = record.client.pk, record.course.pk
    return {
        "floor": reverse("help"),
        "account": reverse("accounts:account"),
        "client record": reverse("patients:client_detail", kwargs={"client_id": client_id}),
        "course page": reverse(
            "patients:courses:detail", kwargs={"client_id": client_id, "course_id": course_id}
        ),
        "hand-off summary": reverse(
            "patients:courses:handoff", kwargs={"client_id": client_id, "course_id": course_id}
        ),
        "dosing chart": reverse(
            "patients:sessions:dosing_chart",
            kwargs={"client_id": client_id, "session_id": record.session.pk},
        ),
        "referral packet": reverse(
            "patients:referrals:referral_packet",
            kwargs={"client_id": client_id, "referral_id": record.referral.pk},
        ),
        "therapist home": reverse("patients:client_list"),
        "portal home": reverse("portal:home"),
        "portal intake": reverse("portal:intake:start"),
        "portal questionnaires": reverse("portal:questionnaires:list"),
        "portal questionnaire": reverse(
            "portal:questionnaires:fill", kwargs={"instrument": "phq9"}
        ),
        "dashboard": reverse("reports:dashboard"),
        "dashboard export": reverse("reports:export"),
        "reminders": reverse("integration:reminder_list"),
        "audit trail": reverse("audit:audit_log"),
        "calendar week": reverse("calendar:week"),
        "outbox": reverse("outbox:list"),
        "client search": reverse("patients:client_list") + "?q=a",
    }


# (page, role): the exact number of statements, at both sizes.
BUDGETS = {
    ("floor", "client"): 2,
    ("floor", "therapist"): 3,
    ("floor", "admin"): 3,
    ("account", "therapist"): 4,
    ("client record", "therapist"): 12,
    ("client record", "admin"): 12,
    ("course page", "therapist"): 11,
    ("course page", "admin"): 11,
    ("hand-off summary", "therapist"): 11,
    ("dosing chart", "therapist"): 11,
    ("referral packet", "therapist"): 8,
    ("therapist home", "therapist"): 6,
    ("portal home", "client"): 9,
    ("portal intake", "client"): 6,
    ("portal questionnaires", "client"): 7,
    ("portal questionnaire", "client"): 5,
    # Five of its own and, on PostgreSQL, the SET and RESET of reports.selectors.without_jit.
    ("dashboard", "therapist"): 10,
    ("dashboard", "admin"): 10,
    ("dashboard export", "admin"): 9,
    ("reminders", "therapist"): 7,
    ("reminders", "admin"): 7,
    ("audit trail", "admin"): 5,
    ("calendar week", "therapist"): 5,
    ("calendar week", "admin"): 6,
    ("outbox", "admin"): 6,
    ("client search", "admin"): 6,
}


def _user(record: Record, role: str):
    return {"client": record.client.user, "therapist": record.therapist, "admin": record.admin}[
        role
    ]


def _count(django_assert_num_queries, web, url: str, expected: int) -> None:
    with django_assert_num_queries(expected):
        response = web.get(url)
        if response.streaming:  # the CSV export reads as it streams: to its last row
            b"".join(response.streaming_content)
    assert response.status_code == 200, (url, response.status_code)


@pytest.fixture(scope="module")
def record(django_db_setup, django_db_blocker):
    """The record, built once for the module (through the services it takes seconds) inside a
    transaction rolled back at the end; each test's own transaction (the ``db`` fixture) is a
    savepoint inside it, so what a test grows is gone before the next."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            with time_machine.travel(MORNING, tick=False):
                yield _record()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.mark.parametrize(("page", "role"), list(BUDGETS))
def test_query_budget(client, record, django_assert_num_queries, page, role):
    expected = BUDGETS[page, role]
    with time_machine.travel(NOW, tick=False):
        # As on a running server, the clinic settings come from their cache (tests/conftest.py
        # primes it; priming it again at this clock keeps it fresh).
        settings_reader.prime({})
        web = sign_in(client, _user(record, role))
        url = _urls(record)[page]
        _count(django_assert_num_queries, web, url, expected)
        _grow(record)
        _count(django_assert_num_queries, web, url, expected)
    assert expected <= MAX_QUERIES
