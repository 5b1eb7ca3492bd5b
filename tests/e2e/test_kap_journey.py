"""A whole dosing course in a browser: a therapist runs the seed-000 journey (R1-R15). The client's
course is in preparation with an approved referral and a prescription on file (set up with the real
services, R3); the therapist books three preparation sessions on the past three days and marks each
completed (R2), is refused a dosing session while only two are completed (what was typed stays),
books it for today once the third is done, sees "3 of 3" on the course, charts the dosing session
(preparation, a high reading and a recheck in range after the rest, the dose and its hold, a
post-dose reading, an adverse event, the chaperone, discharge after two hours: R10-R15), then sees
the course count the dose ("1 of 6") with the next earliest dose date (R5, R6), and the calendar
show the dosing session completed. The live server runs in this process, so time_machine moves its
clock. Screenshots: tests/screenshots/journey-*.png."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import Page, expect

from patients.models import Phase, TreatmentCourse
from sessions.models import DosingChart, Session, SessionKind, SessionStatus
from tests import factories
from tests.factories_intake import submitted_intake
from tests.factories_referrals import approved_referral_with_prescription

pytestmark = pytest.mark.browser

MIN_DAYS_BETWEEN_DOSES = 14


def _today_at(hour: int, minute: int = 0) -> datetime:
    """Today in the clinic at ``hour``: the browser's cookies keep their real dates."""
    return timezone.make_aware(datetime.combine(timezone.localdate(), time(hour, minute)))


def _as_the_course_page_shows(day: date) -> str:
    """The course page's date format ("M j, Y")."""
    return f"{day:%b} {day.day}, {day.year}"


def _fill_booking(page: Page, *, kind: str, day: date, start: str, location: str) -> None:
    page.get_by_label("Kind of session").select_option(label=kind)
    page.get_by_label("Date").fill(day.isoformat())
    page.get_by_label("Start time").fill(start)
    page.get_by_label("Location").fill(location)
    page.get_by_role("button", name="Book the session").click()


def _fill_reading(systolic: int, diastolic: int, pulse: int, *, form) -> None:
    form.get_by_label("Systolic (mmHg)").fill(str(systolic))
    form.get_by_label("Diastolic (mmHg)").fill(str(diastolic))
    form.get_by_label("Pulse (beats per minute)").fill(str(pulse))
    form.get_by_role("button", name="Record the reading").click()


def _mark_completed(page: Page) -> None:
    page.get_by_role("button", name="Mark completed").click()
    expect(
        page.get_by_role("status").filter(has_text="The session is marked completed.")
    ).to_be_visible()
    expect(page.get_by_role("status").filter(has_text=re.compile(r"^\s*Completed"))).to_be_visible()


def test_therapist_runs_the_whole_kap_journey(page: Page, verified_staff, screenshot, settings):
    # The clock jumps by up to 80 minutes between requests; R22's idle logoff has its own test.
    settings.IDLE_TIMEOUT_SECONDS = 6 * 60 * 60
    with time_machine.travel(_today_at(8, 30), tick=True) as clock:
        today = timezone.localdate()
        therapist = factories.TherapistFactory(first_name="Sam", last_name="Rivera")
        record = factories.ClientFactory(
            primary_therapist=therapist,
            first_name="Maya",
            last_name="Patel",
            user=factories.ClientUserFactory(first_name="Maya", last_name="Patel"),
        )
        # Seed 000 up to preparation, through the real services: a submitted intake (its default
        # chaperone is Leah Patel), an approved referral with a prescription on file (R3, R4),
        # the course opened and moved on to preparation (R1).
        submitted_intake(record)
        approved_referral_with_prescription(
            record,
            therapist,
            dose_mg=100,
            doses_authorised=6,
            min_days_between_doses=MIN_DAYS_BETWEEN_DOSES,
        )
        # R1: the course opened with the referral and followed it to preparation.
        course = TreatmentCourse.objects.get(client=record)
        assert course.phase == Phase.PREPARATION
        verified_staff(therapist)

        # 1. Three preparation sessions on the past three days, booked through the form (a past
        # date is accepted: the therapist records sessions that already happened).
        page.goto(f"/clients/{record.pk}/")
        page.get_by_role("region", name="Sessions").get_by_role(
            "link", name="Schedule a session"
        ).click()
        prep_pages = []
        for days_ago in (3, 2, 1):
            expect(
                page.get_by_role("heading", name="Schedule a session · Maya Patel")
            ).to_be_visible()
            _fill_booking(
                page,
                kind="Preparation",
                day=today - timedelta(days_ago),
                start="10:00",
                location="Room 2",
            )
            expect(
                page.get_by_role("heading", name="Preparation session · Maya Patel")
            ).to_be_visible()
            expect(
                page.get_by_role("status").filter(has_text="Preparation session booked")
            ).to_be_visible()
            prep_pages.append(page.url)
            if days_ago == 3:
                screenshot(page, "journey-1-prep-booked")
            if days_ago > 1:  # The third is marked after the refused dosing booking below.
                _mark_completed(page)
            page.get_by_label("breadcrumb").get_by_role("link", name="Sessions").click()
            expect(page.get_by_role("heading", name="Sessions · Maya Patel")).to_be_visible()
            page.get_by_role("link", name="Schedule a session").click()

        # 2. R2: a dosing session while only two preparation sessions are completed is refused,
        # with the reason, and nothing typed is lost.
        _fill_booking(page, kind="Dosing", day=today, start="09:00", location="Room 3")
        refusal = page.get_by_role("alert").filter(has_text="This can't be done yet")
        expect(refusal).to_contain_text(
            "Dosing needs at least 3 completed preparation sessions (2 so far)."
        )
        expect(refusal).to_contain_text("What you typed is still in the form.")
        expect(page.get_by_role("alert").filter(has_text="Please correct")).to_have_count(0)
        expect(page.get_by_label("Kind of session")).to_have_value("dosing")
        expect(page.get_by_label("Date")).to_have_value(today.isoformat())
        expect(page.get_by_label("Start time")).to_have_value("09:00")
        expect(page.get_by_label("Location")).to_have_value("Room 3")
        screenshot(page, "journey-2-dosing-refused")

        # The third preparation session, found in the client's past sessions, marked completed.
        page.get_by_role("link", name="Back without booking").click()
        past = page.get_by_role("region", name="Past")
        expect(past.get_by_role("row").filter(has_text="Completed")).to_have_count(2)
        expect(past.get_by_role("row").filter(has_text="Not marked yet")).to_have_count(1)
        screenshot(page, "journey-2-sessions")
        yesterday = today - timedelta(days=1)
        past.get_by_role("row").filter(has_text="Not marked yet").get_by_role(
            "link", name=re.compile(rf"{yesterday:%a %b} {yesterday.day}, {yesterday.year}")
        ).click()
        assert page.url == prep_pages[2]
        _mark_completed(page)

        # Now the dosing session books: 180 minutes (R9).
        page.get_by_label("breadcrumb").get_by_role("link", name="Sessions").click()
        page.get_by_role("link", name="Schedule a session").click()
        _fill_booking(page, kind="Dosing", day=today, start="09:00", location="Room 3")
        expect(page.get_by_role("heading", name="Dosing session · Maya Patel")).to_be_visible()
        expect(page.locator(".session-when")).to_contain_text("9:00 AM – 12:00 PM")
        dosing_page = page.url
        screenshot(page, "journey-2-dosing-booked")

        # 3. The course: three of three preparation sessions, no dose yet.
        page.get_by_role("link", name=re.compile(r"^Course #")).click()
        numbers = page.get_by_role("region", name="Course at a glance")
        expect(numbers).to_contain_text("3 of 3")
        expect(numbers).to_contain_text("enough for dosing")
        expect(numbers).to_contain_text("0 of 6")
        screenshot(page, "journey-3-course-ready")

        # 4. The dosing day, on the chart.
        clock.move_to(_today_at(9))
        page.goto(dosing_page)
        page.get_by_role("link", name="Open the dosing chart").click()
        expect(page.get_by_role("heading", name="Dosing session · Maya Patel")).to_be_visible()
        expect(page.get_by_text("100 mg, 1 RDT, sublingual; dose 1 of 6")).to_be_visible()
        page.get_by_role("button", name="Start the dosing chart").click()

        steps = page.get_by_role("list", name="Dosing chart steps")
        prep = page.locator("#preparation")
        prep.get_by_label("Check-in").fill("Slept well; hopeful, a little nervous.")
        prep.get_by_label("The client's intention for this session").fill(
            "Be curious about what comes up."
        )
        prep.get_by_label("Client has fasted").check()
        prep.get_by_label("Chaperone arranged to take the client home").check()
        prep.get_by_role("button", name="Save the preparation").click()
        expect(page.get_by_text("Preparation saved.")).to_be_visible()
        expect(steps.locator("[aria-current=step]")).to_contain_text("Blood pressure")

        # A first reading high (R12): rest, then the recheck; the dose stays locked meanwhile.
        bp = page.locator("#blood-pressure")
        _fill_reading(146, 88, 82, form=bp)
        recheck = bp.get_by_role("status").filter(has_text="Recheck after 5 minutes of rest")
        expect(recheck).to_be_visible()
        expect(page.get_by_role("button", name="Record the dose")).to_have_count(0)
        screenshot(page, "journey-4-recheck")
        clock.shift(timedelta(minutes=6))
        page.reload()
        expect(bp.get_by_text("Rest time is over: take the recheck now.")).to_be_visible()
        _fill_reading(130, 82, 74, form=bp)
        expect(
            bp.get_by_role("status").filter(has_text="In range – the dose may be given until")
        ).to_be_visible()
        expect(steps.locator("[aria-current=step]")).to_contain_text("Dose")

        # The dose, prefilled from the prescription, then the hold (R10).
        dose = page.locator("#dose")
        expect(dose.get_by_label("Dose (mg)")).to_have_value("100")
        dose.get_by_role("button", name="Record the dose").click()
        expect(page.get_by_text("Dose recorded. The hold timer is running.")).to_be_visible()
        dose_day = timezone.localdate()
        clock.shift(timedelta(minutes=15, seconds=30))
        page.reload()
        expect(dose.get_by_text("The hold time is over")).to_be_visible()
        dose.get_by_label("No", exact=True).check()
        dose.get_by_role("button", name="Record the end of the hold").click()
        expect(page.get_by_text("End of the hold recorded.")).to_be_visible()
        expect(steps.locator("[aria-current=step]")).to_contain_text("Return")

        # Return: the post-dose reading when due (R14), an adverse event, the chaperone (R15).
        clock.shift(timedelta(minutes=26))
        page.reload()
        back = page.locator("#return")
        expect(
            back.get_by_role("status").filter(has_text="Post-dose blood pressure due at")
        ).to_be_visible()
        vitals = back.locator("form").filter(has=page.get_by_label("Systolic (mmHg)"))
        expect(vitals.get_by_label("After the dose")).to_be_checked()
        _fill_reading(128, 80, 78, form=vitals)
        expect(back.get_by_role("table")).to_contain_text("128/80")
        back.get_by_text("Record an adverse event").click()
        back.get_by_label("What happened?").select_option(label="Nausea")
        back.get_by_label("Mild").check()
        back.get_by_label("Description").fill("Mild nausea, settled with ginger tea.")
        back.get_by_role("button", name="Record the adverse event").click()
        expect(page.get_by_text("Adverse event recorded: Nausea (mild).")).to_be_visible()
        expect(back.get_by_label("Chaperone's name")).to_have_value("Leah Patel")
        back.get_by_label("Return and processing notes").fill("Talked about her garden; calm.")
        back.get_by_label("Pickup time").fill("11:30")
        back.get_by_role("button", name="Save return notes and chaperone").click()
        expect(page.get_by_text("Return notes and chaperone saved.")).to_be_visible()
        discharge = page.get_by_role("button", name="Discharge the client")
        expect(discharge).to_be_disabled()  # R15: two hours of observation first
        screenshot(page, "journey-4-return")

        # Two hours after the dose: the reading before discharge, then discharge.
        clock.shift(timedelta(minutes=80))
        page.reload()
        back.get_by_text("Record a blood pressure after the dose").click()
        vitals.get_by_label("Before discharge").check()
        _fill_reading(124, 78, 70, form=vitals)
        expect(discharge).to_be_enabled()
        discharge.click()
        expect(page.get_by_role("heading", name=re.compile(r"^Discharged at"))).to_be_visible()
        screenshot(page, "journey-4-discharged")

        # 5. The course counts the dose and shows the next earliest dose date (R5, R6).
        page.goto(dosing_page)
        expect(
            page.get_by_role("status").filter(has_text=re.compile(r"^\s*Completed"))
        ).to_be_visible()
        page.get_by_role("link", name=re.compile(r"^Course #")).click()
        numbers = page.get_by_role("region", name="Course at a glance")
        expect(numbers).to_contain_text("1 of 6")
        expect(numbers).to_contain_text("5 left on the prescription")
        next_dose = dose_day + timedelta(days=MIN_DAYS_BETWEEN_DOSES)
        expect(numbers).to_contain_text(f"{_as_the_course_page_shows(next_dose)}")
        expect(numbers).to_contain_text(
            f"last dose {_as_the_course_page_shows(dose_day)}; at least "
            f"{MIN_DAYS_BETWEEN_DOSES} days between doses"
        )
        expect(
            page.get_by_role("list", name="Course phases").locator("[aria-current=step]")
        ).to_contain_text("Dosing")
        screenshot(page, "journey-5-course-after-dose")

        # 6. The calendar shows the dosing session, completed.
        page.get_by_role("link", name="Calendar", exact=True).click()
        expect(page.get_by_role("heading", name="Calendar")).to_be_visible()
        expect(
            page.locator("#calendar").get_by_role(
                "link", name=re.compile(r"Dosing · completed.*Maya Patel")
            )
        ).to_be_visible()
        screenshot(page, "journey-6-calendar")

    dosing = Session.objects.get(client=record, kind=SessionKind.DOSING)
    assert dosing.status == SessionStatus.COMPLETED
    assert DosingChart.objects.get(session=dosing).outcome == "discharged"
    assert (
        Session.objects.filter(
            course=course, kind=SessionKind.PREPARATION, status=SessionStatus.COMPLETED
        ).count()
        == 3
    )
