"""R1-R6 in a browser: a therapist opens a treatment course for a client whose intake is submitted
and whose referral is approved with a prescription, takes it from intake to preparation, reads the
timeline and the numbers, sees dosing blocked with the R2 reason (no button), puts the course on
hold with a reason and resumes it, then opens the prescriber hand-off summary. Screenshots:
tests/screenshots/course-*.png."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from patients.models import Phase, QuestionnaireResponse
from tests import factories
from tests.e2e.conftest import DESKTOP, PHONE
from tests.factories_intake import submitted_intake
from tests.factories_referrals import approved_referral_with_prescription

pytestmark = pytest.mark.browser


def _scores(client, by) -> None:
    """A falling PHQ-9 / GAD-7 trend over six weeks, for the hand-off chart."""
    now = timezone.now()
    for weeks, phq9, phq_band, gad7, gad_band in (
        (6, 16, "moderately severe", 13, "moderate"),
        (3, 12, "moderate", 10, "moderate"),
        (0, 8, "mild", 6, "mild"),
    ):
        for instrument, total, band in (("phq9", phq9, phq_band), ("gad7", gad7, gad_band)):
            response = QuestionnaireResponse.objects.create(
                client=client,
                instrument=instrument,
                answers=[0],
                total=total,
                band=band,
                item9_score=0 if instrument == "phq9" else None,
                entered_by=by,
            )
            QuestionnaireResponse.objects.filter(pk=response.pk).update(
                submitted_at=now - timedelta(weeks=weeks)
            )


def test_therapist_takes_a_course_to_preparation_holds_and_resumes(
    page: Page, verified_staff, screenshot
):
    therapist = factories.TherapistFactory(first_name="Sam", last_name="Rivera")
    record = factories.ClientFactory(
        primary_therapist=therapist,
        first_name="Maya",
        last_name="Patel",
        user=factories.ClientUserFactory(first_name="Maya", last_name="Patel"),
    )
    submitted_intake(record)
    approved_referral_with_prescription(record, therapist, doses_authorised=6)
    _scores(record, therapist)
    verified_staff(therapist)

    # R1: the course opened with the referral and followed it to preparation (sent, approved).
    course = record.courses.get()
    page.goto(f"/clients/{record.pk}/courses/")
    expect(page.get_by_role("heading", name="Treatment courses · Maya Patel")).to_be_visible()
    expect(page.get_by_text("No treatment course yet.")).to_have_count(0)
    page.goto(f"/clients/{record.pk}/courses/{course.pk}/")
    stepper = page.get_by_role("list", name="Course phases")
    expect(stepper.locator("[aria-current=step]")).to_contain_text("Preparation")

    # The numbers: prep sessions (R2), doses (R5), prescription.
    numbers = page.get_by_role("region", name="Course at a glance")
    expect(numbers).to_contain_text("0 of 3")
    expect(numbers).to_contain_text("0 of 6")
    expect(numbers).to_contain_text("180 days left")

    # The timeline: opened, the two steps, the referral's steps and the prescription.
    timeline = page.get_by_role("region", name="Timeline")
    expect(timeline).to_contain_text("Course opened")
    expect(timeline).to_contain_text("Intake → Referral")
    expect(timeline).to_contain_text("Referral → Preparation")
    expect(timeline).to_contain_text("was approved.")  # the move's reason: the referral's step
    expect(timeline).to_contain_text("Referral approved")
    expect(timeline).to_contain_text("Prescription received")

    # Dosing is blocked by R2, with the reason and without a button.
    actions = page.get_by_role("region", name="What can happen next")
    expect(actions).to_contain_text("Start dosing: not possible yet")
    expect(actions).to_contain_text(
        "Dosing needs at least 3 completed preparation sessions (0 so far)."
    )
    expect(page.get_by_role("button", name="Start dosing")).to_have_count(0)
    screenshot(page, "course-preparation")
    page.set_viewport_size(PHONE)
    screenshot(page, "course-preparation-phone")
    page.set_viewport_size(DESKTOP)

    # On hold needs a reason: first without one.
    page.get_by_text("Put on hold").first.click()
    page.get_by_role("button", name="Put on hold").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Give a reason for putting the course on hold."
    )
    page.get_by_label("Reason for the hold").fill("Travelling for three weeks")
    page.get_by_role("button", name="Put on hold").click()
    expect(
        page.get_by_role("status").filter(has_text="On hold during preparation")
    ).to_contain_text("Travelling for three weeks")
    expect(stepper).to_contain_text("On hold")
    screenshot(page, "course-on-hold")

    page.get_by_role("button", name="Resume preparation").click()
    expect(page.get_by_text("The course is now in preparation.")).to_be_visible()
    expect(timeline).to_contain_text("Put on hold during preparation")
    expect(timeline).to_contain_text("Resumed: Preparation")
    assert record.courses.get().phase == Phase.PREPARATION

    # The hand-off summary, with the score trend chart.
    page.get_by_role("link", name="Prescriber hand-off summary").click()
    expect(page.get_by_role("heading", name="Prescriber hand-off summary")).to_be_visible()
    expect(page.get_by_text("No doses recorded yet.")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("PHQ-9 and GAD-7"))).to_be_visible()
    expect(page.get_by_role("row")).to_have_count(7)  # header + 3 PHQ-9 + 3 GAD-7
    page.wait_for_function("document.querySelector('#score-trend-chart').width > 0")
    screenshot(page, "course-handoff")
    page.emulate_media(media="print")
    screenshot(page, "course-handoff-print")
