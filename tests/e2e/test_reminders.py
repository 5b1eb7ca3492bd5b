"""R7, R8 in a browser: the integration reminders page, as a therapist and as an admin.

Maya (Sam's client) had a dose two days ago, charted with the real services (the plan comes from
dose_recorded); the dispatcher ran at each due time: the therapist's 24-hour check raised an alert,
day 1 asked her to book, day 2 failed (no e-mail address on file at the time). Leo (Jordan's
client, no e-mail address) had a dose a week ago: days 1-3 failed, now too late to send.

Sam sees the badge in the navbar, the alert on top, filters the failed reminders, sends Maya's day
2 again (the beat then sends it), acknowledges the alert and sees the course page's card. The
admin sees both clients, Leo's failure marked too late, and acknowledges Leo's alert.
Screenshots: tests/screenshots/reminders-*.png."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import Page, expect

from integration import dispatch
from integration.models import IntegrationReminder, ReminderKind
from tests import factories
from tests.e2e.conftest import PHONE
from tests.factories_sessions import dosing_ready_session
from tests.sessions.dosing_helpers import give_dose

pytestmark = pytest.mark.browser

FAILED_URL = re.compile(r"/reminders/\?status=failed$")


def _clinic(day, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _dosed(client, *, dose_day) -> None:
    """A dose at 9:20 on ``dose_day`` through the real booking and charting services."""
    start = _clinic(dose_day, 9)
    with time_machine.travel(start, tick=False):
        session = dosing_ready_session(client, starts_at=start)
    given = start + timedelta(minutes=20)
    with time_machine.travel(given, tick=False):
        give_dose(session, at=given)


def _beat(at: datetime) -> None:
    """What the beat task does every minute, at ``at``."""
    with time_machine.travel(at, tick=False):
        dispatch.dispatch_due()


def _person(therapist, first: str, last: str):
    return factories.ClientFactory(
        primary_therapist=therapist,
        first_name=first,
        last_name=last,
        email=f"{first.lower()}@example.org",
        user=factories.ClientUserFactory(first_name=first, last_name=last),
        chaperone_name="Ravi Patel",
        chaperone_phone="+15555550123",
    )


def test_therapist_and_admin_follow_up_reminders(
    page: Page, verified_staff, screenshot, new_browser, settings
):
    settings.IDLE_TIMEOUT_SECONDS = 6 * 60 * 60
    today = timezone.localdate()
    now = _clinic(today, 14)
    sam = factories.TherapistFactory(first_name="Sam", last_name="Rivera")
    jordan = factories.TherapistFactory(first_name="Jordan", last_name="Chen")
    admin = factories.AdminFactory(first_name="Alex", last_name="Admin")
    maya = _person(sam, "Maya", "Patel")
    leo = _person(jordan, "Leo", "Brooks")

    # Maya: dose two days ago; alert after 24 h, day 1 sent, day 2 failed, day 3 due tomorrow.
    maya_day = today - timedelta(days=2)
    _dosed(maya, dose_day=maya_day)
    _beat(_clinic(maya_day + timedelta(days=1), 9, 21))
    _beat(_clinic(maya_day + timedelta(days=1), 10, 1))
    maya_email = maya.email
    type(maya).objects.filter(pk=maya.pk).update(email="")
    _beat(_clinic(maya_day + timedelta(days=2), 10, 1))
    type(maya).objects.filter(pk=maya.pk).update(email=maya_email)  # fixed by the front desk
    # Leo: dose a week ago, no e-mail address on file: the alert, and days 1-3 failed.
    leo_day = today - timedelta(days=7)
    _dosed(leo, dose_day=leo_day)
    type(leo).objects.filter(pk=leo.pk).update(email="")
    _beat(_clinic(leo_day + timedelta(days=1), 9, 21))
    for day in (1, 2, 3):
        _beat(_clinic(leo_day + timedelta(days=day), 10, 1))

    with time_machine.travel(now, tick=True):
        # --- Sam, the therapist -----------------------------------------------------------------
        verified_staff(sam)
        nav = page.get_by_role("navigation", name="Main")
        reminders_link = nav.get_by_role("link", name="Reminders 1 open alert")
        expect(reminders_link).to_be_visible()
        reminders_link.click()
        expect(page.get_by_role("heading", name="Integration reminders", level=1)).to_be_visible()
        alerts = page.get_by_role("region", name="Doses without an integration session booked")
        maya_alert = alerts.get_by_role("article", name="Maya Patel")
        expect(maya_alert).to_contain_text("Therapist Sam Rivera")
        expect(maya_alert.get_by_role("link", name="Book the integration session")).to_be_visible()
        expect(page.get_by_text("Leo Brooks")).to_have_count(0)
        table = page.get_by_role("table", name="Integration reminders, newest doses first")
        expect(table.get_by_role("row")).to_have_count(5)  # the header and four rows
        expect(table).to_contain_text("Asked to book a session")
        expect(table).to_contain_text("No e-mail address on file.")
        screenshot(page, "reminders-1-therapist")

        # Only the failed ones.
        page.get_by_role("navigation", name="Show reminders by status").get_by_role(
            "link", name="Failed"
        ).click()
        expect(page).to_have_url(FAILED_URL)
        failed = page.get_by_role("table", name="Integration reminders, failed, newest doses first")
        expect(failed.get_by_role("row")).to_have_count(2)
        screenshot(page, "reminders-2-failed")
        failed.get_by_role("button", name="Send again the day 2 reminder to Maya Patel").click()
        expect(page.get_by_role("status")).to_contain_text(
            "The reminder to Maya Patel will be sent again within a minute."
        )
        expect(page).to_have_url(FAILED_URL)
        expect(page.get_by_text("No reminder is “Failed” now.")).to_be_visible()

        # The beat sends it; the list shows it sent.
        dispatch.dispatch_due()
        page.goto("/reminders/?status=sent")
        sent = page.get_by_role("table", name="Integration reminders, sent, newest doses first")
        expect(sent.get_by_role("row").filter(has_text="Day 2")).to_contain_text(
            "Asked to book a session"
        )

        # Acknowledge the alert.
        page.goto("/reminders/")
        maya_alert.get_by_role("button", name="Acknowledge the alert for Maya Patel").click()
        expect(page.get_by_role("status")).to_contain_text("Alert acknowledged")
        expect(
            page.get_by_text("Every recent dose has an integration session booked")
        ).to_be_visible()
        expect(nav.get_by_role("link", name="Reminders", exact=True)).to_be_visible()
        expect(page.get_by_text("Alert closed")).to_contain_text("by Sam Rivera")
        screenshot(page, "reminders-3-acknowledged")

        # The course page's card.
        page.get_by_role("link", name="Course #").first.click()
        card = page.get_by_role("region", name="Integration reminders")
        expect(card.get_by_role("row")).to_have_count(5)
        card.scroll_into_view_if_needed()
        screenshot(page, "reminders-4-course-card")

        # --- Alex, the admin ---------------------------------------------------------------------
        admin_page = new_browser()
        verified_staff(admin, on=admin_page)
        admin_page.goto("/reminders/")
        admin_alerts = admin_page.get_by_role(
            "region", name="Doses without an integration session booked"
        )
        leo_alert = admin_alerts.get_by_role("article", name="Leo Brooks")
        expect(leo_alert).to_contain_text("Therapist Jordan Chen")
        expect(admin_alerts.get_by_role("article")).to_have_count(1)
        filters = admin_page.get_by_role("navigation", name="Show reminders by status")
        filters.get_by_role("link", name="Failed").click()
        failed = admin_page.get_by_role(
            "table", name="Integration reminders, failed, newest doses first"
        )
        expect(failed.get_by_role("row")).to_have_count(4)
        expect(failed).to_contain_text("Leo Brooks")
        expect(failed).to_contain_text("Too late to send again")
        expect(failed.get_by_role("button")).to_have_count(0)
        screenshot(admin_page, "reminders-5-admin-failed")
        leo_alert.get_by_role("button", name="Acknowledge the alert for Leo Brooks").click()
        expect(admin_page.get_by_role("status")).to_contain_text("Alert acknowledged")
        expect(admin_page).to_have_url(FAILED_URL)
        leo_check = IntegrationReminder.objects.get(client=leo, kind=ReminderKind.THERAPIST)
        assert leo_check.acknowledged_by == admin
        filters.get_by_role("link", name="All").click()
        screenshot(admin_page, "reminders-6-admin-all")

        # Sam on a phone.
        phone = new_browser(viewport=PHONE, is_mobile=True, has_touch=True)
        verified_staff(sam, on=phone)
        phone.goto("/reminders/")
        expect(phone.get_by_role("heading", name="Integration reminders", level=1)).to_be_visible()
        screenshot(phone, "reminders-7-phone")
