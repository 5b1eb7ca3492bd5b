"""Questionnaire pages by role (R19, R20): the portal for the client, the history, requests and
in-session entry for staff. Outsiders get 404. Scores come from the server, never the POST."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from patients.models import Alert, QuestionnaireRequest, QuestionnaireResponse
from tests import factories
from tests.conftest import sign_in
from tests.patients.questionnaire_helpers import (
    GAD7_MILD,
    PHQ9_CALM,
    PHQ9_ITEM9,
    post_data,
    request_for,
    submit,
)

pytestmark = pytest.mark.django_db
PORTAL_LIST = reverse("portal:questionnaires:list")


def fill_url(instrument: str) -> str:
    return reverse("portal:questionnaires:fill", kwargs={"instrument": instrument})


def history_url(record) -> str:
    return reverse("patients:questionnaires:history", kwargs={"client_id": record.pk})


def enter_url(record, instrument: str) -> str:
    return reverse(
        "patients:questionnaires:enter", kwargs={"client_id": record.pk, "instrument": instrument}
    )


def response_url(record, response) -> str:
    return reverse(
        "patients:questionnaires:response",
        kwargs={"client_id": record.pk, "response_id": response.pk},
    )


# --- Portal -------------------------------------------------------------------------------------


def test_the_portal_lists_what_is_due_and_what_was_done(client, client_record, therapist):
    request_for(client_record, "pcl5", therapist)
    submit(client_record, "gad7", GAD7_MILD)
    sign_in(client, client_record.user)
    page = client.get(PORTAL_LIST).content.decode()
    assert 'href="/portal/questionnaires/pcl5/"' in page
    assert 'href="/portal/questionnaires/phq9/"' in page  # the first PHQ-9, no request needed
    assert 'href="/portal/questionnaires/gad7/"' not in page  # done once: only on request now
    assert "GAD-7" in page
    assert "Mild" in page


def test_the_portal_home_card_links_to_the_form(client, client_record, therapist):
    request_for(client_record, "phq9", therapist)
    sign_in(client, client_record.user)
    page = client.get(reverse("portal:home")).content.decode()
    assert 'aria-label="Start the PHQ-9"' in page


def test_the_form_shows_the_stem_and_every_item_as_a_radio_group(client, client_record):
    sign_in(client, client_record.user)
    page = client.get(fill_url("phq9")).content.decode()
    assert (
        "Over the last 2 weeks, how often have you been bothered by any of the following "
        "problems?" in page
    )
    assert page.count("<fieldset") == 9
    assert page.count("<legend") == 9
    assert page.count('type="radio"') == 36
    assert "More than half the days" in page
    assert "Thoughts that you would be better off dead or of hurting yourself in some way" in page


def test_missing_answers_keep_the_others_and_list_the_problems(client, client_record):
    sign_in(client, client_record.user)
    data = post_data(PHQ9_CALM)
    del data["item_4"], data["item_9"]
    response = client.post(fill_url("phq9"), data)
    page = response.content.decode()
    assert response.status_code == 200
    assert "data-error-summary" in page
    assert "Please answer 2 more questions." in page
    assert 'href="#id_item_4_0"' in page
    assert "Choose an answer for question 9." in page
    assert 'name="item_1" value="1" id="id_item_1_1" checked' in page
    assert not QuestionnaireResponse.objects.exists()


def test_out_of_range_answers_are_refused(client, client_record):
    sign_in(client, client_record.user)
    response = client.post(fill_url("phq9"), post_data([0] * 8 + [7]))
    assert "Select a valid choice" in response.content.decode()
    assert not QuestionnaireResponse.objects.exists()


def test_the_score_is_computed_on_the_server_not_taken_from_the_post(client, client_record):
    sign_in(client, client_record.user)
    crafted = post_data(
        PHQ9_ITEM9, total="0", band="minimal", item9_score="0", entered_by=str(client_record.pk)
    )
    response = client.post(fill_url("phq9"), crafted)
    saved = QuestionnaireResponse.objects.get()
    assert response["Location"] == reverse(
        "portal:questionnaires:result", kwargs={"response_id": saved.pk}
    )
    assert (saved.total, saved.band, saved.item9_score) == (12, "moderate", 1)
    assert saved.entered_by == client_record.user


def test_the_result_page_with_item9_shows_crisis_resources(client, client_record, settings):
    sign_in(client, client_record.user)
    client.post(fill_url("phq9"), post_data(PHQ9_ITEM9))
    page = client.get(
        reverse(
            "portal:questionnaires:result",
            kwargs={"response_id": QuestionnaireResponse.objects.get().pk},
        )
    ).content.decode()
    assert 'If you are in immediate danger call <a href="tel:911">911</a>' in page
    assert escape(settings.CRISIS_LINE) in page
    assert "has been notified" in page
    assert "Your score is <strong>12</strong>" in page


def test_the_result_page_without_item9_has_no_crisis_box(client, client_record):
    sign_in(client, client_record.user)
    client.post(fill_url("phq9"), post_data(PHQ9_CALM))
    response = client.get(
        reverse(
            "portal:questionnaires:result",
            kwargs={"response_id": QuestionnaireResponse.objects.get().pk},
        )
    )
    page = response.content.decode()
    assert "crisis-box" not in page
    assert "has been notified" not in page
    assert "Your answers suggest some symptoms right now." in page


def test_a_questionnaire_not_requested_sends_the_client_back_to_the_list(client, client_record):
    sign_in(client, client_record.user)
    response = client.get(fill_url("pcl5"), follow=True)
    assert response.redirect_chain[-1][0] == PORTAL_LIST
    assert "There is no PCL-5 for you to fill in right now." in response.content.decode()
    assert client.post(fill_url("pcl5"), post_data([0] * 20)).status_code == 302
    assert not QuestionnaireResponse.objects.exists()
    assert client.get(fill_url("bdi")).status_code == 404


def test_a_second_tap_on_send_stores_once(client, client_record, therapist):
    request_for(client_record, "phq9", therapist)
    submit(client_record, "gad7", GAD7_MILD)  # not the baseline path: only the request allows it
    submit(client_record, "phq9", PHQ9_CALM)
    # The form was open before the first tap went through; the second POST comes in after it.
    sign_in(client, client_record.user)
    response = client.post(fill_url("phq9"), post_data(PHQ9_CALM), follow=True)
    assert "We already have your PHQ-9 answers. Thank you." in response.content.decode()
    assert QuestionnaireResponse.objects.filter(instrument="phq9").count() == 1


def test_client_b_cannot_see_client_as_result(client, client_record, other_client_record):
    response = submit(client_record, "phq9", PHQ9_CALM)
    sign_in(client, other_client_record.user)
    url = reverse("portal:questionnaires:result", kwargs={"response_id": response.pk})
    assert client.get(url).status_code == 404
    assert "Maya" not in client.get(PORTAL_LIST).content.decode()


def test_a_client_login_without_a_record_gets_404(client):
    sign_in(client, factories.ClientUserFactory())
    assert client.get(PORTAL_LIST).status_code == 404
    assert client.get(fill_url("phq9")).status_code == 404


# --- Staff --------------------------------------------------------------------------------------


def test_staff_pages_by_role(client, client_record, therapist, other_therapist, admin_user):
    response = submit(client_record, "phq9", PHQ9_ITEM9)
    shared = factories.TherapistFactory()
    factories.ClientShareFactory(client=client_record, therapist=shared, granted_by=admin_user)
    urls = [history_url(client_record), response_url(client_record, response)]
    urls.append(enter_url(client_record, "gad7"))
    for user, status in [
        (therapist, 200),
        (shared, 200),
        (admin_user, 200),
        (other_therapist, 404),
        (client_record.user, 404),
    ]:
        client.logout()
        sign_in(client, user)
        for url in urls:
            assert client.get(url).status_code == status, (user, url)


def test_a_response_of_another_client_is_404_under_this_client(
    client, client_record, other_client_record, therapist
):
    theirs = submit(other_client_record, "phq9", PHQ9_CALM)
    sign_in(client, therapist)
    assert client.get(response_url(client_record, theirs)).status_code == 404
    assert client.get(enter_url(client_record, "bdi")).status_code == 404


def test_history_shows_each_instrument_with_item9_highlighted(client, client_record, therapist):
    submit(client_record, "phq9", PHQ9_ITEM9)
    submit(client_record, "gad7", GAD7_MILD, by=therapist)
    sign_in(client, therapist)
    page = client.get(history_url(client_record)).content.decode()
    assert "PHQ-9 (depression)" in page
    assert "GAD-7 (anxiety)" in page
    assert 'class="table-danger"' in page
    assert "1 of 3" in page
    assert "Client (portal)" in page
    assert "Sam Rivera" in page
    assert "1 open safety alert for this client." in page


def test_the_response_page_shows_each_answer(client, client_record, therapist):
    response = submit(client_record, "phq9", PHQ9_ITEM9)
    sign_in(client, therapist)
    page = client.get(response_url(client_record, response)).content.decode()
    assert page.count("More than half the days") == 3
    assert "(safety item)" in page
    assert "by the client in the portal" in page


def test_a_therapist_requests_a_questionnaire(client, client_record, therapist):
    sign_in(client, therapist)
    url = reverse("patients:questionnaires:request", kwargs={"client_id": client_record.pk})
    response = client.post(url, {"instrument": "gad7", "due_date": ""}, follow=True)
    assert "GAD-7 (anxiety) requested." in response.content.decode()
    assert QuestionnaireRequest.objects.get().requested_by == therapist
    response = client.post(url, {"instrument": "gad7"})
    assert "A GAD-7 is already waiting for this client." in response.content.decode()
    response = client.post(url, {"instrument": "gad7", "due_date": "2001-01-01"})
    assert "The due date cannot be in the past." in response.content.decode()
    assert QuestionnaireRequest.objects.count() == 1


def test_a_therapist_cancels_a_request(client, client_record, therapist, other_therapist):
    pending = request_for(client_record, "phq9", therapist)
    url = reverse(
        "patients:questionnaires:request_cancel",
        kwargs={"client_id": client_record.pk, "request_id": pending.pk},
    )
    sign_in(client, other_therapist)
    assert client.post(url).status_code == 404
    client.logout()
    sign_in(client, therapist)
    response = client.post(url, follow=True)
    assert "Request cancelled." in response.content.decode()
    pending.refresh_from_db()
    assert pending.cancelled_at is not None


def test_a_therapist_enters_answers_in_session(
    client, client_record, therapist, django_capture_on_commit_callbacks
):
    sign_in(client, therapist)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            enter_url(client_record, "phq9"), post_data(PHQ9_ITEM9, total="27"), follow=True
        )
    saved = QuestionnaireResponse.objects.get()
    assert (saved.entered_by, saved.total, saved.item9_score) == (therapist, 12, 1)
    page = response.content.decode()
    assert "PHQ-9 saved: 12 (moderate)." in page
    assert "a safety alert was raised" in page
    assert "in session, entered by Sam Rivera" in page
    assert Alert.objects.get().recipient == therapist
    assert callbacks == []  # no e-mail to the therapist who typed it in


def test_an_archived_record_takes_no_new_questionnaires(client, client_record, therapist):
    client_record.archived_at = timezone.now()
    client_record.archived_reason = "Treatment ended"
    client_record.save()
    sign_in(client, therapist)
    page = client.get(history_url(client_record)).content.decode()
    assert "Request a questionnaire" not in page
    response = client.post(enter_url(client_record, "gad7"), post_data(GAD7_MILD))
    assert "archived" in response.content.decode()
    assert not QuestionnaireResponse.objects.exists()


def _add_history(record, therapist, n: int) -> None:
    for _ in range(n):
        request_for(record, "pcl5", therapist)
        submit(record, "pcl5", [1] * 20)
        submit(record, "phq9", PHQ9_ITEM9, by=therapist)
        colleague = factories.TherapistFactory()
        factories.ClientShareFactory(client=record, therapist=colleague, granted_by=therapist)
        submit(record, "gad7", GAD7_MILD, by=colleague)


def test_history_page_query_count_is_constant(client, client_record, therapist, admin_user):
    # Entered by several people: entered_by must come with the responses, not one by one.
    sign_in(client, admin_user)
    _add_history(client_record, admin_user, 1)
    request_for(client_record, "phq9", therapist)
    with CaptureQueriesContext(connection) as small:
        assert client.get(history_url(client_record)).status_code == 200
    _add_history(client_record, admin_user, 5)
    with CaptureQueriesContext(connection) as large:
        response = client.get(history_url(client_record))
    assert response.content.decode().count('>Answers<span class="visually-hidden"> of') == 18
    assert len(small) == len(large), [q["sql"] for q in large]
    print(f"staff history page: {len(large)} queries")
