"""The client record reads each fact once (patients.courses.record): what it now derives from a
shared read must be what the separate reads said."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from patients.clients import selectors as client_selectors
from patients.courses import selectors as course_selectors
from patients.courses.outcomes import scores_of
from patients.courses.record import client_record as client_record_reads
from patients.courses.record import record_sessions
from patients.models import Client, Referral
from patients.models.questionnaires import Instrument
from patients.questionnaires import selectors as questionnaire_selectors
from patients.referrals import selectors as referral_selectors
from patients.referrals import services as referral_services
from tests import factories
from tests.factories_integration import dose_for
from tests.factories_referrals import PrescriberFactory, approved_referral_with_prescription
from tests.factories_sessions import SessionFactory
from tests.patients.questionnaire_helpers import submit

pytestmark = pytest.mark.django_db


def test_the_referral_panel_shows_the_latest_referral_whichever_read_finds_it(client_record):
    approved, prescription = approved_referral_with_prescription(client_record)
    in_force = course_selectors.prescription_in_force(client=client_record)
    with CaptureQueriesContext(connection) as queries:
        summary = referral_selectors.referral_summary(client=client_record, prescription=in_force)
    # The prescription's referral is the latest: it came with the prescription.
    assert len(queries) == 0
    assert (summary["referral"], summary["prescription"]) == (approved, prescription)
    assert summary["referral"].prescriber.clinician_name  # loaded, not lazy

    newer = referral_services.referral_create(
        client=client_record,
        prescriber=PrescriberFactory(),
        reason="A second opinion.",
        by=client_record.primary_therapist,
    )
    in_force = course_selectors.prescription_in_force(client=client_record)
    summary = referral_selectors.referral_summary(client=client_record, prescription=in_force)
    assert summary["referral"] == newer
    assert summary["status_code"] == Referral.Status.DRAFT
    assert summary["prescription"] == prescription  # still in force until a new approval
    assert summary == referral_selectors.referral_summary(client=client_record)


def test_the_sharing_panel_from_one_read(client_record, therapist, admin_user):
    shared = factories.TherapistFactory(last_name="Aalto")
    gone = factories.TherapistFactory(last_name="Berg")
    free = factories.TherapistFactory(last_name="Cole")
    factories.ClientShareFactory(client=client_record, therapist=shared, granted_by=admin_user)
    factories.ClientShareFactory(client=client_record, therapist=gone, granted_by=admin_user)
    User.objects.filter(pk=gone.pk).update(is_active=False)  # a live share of someone who left
    factories.ClientShareFactory(
        client=client_record, therapist=free, granted_by=admin_user, revoked_at=timezone.now()
    )
    with CaptureQueriesContext(connection) as queries:
        panel = client_selectors.sharing(client=client_record, manage=True)
    assert len(queries) == 1
    assert [s.therapist for s in panel.shares] == [shared, gone]
    assert {s.pk for s in panel.shares} == set(
        client_selectors.client_shares(client=client_record).values_list("pk", flat=True)
    )
    # The form offers active therapists not yet shared with, never the primary therapist.
    assert panel.choices == [free]
    assert therapist not in panel.choices
    assert client_selectors.sharing(client=client_record, manage=False).choices == []
    assert [
        s.therapist for s in client_selectors.sharing(client=client_record, manage=False).shares
    ] == [shared, gone]


def test_latest_scores_from_the_loaded_responses_match_the_selector(client_record, therapist):
    for answers in ([1] * 8 + [0], [2] * 8 + [0], [0] * 9):
        submit(client_record, "phq9", answers, by=therapist)
    submit(client_record, "pcl5", [1] * 20, by=therapist)
    responses = scores_of(client=client_record, instruments=Instrument.values)
    assert client_selectors.latest_scores(responses) == questionnaire_selectors.latest_scores(
        client=client_record
    )


def test_the_next_session_and_the_dose_dates_from_one_read(client_record):
    first, second = dose_for(client_record), dose_for(client_record)
    later = SessionFactory(client=client_record, kind="integration")
    SessionFactory(client=client_record, kind="integration")  # after the next one
    with CaptureQueriesContext(connection) as queries:
        sessions = record_sessions(client=client_record)
    assert len(queries) == 1
    assert sessions.next_session == later
    assert sessions.next_session.therapist.get_full_name()  # loaded with it
    assert sorted(sessions.dose_dates) == sorted(
        timezone.localdate(dose.given_at) for dose in (first, second)
    )


def test_the_record_runs_the_queries_its_docstring_says(client_record):
    approved_referral_with_prescription(client_record)
    record = Client.objects.select_related("primary_therapist", "user").get(pk=client_record.pk)
    with CaptureQueriesContext(connection) as queries:
        client_record_reads(client=record, manage_shares=True)
    assert len(queries) == 7
