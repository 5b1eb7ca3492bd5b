"""R3/R4/R18 in a browser: a therapist adds a prescriber, refers a client whose intake is
submitted, marks the referral as sent, records the approval with a prescription (an unusual dose
first, which needs the confirmation box), opens the printable packet, renews the prescription;
a declined referral shows why. Screenshots: tests/screenshots/referral-*.png."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from patients.models import Prescription, Referral
from tests import factories
from tests.factories_intake import submitted_intake
from tests.factories_referrals import PrescriberFactory, ReferralFactory
from tests.patients.questionnaire_helpers import GAD7_MILD, PHQ9_ITEM9, submit

pytestmark = pytest.mark.browser


def _client(therapist, **names):
    return factories.ClientFactory(
        primary_therapist=therapist,
        user=factories.ClientUserFactory(**names),
        **names,
    )


def test_therapist_refers_a_client_and_records_the_prescription(
    page: Page, verified_staff, screenshot
):
    therapist = factories.TherapistFactory(first_name="Sam", last_name="Rivera")
    record = _client(therapist, first_name="Maya", last_name="Patel")
    submitted_intake(record, overrides={"medical": {"liver": "yes"}})
    submit(record, "phq9", PHQ9_ITEM9, by=therapist)
    submit(record, "gad7", GAD7_MILD, by=therapist)
    verified_staff(therapist)

    # The prescribers directory, from the main navigation.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Prescribers").click()
    expect(page.get_by_role("heading", name="Prescribers")).to_be_visible()
    page.get_by_role("link", name="Add prescriber").click()
    page.get_by_label("Clinician's name").fill("Ana Ruiz")
    page.get_by_label("Credentials").fill("PMHNP")
    page.get_by_label("Organisation or practice").fill("Journey Clinical")
    page.get_by_label("E-mail address").fill("referrals@journey.example")
    page.get_by_label("Phone").fill("(555) 201-4000")
    page.get_by_label("Fax").fill("555 201 4001")
    screenshot(page, "referral-prescriber-form")
    page.get_by_role("button", name="Add prescriber").click()
    expect(page.get_by_text("was added to the prescribers directory")).to_be_visible()
    expect(page.get_by_role("cell", name="(555) 201-4000")).to_be_visible()
    screenshot(page, "referral-prescribers")

    # Refer the client.
    page.goto(f"/clients/{record.pk}/referrals/")
    expect(page.get_by_text("Maya has not been referred yet.")).to_be_visible()
    screenshot(page, "referral-list-empty")
    page.get_by_role("link", name="Refer to a prescriber").click()
    page.get_by_label("Prescriber").select_option(label="Ana Ruiz, PMHNP (Journey Clinical)")
    page.get_by_label("Reason for referral").fill(
        "Treatment-resistant depression: sertraline and bupropion tried without response."
    )
    screenshot(page, "referral-new")
    page.get_by_role("button", name="Save referral as draft").click()
    expect(page.get_by_text("Referral saved as a draft")).to_be_visible()
    expect(page.get_by_role("button", name="Record decline")).to_have_count(0)
    screenshot(page, "referral-draft")

    # Mark as sent (date defaults to today).
    sent_form = page.locator("form", has=page.get_by_role("button", name="Mark as sent"))
    sent_form.get_by_label("Note (optional)").fill("Packet faxed")
    sent_form.get_by_role("button", name="Mark as sent").click()
    expect(page.get_by_text("Referral marked as sent.")).to_be_visible()
    expect(page.get_by_role("button", name="Mark as sent")).to_have_count(0)
    screenshot(page, "referral-sent")

    # Approval with an unusual dose: a warning and a box to tick, never a block.
    page.get_by_role("link", name="Record approval and prescription").click()
    expect(page.get_by_label("I have checked this dose with the prescription")).to_be_hidden()
    page.get_by_label("Dose per session (mg)").fill("500")
    page.get_by_label("Doses authorised").fill("6")
    valid_until = timezone.localdate() + timedelta(days=180)
    page.get_by_label("Valid until").fill(valid_until.isoformat())
    page.get_by_role("button", name="Record approval and prescription").click()
    expect(page.get_by_role("heading", name="Unusual dose: 500 mg")).to_be_visible()
    assert not Prescription.objects.exists()
    screenshot(page, "referral-approval-dose-warning")
    page.get_by_label("I have checked this dose with the prescription").check()
    page.get_by_role("button", name="Record approval and prescription").click()
    expect(page.get_by_text("Approval and prescription recorded.")).to_be_visible()
    expect(page.get_by_text("Approved", exact=True).first).to_be_visible()
    screenshot(page, "referral-approved")
    assert Prescription.objects.get().dose_mg == 500

    # The packet: flags with the answers behind them, scores with item 9, print button.
    page.get_by_role("link", name="Referral packet").click()
    expect(page.get_by_role("heading", name="Flags for prescriber review")).to_be_visible()
    expect(page.get_by_text("Liver disease", exact=True)).to_be_visible()
    expect(page.get_by_text("Positive", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Print")).to_be_visible()
    expect(page.get_by_text("Prepared on")).to_be_visible()
    screenshot(page, "referral-packet")
    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="Print")).to_be_hidden()
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    screenshot(page, "referral-packet-print")
    page.emulate_media(media="screen")

    # The prescription and its renewal.
    page.get_by_role("link", name="Back to the referral").click()
    page.get_by_role("link", name="Open prescription of").click()
    expect(page.get_by_text("Outside the usual 25–400 mg")).to_be_visible()
    screenshot(page, "referral-prescription")
    page.get_by_role("link", name="Renew or change").click()
    page.get_by_role("radio", name=re.compile("A change to the current prescription")).check()
    page.get_by_label("Dose per session (mg)").fill("150")
    page.get_by_label("Valid until").fill(valid_until.isoformat())
    screenshot(page, "referral-renew")
    page.get_by_role("button", name="Record new prescription").click()
    expect(page.get_by_text("New prescription recorded.")).to_be_visible()
    expect(page.get_by_role("cell", name="150 mg")).to_be_visible()
    screenshot(page, "referral-prescription-renewed")
    page.goto(f"/clients/{record.pk}/referrals/")
    screenshot(page, "referral-list")


def test_a_declined_referral_shows_why(page: Page, verified_staff, screenshot):
    therapist = factories.TherapistFactory(first_name="Sam", last_name="Rivera")
    record = _client(therapist, first_name="Noah", last_name="Kim")
    referral = ReferralFactory(
        client=record,
        referred_by=therapist,
        prescriber=PrescriberFactory(clinician_name="Ana Ruiz"),
        status=Referral.Status.UNDER_REVIEW,
    )
    verified_staff(therapist)
    page.goto(f"/clients/{record.pk}/referrals/{referral.pk}/")
    page.get_by_text("Record decline…").click()
    decline = page.locator("form", has=page.get_by_role("button", name="Record decline"))
    decline.get_by_role("button", name="Record decline").click()
    expect(page.get_by_text("Nothing was recorded.")).to_be_visible()
    screenshot(page, "referral-decline-error")
    decline = page.locator("form", has=page.get_by_role("button", name="Record decline"))
    decline.get_by_label("Reason for the decline (required)").fill(
        "Uncontrolled blood pressure (168/104): see primary care first."
    )
    decline.get_by_role("button", name="Record decline").click()
    expect(page.get_by_role("heading", name="Declined by the prescriber")).to_be_visible()
    expect(page.get_by_text("Uncontrolled blood pressure (168/104)").first).to_be_visible()
    expect(page.get_by_role("link", name="Record approval and prescription")).to_have_count(0)
    screenshot(page, "referral-declined")
