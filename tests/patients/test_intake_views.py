"""Intake pages: the client's portal steps (R17) and the staff review (R18), by role.
Anonymous users and wrong roles on every URL are covered by tests/test_urls_by_role.py."""

from __future__ import annotations

import re

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AccessEvent
from patients.intake import services
from patients.models import Intake
from tests import factories
from tests.conftest import sign_in
from tests.factories_intake import consent, fill_all, step_post, submitted_intake

pytestmark = pytest.mark.django_db

START = reverse("portal:intake:start")
REVIEW = reverse("portal:intake:review")
SUBMIT = reverse("portal:intake:submit")
AMEND = reverse("portal:intake:amend")


def step_url(step):
    return reverse("portal:intake:step", kwargs={"step": step})


def autosave_url(step):
    return reverse("portal:intake:autosave", kwargs={"step": step})


def staff_url(client_record, intake=None):
    if intake is None:
        return reverse("patients:intake:review", kwargs={"client_id": client_record.pk})
    return reverse(
        "patients:intake:version", kwargs={"client_id": client_record.pk, "intake_id": intake.pk}
    )


def reviewed_url(intake):
    return reverse(
        "patients:intake:mark_reviewed",
        kwargs={"client_id": intake.client_id, "intake_id": intake.pk},
    )


@pytest.fixture
def portal(client, client_record):
    consent()
    return sign_in(client, client_record.user)


# --- Portal -------------------------------------------------------------------------------------


def test_start_page_then_first_step(portal, client_record):
    response = portal.get(START)
    assert response.status_code == 200
    assert "Your intake form" in response.content.decode()
    assert not Intake.objects.exists()  # a GET changes nothing
    response = portal.post(START)
    assert response["Location"] == step_url("about")
    assert client_record.intakes.get().status == Intake.Status.DRAFT
    page = portal.get(step_url("about")).content.decode()
    assert "Step 1 of 9" in page
    assert 'role="progressbar"' in page
    assert 'aria-valuenow="1"' in page
    assert 'hx-post="/portal/intake/about/autosave/"' in page


def test_a_step_with_errors_shows_what_was_typed_and_saves_it(portal, client_record):
    portal.post(START)
    response = portal.post(
        step_url("about"), {"phone": "call me", "address": "1 Main St", "action": "next"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "data-error-summary" in page
    assert "Nothing you typed has been lost" in page
    assert 'value="call me"' in page
    assert "1 Main St" in page
    assert client_record.intakes.get().answers["about"]["phone"] == "call me"


def test_save_and_continue_goes_to_the_next_step(portal, client_record):
    portal.post(START)
    response = portal.post(step_url("about"), {**step_post("about", client_record)})
    assert response["Location"] == step_url("contacts")
    # Resuming goes to the first unfinished step.
    assert portal.get(START)["Location"] == step_url("contacts")


def test_back_and_later_save_without_complaining(portal, client_record):
    portal.post(START)
    response = portal.post(step_url("contacts"), {"emergency_name": "Ravi", "action": "back"})
    assert response["Location"] == step_url("about")
    response = portal.post(step_url("doctor"), {"pcp_name": "Dr. Hart", "action": "later"})
    assert response["Location"] == reverse("portal:home")
    answers = client_record.intakes.get().answers
    assert answers["contacts"]["emergency_name"] == "Ravi"
    assert answers["doctor"]["pcp_name"] == "Dr. Hart"


def test_autosave_answers_with_a_status(portal, client_record):
    portal.post(START)
    response = portal.post(autosave_url("goals"), {"goals": "Sleep bet"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert re.search(r"Saved at \d{1,2}:\d\d [AP]M", response.content.decode())
    assert client_record.intakes.get().answers["goals"]["goals"] == "Sleep bet"


def test_a_step_says_nothing_is_saved_before_anything_is(portal, client_record):
    # The status said "Draft saved at ..." on a step's first load (the time of another step's
    # save), before anything on it had been saved; the script says "Saving…", then the server
    # "Saved at ...".
    portal.post(START)
    portal.post(autosave_url("about"), {"pronouns": "she/her"}, HTTP_HX_REQUEST="true")
    page = portal.get(step_url("contacts")).content.decode()
    status = re.search(r'<p id="autosave-status"[^>]*>(.*?)</p>', page, re.S)
    assert status is not None
    assert status.group(1).strip() == ""
    assert "Draft saved" not in page


def test_the_save_sent_as_the_page_goes_passes_the_csrf_check(client_record):
    # fetch(keepalive) / sendBeacon post the form as it is, its CSRF token in the body.
    consent()
    browser = Client(enforce_csrf_checks=True)
    sign_in(browser, client_record.user)
    services.intake_start(client=client_record, by=client_record.user)
    page = browser.get(step_url("goals")).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert browser.post(autosave_url("goals"), {"goals": "Rest"}).status_code == 403
    response = browser.post(autosave_url("goals"), {"goals": "Rest", "csrfmiddlewaretoken": token})
    assert response.status_code == 200
    assert client_record.intakes.get().answers["goals"]["goals"] == "Rest"


def test_control_characters_never_lose_the_draft(portal, client_record):
    # A NUL byte (pasted from another program) gave a server error on PostgreSQL, and the draft
    # was not saved. Control characters go; tab and new lines stay.
    portal.post(START)
    typed = "Sleep\x00 better\x1b,\tthen\r\nwalk"
    response = portal.post(autosave_url("goals"), {"goals": typed}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert client_record.intakes.get().answers["goals"]["goals"] == "Sleep better,\tthen\r\nwalk"
    response = portal.post(step_url("goals"), {"goals": "Rest\x00", "action": "later"})
    assert response.status_code in (200, 302)
    assert client_record.intakes.get().answers["goals"]["goals"] == "Rest"


def test_autosave_is_a_change_not_a_view(portal, client_record):
    portal.post(START)
    views = AccessEvent.objects.count()
    changes = LogEntry.objects.filter(additional_data__client_id=client_record.pk).count()
    for text in ("S", "Sl", "Sleep"):
        portal.post(autosave_url("goals"), {"goals": text}, HTTP_HX_REQUEST="true")
    assert AccessEvent.objects.count() == views  # no view row per keystroke pause
    after = LogEntry.objects.filter(additional_data__client_id=client_record.pk).count()
    assert after == changes + 3  # every saved version is in the change trail


def test_a_step_not_saved_yet_is_prefilled_from_the_record(portal, client_record):
    client_record.chaperone_name = "Leah Patel"
    client_record.save()
    portal.post(START)
    assert 'value="Leah Patel"' in portal.get(step_url("contacts")).content.decode()


def test_check_link_shows_what_is_missing(portal):
    portal.post(START)
    portal.post(step_url("doctor"), {"has_pcp": "yes", "action": "later"})
    page = portal.get(step_url("doctor") + "?check=1").content.decode()
    assert "Give your doctor&#x27;s name, or answer No above." in page


def test_unknown_step_is_404(portal):
    portal.post(START)
    assert portal.get(step_url("billing")).status_code == 404


def test_review_submit_and_confirmation(portal, client_record):
    portal.post(START)
    response = portal.post(SUBMIT)
    assert response.status_code == 400
    assert "Some steps still need your answers" in response.content.decode()
    assert f"{step_url('about')}?check=1" in response.content.decode()

    fill_all(client_record.intakes.get(), overrides={"medical": {"glaucoma": "yes"}})
    page = portal.get(REVIEW).content.decode()
    assert "Everything is filled in" in page
    assert "Glaucoma or raised pressure in the eye?" in page
    response = portal.post(SUBMIT, follow=True)
    page = response.content.decode()
    assert "Your intake form was sent to your care team" in page
    assert "Submitted on" in page
    assert "Request a change" in page
    assert client_record.intakes.get().status == Intake.Status.SUBMITTED


def test_a_crafted_post_to_a_submitted_intake_changes_nothing(portal, client_record):
    intake = submitted_intake(client_record)
    answers, updated = intake.answers, intake.updated_at
    data = step_post("medical", client_record, liver="yes")
    response = portal.post(step_url("medical"), data)
    assert response["Location"] == START
    assert "can no longer be changed" in portal.get(START).content.decode()
    assert "already been submitted" in portal.post(autosave_url("medical"), data).content.decode()
    portal.post(SUBMIT)
    intake.refresh_from_db()
    assert (intake.answers, intake.updated_at) == (answers, updated)
    assert client_record.intakes.count() == 1
    assert not client_record.flags.exists()


def test_request_a_change(portal, client_record):
    original = submitted_intake(client_record)
    response = portal.post(AMEND)
    assert response["Location"] == REVIEW
    amendment = client_record.intakes.get(status=Intake.Status.DRAFT)
    assert amendment.amends == original
    page = portal.get(REVIEW).content.decode()
    assert "Informed consent" in page
    assert "Needs answers" in page


def test_a_client_sees_only_their_own_intake(client, client_record, other_client_record):
    consent()
    submitted_intake(client_record, overrides={"goals": {"goals": "Maya's private goal"}})
    sign_in(client, other_client_record.user)
    page = client.get(START).content.decode()
    assert "Maya&#x27;s private goal" not in page
    assert "Start" in page
    client.post(START)
    client.post(autosave_url("goals"), {"goals": "Mine"})
    assert client_record.intakes.get().answers["goals"]["goals"] == "Maya's private goal"
    assert other_client_record.intakes.get().answers["goals"]["goals"] == "Mine"


def test_portal_home_card(portal, client_record):
    home = reverse("portal:home")
    assert "Complete your intake form" in portal.get(home).content.decode()
    portal.post(START)
    assert "Continue" in portal.get(home).content.decode()
    fill_all(client_record.intakes.get())
    services.intake_submit(intake=client_record.intakes.get(), by=client_record.user)
    assert "Complete your intake form" not in portal.get(home).content.decode()


# --- Staff review -------------------------------------------------------------------------------


@pytest.fixture
def flagged(client_record):
    consent()
    return submitted_intake(
        client_record,
        overrides={"medical": {"high_bp": "yes", "bp_controlled": "unsure", "liver": "yes"}},
    )


@pytest.mark.parametrize("who", ["therapist", "admin_user", "shared"])
def test_care_team_and_admin_see_flags_with_their_evidence(
    client, who, request, flagged, client_record, admin_user
):
    if who == "shared":
        user = factories.TherapistFactory()
        factories.ClientShareFactory(client=client_record, therapist=user, granted_by=admin_user)
    else:
        user = request.getfixturevalue(who)
    sign_in(client, user)
    response = client.get(staff_url(client_record))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Uncontrolled high blood pressure" in page
    assert "Liver disease" in page
    assert "Have you ever been told you have high blood pressure?" in page
    assert "Mark as reviewed" in page
    assert AccessEvent.objects.filter(user=user, client=client_record, page="Intake").exists()


def test_other_therapist_and_clients_get_404(
    client, flagged, client_record, other_therapist, other_client_record
):
    for user in (other_therapist, client_record.user, other_client_record.user):
        client.logout()
        sign_in(client, user)
        assert client.get(staff_url(client_record)).status_code == 404
        assert client.get(staff_url(client_record, flagged)).status_code == 404
        assert client.post(reviewed_url(flagged)).status_code == 404
    flagged.refresh_from_db()
    assert flagged.reviewed_at is None


def test_an_intake_of_another_client_is_404_under_this_client(
    client, therapist, flagged, client_record
):
    mine = factories.ClientFactory(primary_therapist=therapist)
    sign_in(client, therapist)
    wrong = reverse(
        "patients:intake:version", kwargs={"client_id": mine.pk, "intake_id": flagged.pk}
    )
    assert client.get(wrong).status_code == 404
    wrong_review = reverse(
        "patients:intake:mark_reviewed", kwargs={"client_id": mine.pk, "intake_id": flagged.pk}
    )
    assert client.post(wrong_review).status_code == 404


def test_mark_reviewed(client, therapist, flagged, client_record):
    sign_in(client, therapist)
    response = client.post(reviewed_url(flagged), follow=True)
    page = response.content.decode()
    assert "Intake marked as reviewed" in page
    assert "by Sam Rivera" in page
    flagged.refresh_from_db()
    assert flagged.reviewed_by == therapist


def test_in_progress_status_for_staff(client, therapist, client_record):
    consent()
    draft = services.intake_start(client=client_record, by=client_record.user)
    for step in ("about", "contacts", "doctor"):
        services.intake_save_step(
            intake=draft, step=step, data=step_post(step, client_record), by=client_record.user
        )
    sign_in(client, therapist)
    page = client.get(staff_url(client_record)).content.decode()
    assert "3 of 9 steps complete" in page
    assert "last worked on “Primary care provider”" in page
    detail = reverse("patients:client_detail", kwargs={"client_id": client_record.pk})
    assert "Last worked on “Primary care provider”" in client.get(detail).content.decode()


def test_not_started(client, therapist, client_record):
    sign_in(client, therapist)
    page = client.get(staff_url(client_record)).content.decode()
    assert "has not started the intake form" in page


def test_amendment_history_keeps_the_original_viewable(client, therapist, flagged, client_record):
    amendment = services.intake_amend(intake=flagged, by=client_record.user)
    amendment = fill_all(amendment)
    services.intake_submit(intake=amendment, by=client_record.user)
    sign_in(client, therapist)
    page = client.get(staff_url(client_record)).content.decode()
    assert "No flags: the client answered No to every screening question." in page
    assert "Amendment, submitted" in page
    assert "Original, submitted" in page
    old = client.get(staff_url(client_record, flagged)).content.decode()
    assert "Earlier version" in old
    assert "Liver disease" in old
    assert "Superseded by a later version" in old


def test_controlled_hypertension_is_shown_for_information_not_as_a_flag(
    client, therapist, client_record
):
    """R18: only uncontrolled hypertension is a flag; controlled hypertension on medication is
    information for the prescriber, and its answer is not marked as a flagged answer."""
    submitted_intake(
        client_record,
        overrides={
            "medical": {
                "high_bp": "yes",
                "bp_controlled": "yes",
                "medications": "Amlodipine 5 mg daily",
            }
        },
    )
    sign_in(client, therapist)
    page = client.get(staff_url(client_record)).content.decode()
    flags = page.split('id="flags-heading"')[1].split("</section>")[0]
    assert '<span class="badge text-bg-secondary">0</span>' in flags
    assert "No flags raised." in flags
    assert "Hypertension" not in flags
    information = page.split('id="information-heading"')[1].split("</section>")[0]
    assert "For the prescriber's information" in information
    assert "Not a flag and not a contraindication" in information
    assert "Hypertension, reported controlled (e.g. on medication)" in information
    assert "Amlodipine 5 mg daily" in information
    assert "intake-flagged" not in page  # no answer marked as raising a flag
    assert "Flagged answer:" not in page


def test_uncontrolled_hypertension_stays_a_flag_with_no_information_box(
    client, therapist, client_record
):
    submitted_intake(
        client_record, overrides={"medical": {"high_bp": "yes", "bp_controlled": "no"}}
    )
    sign_in(client, therapist)
    page = client.get(staff_url(client_record)).content.decode()
    assert "Uncontrolled high blood pressure" in page
    assert 'id="information-heading"' not in page
    assert "Flagged answer:" in page


def test_client_record_shows_the_intake_summary(client, therapist, flagged, client_record):
    sign_in(client, therapist)
    detail = reverse("patients:client_detail", kwargs={"client_id": client_record.pk})
    page = client.get(detail).content.decode()
    assert "Not reviewed yet" in page
    assert staff_url(client_record) in page


def test_staff_intake_page_query_count_is_constant(client, therapist, client_record):
    consent()

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(staff_url(client_record)).status_code == 200
        return len(queries)

    submitted_intake(client_record, overrides={"medical": {"liver": "yes"}})
    sign_in(client, therapist)
    small = count()
    # Many more flags and three amendments, one reviewed, plus a draft in progress.
    everything = {
        "medical": {
            key: "yes"
            for key in (
                "high_bp",
                "heart",
                "aneurysm",
                "glaucoma",
                "liver",
                "bladder",
                "hyperthyroidism",
                "ketamine_allergy",
                "pregnancy",
            )
        }
        | {"bp_controlled": "no"},
        "psychiatric": {"psychosis": "yes", "mania": "unsure", "suicidal_thoughts": "yes"},
    }
    for _ in range(3):
        latest = client_record.intakes.filter(status="submitted").first()
        services.intake_mark_reviewed(intake=latest, by=therapist)
        amendment = fill_all(
            services.intake_amend(intake=latest, by=client_record.user), overrides=everything
        )
        services.intake_submit(intake=amendment, by=client_record.user)
    assert client_record.flags.filter(is_current=True).count() == 12
    assert count() == small
    services.intake_amend(
        intake=client_record.intakes.filter(status="submitted").first(), by=client_record.user
    )
    with_draft = count()
    assert with_draft == small + 1  # the consent text, to tell how far the draft has got
    print(f"staff intake page: {small} queries (1 flag), {with_draft} with a draft")
