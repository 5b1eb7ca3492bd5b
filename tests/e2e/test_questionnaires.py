"""R19/R20 in a browser: a client answers a requested PHQ-9 on a phone with item 9 = 1 and sees
crisis resources; their therapist sees the alert banner and the score, and acknowledges.
Screenshots of each page land in tests/screenshots/ for people to look at."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Page, expect

from patients.models import Alert, QuestionnaireResponse
from patients.questionnaires import scoring
from tests import factories
from tests.e2e.conftest import sign_in_staff, submit_password
from tests.patients.questionnaire_helpers import GAD7_MILD, eager_celery, request_for, submit

pytestmark = pytest.mark.browser
__all__ = ["eager_celery"]

# Answer labels for a PHQ-9 totalling 12 ("moderate") with item 9 = "Several days" (1).
ANSWERS = [
    "More than half the days",
    "More than half the days",
    "Several days",
    "Several days",
    "Several days",
    "More than half the days",
    "Several days",
    "Several days",
    "Several days",
]


def answer(page: Page, number: int, label: str) -> None:
    question = page.get_by_role("group", name=f"{number}. {scoring.PHQ9.items[number - 1]}")
    question.get_by_label(label, exact=True).check()


def test_client_phq9_item9_alerts_the_therapist(
    phone_page: Page, new_browser, live_server, screenshot, eager_celery
):
    therapist = factories.TherapistFactory(first_name="Sam", last_name="Rivera")
    device = factories.totp_device(therapist)
    maya = factories.ClientFactory(
        primary_therapist=therapist,
        first_name="Maya",
        last_name="Patel",
        user=factories.ClientUserFactory(first_name="Maya", last_name="Patel"),
    )
    submit(maya, "gad7", GAD7_MILD)  # the intake baseline, done earlier
    request_for(maya, "phq9", therapist, due_date=timezone.localdate() + timedelta(days=2))

    # --- The client, on a phone ---------------------------------------------------------------
    page = phone_page
    page.goto("/accounts/login/")
    submit_password(page, maya.user.email)
    expect(page.get_by_role("heading", name="Hello, Maya")).to_be_visible()
    start = page.get_by_role("link", name="Start the PHQ-9")
    expect(start).to_be_visible()
    screenshot(page, "portal-home-questionnaire-due")

    start.click()
    expect(page.get_by_role("heading", name="Patient Health Questionnaire (PHQ-9)")).to_be_visible()
    expect(page.get_by_text(scoring.PHQ9.stem)).to_be_visible()
    screenshot(page, "portal-phq9-form")

    # Skip question 4: the page explains, keeps the other answers, and focuses the summary.
    for number, label in enumerate(ANSWERS, start=1):
        if number != 4:
            answer(page, number, label)
    page.get_by_role("button", name="Send my answers").click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Choose an answer for question 4.")
    question1 = page.get_by_role("group", name=re.compile(r"^1\. Little interest"))
    expect(question1.get_by_label("More than half the days", exact=True)).to_be_checked()
    screenshot(page, "portal-phq9-error")
    assert not QuestionnaireResponse.objects.filter(instrument="phq9").exists()

    summary.get_by_role("link", name="Choose an answer for question 4.").click()
    answer(page, 4, ANSWERS[3])
    page.get_by_role("button", name="Send my answers").click()

    crisis = page.get_by_role("alert").filter(has_text="You don't have to face this alone")
    expect(crisis).to_be_visible()
    expect(crisis).to_contain_text(
        "If you are in immediate danger call 911 or your local emergency number."
    )
    expect(crisis).to_contain_text(settings.CRISIS_LINE)
    expect(crisis).to_contain_text("Sam Rivera, has been notified")
    expect(page.get_by_text("Your score is 12")).to_be_visible()
    screenshot(page, "portal-phq9-result-crisis")

    saved = QuestionnaireResponse.objects.get(instrument="phq9")
    assert (saved.total, saved.band, saved.item9_score) == (12, "moderate", 1)
    (message,) = mail.outbox
    assert message.to == [therapist.email]
    assert message.subject == f"New item to review in {settings.CLINIC_NAME}"
    assert "Maya" not in message.body
    assert "Patel" not in message.body

    page.get_by_role("link", name="My care").click()
    page.get_by_role("link", name="All my questionnaires").click()
    expect(page.get_by_role("heading", name="Completed")).to_be_visible()
    screenshot(page, "portal-questionnaires")

    # --- The therapist, at a desk -------------------------------------------------------------
    staff = new_browser()
    sign_in_staff(staff, therapist, device)
    banner = staff.get_by_role("alert").filter(has_text="1 safety alert needs your attention.")
    expect(banner).to_be_visible()
    screenshot(staff, "staff-alert-banner")

    banner.get_by_role("link", name="Review alert").click()
    expect(staff.get_by_role("heading", name="Safety alerts")).to_be_visible()
    card = staff.get_by_role("article", name=re.compile("Maya Patel: PHQ-9 item 9"))
    expect(card).to_contain_text("PHQ-9 total 12 (moderate), item 9 answered 1 of 3.")
    screenshot(staff, "staff-alerts")

    card.get_by_role("link", name="Questionnaire history").click()
    expect(staff.get_by_role("heading", name=re.compile("Questionnaires"))).to_be_visible()
    phq9 = staff.get_by_role("table", name="PHQ-9 results, newest first")
    row = phq9.get_by_role("row").nth(1)
    expect(row).to_contain_text("12")
    expect(row).to_contain_text("Moderate")
    expect(row).to_contain_text("1 of 3")
    expect(row).to_contain_text("Client (portal)")
    screenshot(staff, "staff-questionnaire-history")

    row.get_by_role("link", name=re.compile("Answers")).click()
    expect(staff.get_by_text("(safety item)")).to_be_visible()
    screenshot(staff, "staff-questionnaire-response")

    staff.get_by_role("navigation", name="breadcrumb").get_by_role(
        "link", name="Maya Patel"
    ).click()
    scores = staff.get_by_role("region", name="Questionnaires")
    expect(scores).to_contain_text("PHQ-9")
    expect(scores).to_contain_text("Item 9: 1")
    screenshot(staff, "client-detail-scores")

    staff.get_by_role("link", name="Review alert").click()
    staff.get_by_role("button", name="Acknowledge the alert for Maya Patel").click()
    expect(staff.get_by_text("Alert acknowledged.")).to_be_visible()
    expect(staff.get_by_text("No open safety alerts.")).to_be_visible()
    screenshot(staff, "staff-alerts-acknowledged")
    alert = Alert.objects.get()
    assert alert.acknowledged_by == therapist
    assert alert.acknowledged_at is not None

    # The banner is gone everywhere.
    staff.goto(f"/clients/{maya.pk}/questionnaires/")
    expect(staff.get_by_text("needs your attention")).to_have_count(0)

    # In session: the therapist enters a GAD-7 for the client.
    staff.get_by_role("link", name="GAD-7", exact=True).click()
    expect(staff.get_by_role("heading", name=re.compile(r"GAD-7"))).to_be_visible()
    screenshot(staff, "staff-enter-gad7")


def test_staff_request_form_and_portal_on_a_phone(
    phone_page: Page, new_browser, live_server, screenshot
):
    therapist = factories.TherapistFactory(first_name="Sam", last_name="Rivera")
    device = factories.totp_device(therapist)
    maya = factories.ClientFactory(
        primary_therapist=therapist, user=factories.ClientUserFactory(first_name="Maya")
    )
    staff = new_browser()
    sign_in_staff(staff, therapist, device)
    staff.goto(f"/clients/{maya.pk}/questionnaires/")
    expect(staff.get_by_text("No questionnaires completed yet.")).to_be_visible()
    staff.get_by_role("combobox", name=re.compile("^Questionnaire")).select_option(
        label="PCL-5 (PTSD symptoms)"
    )
    staff.get_by_role("button", name="Request").click()
    expect(staff.get_by_text("PCL-5 (PTSD symptoms) requested.")).to_be_visible()
    waiting = staff.get_by_role("region", name="Waiting for the client")
    expect(waiting).to_contain_text("PCL-5")
    screenshot(staff, "staff-questionnaires-empty-with-request")

    page = phone_page
    page.goto("/accounts/login/")
    submit_password(page, maya.user.email)
    page.goto("/portal/questionnaires/")
    expect(page.get_by_role("link", name="Start the PCL-5")).to_be_visible()
    expect(page.get_by_role("link", name="Start the PHQ-9")).to_be_visible()
    screenshot(page, "portal-questionnaires-todo")
    page.get_by_role("link", name="Start the PCL-5").click()
    expect(page.get_by_text(scoring.PCL5.stem)).to_be_visible()
    screenshot(page, "portal-pcl5-form")
