"""The referral packet for the prescriber (R17, R18, R19, R22, R23): what it includes, what it must
never include, the audit of opening it, and a fixed number of queries."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AccessEvent
from patients.intake.schema import get_step
from patients.referrals import selectors as referral_selectors
from tests.factories_intake import submitted_intake
from tests.factories_referrals import PrescriberFactory, ReferralFactory
from tests.patients.questionnaire_helpers import GAD7_MILD, PHQ9_CALM, PHQ9_ITEM9, submit

# R17, R18: the history the prescriber assesses, in the client's words: on the packet.
HISTORY = {
    "goals": "GOAL-lighthouse",
    "concerns": "CONCERN-marigold",
    "psychiatric_notes": "PSYCH-NOTE-harbour",
    "substance_notes": "SUBSTANCE-NOTE-quartz",
    "experience_notes": "EXPERIENCE-NOTE-tundra",
}
# Outside the allow-list: never on the packet.
SECRETS = {
    "chaperone_name": "SECRET-CHAPERONE-Oswin",
    "bp_history": "SECRET-BP-HISTORY-fjord",  # with no high blood pressure: evidence of nothing
}


@pytest.fixture
def packet_client(client_record, therapist):
    """A client with a submitted intake raising two flags, free text everywhere, and scores."""
    submitted_intake(
        client_record,
        overrides={
            "medical": {
                "liver": "yes",
                "glaucoma": "unsure",
                "medications": "Lamotrigine 100 mg",
                "bp_history": SECRETS["bp_history"],
            },
            "psychiatric": {"psychiatric_notes": HISTORY["psychiatric_notes"], "mania": "unsure"},
            "substances": {
                "substance_notes": HISTORY["substance_notes"],
                "alcohol": "2-3_week",
                "drugs": "past",
            },
            "experience": {
                "experience_notes": HISTORY["experience_notes"],
                "ketamine_before": "yes",
            },
            "goals": {"goals": HISTORY["goals"], "concerns": HISTORY["concerns"]},
            "contacts": {"chaperone_name": SECRETS["chaperone_name"]},
        },
    )
    submit(client_record, "phq9", PHQ9_ITEM9, by=therapist)
    submit(client_record, "gad7", GAD7_MILD, by=therapist)
    client_record.refresh_from_db()
    return client_record


def packet_url(referral):
    return reverse(
        "patients:referrals:referral_packet",
        kwargs={"client_id": referral.client_id, "referral_id": referral.pk},
    )


@pytest.mark.django_db
def test_packet_contains_identifiers_reason_intake_flags_with_evidence_and_scores(
    as_user, therapist, packet_client
):
    prescriber = PrescriberFactory(clinician_name="Dr. Ana Ruiz", email="ana@rx.example")
    referral = ReferralFactory(
        client=packet_client, prescriber=prescriber, reason="Treatment-resistant depression."
    )
    response = as_user(therapist).get(packet_url(referral))
    assert response.status_code == 200
    html = response.content.decode()
    for expected in (
        "Maya Patel",
        "May",  # preferred name from the intake
        "Mar 14, 1988",
        "(555) 201-3344",
        "12 Elm Street",
        "Sam Rivera",
        therapist.email,
        "Dr. Ana Ruiz",
        "ana@rx.example",
        "Treatment-resistant depression.",
        "Lamotrigine 100 mg",
        "Dr. Ellen Hart",
        "Ravi Patel",
        packet_client.intakes.get().consent.version,
        # R18 flags with the question and the answer that raised them
        "Liver disease",
        "Glaucoma / raised eye pressure",
        "Unsure",
        # R19 scores, R20 item 9
        "PHQ-9",
        "GAD-7",
        "Item 9 (self-harm)",
        '<strong class="packet-item9">Positive</strong>',
        "Prepared on",
        "Confidential.",
    ):
        assert expected in html, expected
    packet = response.context["packet"]
    assert [f["label"] for f in packet.flags] == [
        "Glaucoma / raised eye pressure",
        "Liver disease",
        "Mania / bipolar disorder",
    ]
    assert all(f["evidence"] for f in packet.flags)
    phq9 = next(item["rows"] for item in packet.scores if item["key"] == "phq9")
    assert [(row.total, row.item9_positive) for row in phq9] == [(12, True)]
    assert 'href="/static/css/print.css"' in html
    assert 'media="print"' in html
    assert "js/referral_packet.js" in html
    assert "onclick" not in html  # CSP: no inline JS


def _words(html: str) -> str:
    """The page as a reader sees it: tags dropped, entities decoded, spaces collapsed."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


@pytest.mark.django_db
def test_packet_carries_the_intake_history_the_prescriber_assesses(
    as_user, therapist, packet_client
):
    """R17, R18: psychiatric history, substance use, prior ketamine and psychedelic experience
    and the client's goals, every question with the client's answer."""
    referral = ReferralFactory(client=packet_client)
    html = as_user(therapist).get(packet_url(referral)).content.decode()
    page = _words(html)
    for heading in (
        "History from the intake",
        "Psychiatric history",
        "Substance use",
        "Prior ketamine and psychedelic experience",
        "Goals for treatment",
    ):
        assert heading in page, heading
    for words in (
        "Mania, hypomania or bipolar disorder? Unsure (flagged, see below)",
        "Are you currently having thoughts of ending your life? No",
        "Other diagnoses, treatment or hospital stays for your mental health PSYCH-NOTE-harbour",
        "How often do you have a drink containing alcohol? 2 to 3 times a week",
        "Do you use cannabis or other recreational drugs? Only in the past",
        "substance use problem (alcohol or drugs)? No",
        "Anything you would like to add SUBSTANCE-NOTE-quartz",
        "Have you taken ketamine before, as a medicine or otherwise? Yes",
        "such as psilocybin, LSD, MDMA or ayahuasca? No",
        "including any difficult ones EXPERIENCE-NOTE-tundra",
        "What would you like to change or achieve with this treatment? GOAL-lighthouse",
        "Is there anything you are worried about? CONCERN-marigold",
    ):
        assert words in page, words


@pytest.mark.django_db
def test_packet_excludes_everything_outside_the_allow_list(as_user, therapist, packet_client):
    """R23: the packet is an allow-list. The chaperone, free text that is not history the
    prescriber assesses nor a flag's evidence, and anything else not listed in
    referral_selectors never reach it."""
    referral = ReferralFactory(client=packet_client)
    html = as_user(therapist).get(packet_url(referral)).content.decode()
    for secret in SECRETS.values():
        assert secret not in html, secret
    assert "psychotherapy notes" in html  # the footer says they are not included


@pytest.mark.django_db
def test_allow_list_is_what_the_selector_returns(therapist, packet_client):
    referral = ReferralFactory(client=packet_client)
    packet = referral_selectors.referral_packet(
        client=packet_client, referral=referral, prepared_by=therapist
    )
    assert set(packet.client) == set(referral_selectors.PACKET_CLIENT_FIELDS)
    assert "chaperone_name" not in packet.client
    flat = repr(packet)
    for secret in SECRETS.values():
        assert secret not in flat
    assert [section["key"] for section in packet.history] == [
        "psychiatric",
        "substances",
        "experience",
        "goals",
    ]
    assert {row.answer for section in packet.history for row in section["answers"]} >= set(
        HISTORY.values()
    )


def test_packet_history_names_questions_of_the_intake():
    # PACKET_HISTORY is an allow-list by (step, key): each must be a question of the schema.
    for slug, _, keys in referral_selectors.PACKET_HISTORY:
        step = get_step(slug)
        assert step is not None, slug
        assert set(keys) <= {q.key for q in step.questions}, slug


@pytest.mark.django_db
def test_controlled_hypertension_is_information_on_the_packet_not_a_flag(
    as_user, therapist, client_record
):
    """R18 flags uncontrolled hypertension only; controlled hypertension on medication is shown
    to the prescriber for information, apart from the flags."""
    submitted_intake(
        client_record,
        overrides={
            "medical": {
                "high_bp": "yes",
                "bp_controlled": "yes",
                "bp_history": "128/80 at my GP in May",
                "medications": "Amlodipine 5 mg daily",
            }
        },
    )
    referral = ReferralFactory(client=client_record)
    response = as_user(therapist).get(packet_url(referral))
    packet = response.context["packet"]
    assert packet.flags == []
    assert [item["label"] for item in packet.information] == [
        "Hypertension, reported controlled (e.g. on medication)"
    ]
    page = _words(response.content.decode())
    assert "No flags raised by the intake." in page
    information = page.split("For information (not flags)")[1].split("Outcome measures")[0]
    assert "Not a contraindication flag" in information
    assert "Hypertension, reported controlled (e.g. on medication)" in information
    assert "Have you ever been told you have high blood pressure? Yes" in information
    assert "128/80 at my GP in May" in information
    assert "Amlodipine 5 mg daily" in information
    # The history table does not mark the answer as flagged either.
    assert "(flagged" not in page


@pytest.mark.django_db
def test_packet_without_intake_says_so(as_user, therapist, client_record):
    referral = ReferralFactory(client=client_record)
    html = as_user(therapist).get(packet_url(referral)).content.decode()
    assert "has not submitted an intake form yet" in html
    assert "Not completed." in html


@pytest.mark.django_db
def test_opening_the_packet_is_audited(as_user, therapist, packet_client):
    referral = ReferralFactory(client=packet_client)
    as_user(therapist).get(packet_url(referral))
    event = AccessEvent.objects.get(client=packet_client, page="Referral packet")
    assert event.user == therapist


@pytest.mark.django_db
def test_other_therapist_and_client_get_404(as_user, other_therapist, packet_client):
    referral = ReferralFactory(client=packet_client)
    for user in (other_therapist, packet_client.user):
        assert as_user(user).get(packet_url(referral)).status_code == 404
    assert not AccessEvent.objects.filter(page="Referral packet").exists()


@pytest.mark.django_db
def test_admin_opens_the_packet(as_user, admin_user, packet_client):
    referral = ReferralFactory(client=packet_client)
    assert as_user(admin_user).get(packet_url(referral)).status_code == 200


@pytest.mark.django_db
def test_packet_query_count_does_not_grow_with_scores(as_user, therapist, packet_client):
    referral = ReferralFactory(client=packet_client)
    browser = as_user(therapist)
    with CaptureQueriesContext(connection) as small:
        assert browser.get(packet_url(referral)).status_code == 200
    for _ in range(9):
        submit(packet_client, "phq9", PHQ9_CALM, by=therapist)
        submit(packet_client, "gad7", GAD7_MILD, by=therapist)
    with CaptureQueriesContext(connection) as large:
        assert browser.get(packet_url(referral)).status_code == 200
    assert len(small) == len(large), (len(small), len(large))
