"""Questionnaire services (R19): requests, submissions scored server-side, immutability."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from patients.models import Alert, QuestionnaireRequest, QuestionnaireResponse
from patients.models.questionnaires import ImmutableError
from patients.questionnaires import selectors, services
from tests import factories
from tests.patients.questionnaire_helpers import (
    GAD7_MILD,
    PHQ9_CALM,
    PHQ9_ITEM9,
    request_for,
    submit,
)

pytestmark = pytest.mark.django_db


def test_submit_stores_the_answers_and_the_server_computed_score(client_record):
    response = submit(client_record, "phq9", PHQ9_ITEM9)
    response.refresh_from_db()
    assert response.answers == PHQ9_ITEM9
    assert (response.total, response.band, response.item9_score) == (12, "moderate", 1)
    assert response.entered_by == client_record.user
    assert response.request is None


def test_gad7_has_no_item9(client_record):
    response = submit(client_record, "gad7", GAD7_MILD)
    assert (response.total, response.band, response.item9_score) == (6, "mild", None)


def test_answers_are_immutable(client_record):
    response = submit(client_record, "phq9", PHQ9_CALM)
    response.answers = [3] * 9
    with pytest.raises(ImmutableError):
        response.save()
    with pytest.raises(ImmutableError):
        response.delete()
    response.refresh_from_db()
    assert response.answers == PHQ9_CALM
    assert response.total == 6


def test_invalid_answers_become_a_domain_error(client_record):
    with pytest.raises(services.QuestionnaireError, match="PHQ-9 has 9 questions; got 3"):
        submit(client_record, "phq9", [1, 2, 3])
    with pytest.raises(services.QuestionnaireError, match="between 0 and 3; got 4"):
        submit(client_record, "phq9", [4] * 9)
    with pytest.raises(services.QuestionnaireError, match="Choose one of the questionnaires"):
        submit(client_record, "bdi", [0] * 21)
    assert not QuestionnaireResponse.objects.exists()


def test_a_request_shows_as_due_and_is_completed_by_the_submission(client_record, therapist):
    due = timezone.localdate() + timedelta(days=3)
    questionnaire_request = request_for(client_record, "pcl5", therapist, due_date=due)
    assert list(selectors.due_requests(client=client_record)) == [questionnaire_request]
    response = submit(client_record, "pcl5", [2] * 20)
    questionnaire_request.refresh_from_db()
    assert response.request == questionnaire_request
    assert questionnaire_request.completed_at == response.submitted_at
    assert not selectors.due_requests(client=client_record).exists()
    assert (response.total, response.band) == (40, "above provisional cut-off")


def test_one_open_request_per_questionnaire(client_record, therapist):
    request_for(client_record, "phq9", therapist)
    with pytest.raises(services.QuestionnaireError, match="A PHQ-9 is already waiting"):
        request_for(client_record, "phq9", therapist)
    request_for(client_record, "gad7", therapist)  # another instrument is fine
    assert QuestionnaireRequest.objects.count() == 2


def test_cancel_a_request_then_request_again(client_record, therapist):
    first = request_for(client_record, "phq9", therapist)
    cancelled = services.questionnaire_request_cancel(questionnaire_request=first, by=therapist)
    assert cancelled.cancelled_at is not None
    with pytest.raises(services.QuestionnaireError, match="no longer open"):
        services.questionnaire_request_cancel(questionnaire_request=first, by=therapist)
    assert request_for(client_record, "phq9", therapist).pk != first.pk


def test_requests_are_refused_for_outsiders_archived_clients_and_past_dates(
    client_record, therapist, other_therapist
):
    with pytest.raises(services.QuestionnaireError, match="cannot change this client"):
        request_for(client_record, "phq9", other_therapist)
    with pytest.raises(services.QuestionnaireError, match="cannot change this client"):
        request_for(client_record, "phq9", client_record.user)
    with pytest.raises(services.QuestionnaireError, match="in the past"):
        request_for(
            client_record, "phq9", therapist, due_date=timezone.localdate() - timedelta(days=1)
        )
    client_record.archived_at = timezone.now()
    client_record.archived_reason = "Moved away"
    client_record.save()
    with pytest.raises(services.QuestionnaireError, match="archived"):
        request_for(client_record, "phq9", therapist)


def test_a_client_fills_in_a_first_phq9_and_gad7_then_only_on_request(client_record, therapist):
    # R19: given at intake, so the first ones need no request.
    assert selectors.baseline_instruments(client=client_record) == ["phq9", "gad7"]
    submit(client_record, "phq9", PHQ9_CALM)
    assert selectors.baseline_instruments(client=client_record) == ["gad7"]
    with pytest.raises(services.QuestionnaireError, match="not been requested"):
        submit(client_record, "phq9", PHQ9_CALM)
    with pytest.raises(services.QuestionnaireError, match="not been requested"):
        submit(client_record, "pcl5", [0] * 20)
    request_for(client_record, "phq9", therapist)
    assert submit(client_record, "phq9", PHQ9_CALM).request is not None


def test_portal_todo_lists_requests_then_the_first_measures(client_record, therapist):
    request_for(client_record, "pcl5", therapist)
    todo = selectors.portal_todo(client=client_record)
    assert [item["instrument"] for item in todo] == ["pcl5", "phq9", "gad7"]
    assert todo[0]["request"] is not None
    assert todo[1]["request"] is None


def test_another_clients_login_cannot_submit_for_them(client_record, other_client_record):
    with pytest.raises(services.QuestionnaireError, match="cannot change"):
        submit(client_record, "phq9", PHQ9_CALM, by=other_client_record.user)


def test_a_therapist_enters_answers_in_session(client_record, therapist, other_therapist):
    request_for(client_record, "gad7", therapist)
    response = submit(client_record, "gad7", GAD7_MILD, by=therapist)
    assert response.entered_by == therapist
    assert response.entered_by_staff
    assert response.request is not None  # the open request is completed too
    with pytest.raises(services.QuestionnaireError, match="cannot change"):
        submit(client_record, "gad7", GAD7_MILD, by=other_therapist)


def test_a_named_request_must_be_the_open_one(client_record, therapist):
    first = request_for(client_record, "phq9", therapist)
    services.questionnaire_request_cancel(questionnaire_request=first, by=therapist)
    with pytest.raises(services.QuestionnaireError, match="no longer open"):
        submit(client_record, "phq9", PHQ9_CALM, by=therapist, request=first)


def test_latest_scores_one_per_instrument_in_a_fixed_order(
    client_record, therapist, django_assert_num_queries
):
    submit(client_record, "gad7", GAD7_MILD)
    submit(client_record, "phq9", PHQ9_CALM)
    newest = submit(client_record, "phq9", [3] * 9, by=therapist)
    with django_assert_num_queries(1):
        scores = selectors.latest_scores(client=client_record)
    assert list(scores) == ["phq9", "gad7"]
    assert scores["phq9"] == newest


def test_a_therapist_entering_item9_gets_the_alert_but_no_email(
    client_record, therapist, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        submit(client_record, "phq9", PHQ9_ITEM9, by=therapist)
    assert Alert.objects.get().recipient == therapist
    assert callbacks == []


def test_alerts_go_to_admins_when_no_therapist_is_active(client_record, therapist, admin_user):
    therapist.is_active = False
    therapist.save()
    factories.ClientShareFactory(
        client=client_record,
        therapist=factories.TherapistFactory(is_active=False),
        granted_by=admin_user,
    )
    submit(client_record, "phq9", PHQ9_ITEM9)
    assert [alert.recipient for alert in Alert.objects.all()] == [admin_user]
