"""The therapist calendar in a browser: a therapist opens the calendar, moves to next week (htmx
swaps the grid and the address), books a session from an empty hour (a clash first: the message
names the other session and keeps what was typed), sees it on the calendar and opens it.
Screenshots: tests/screenshots/calendar-*.png."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from sessions.models import Session, SessionStatus
from tests import factories
from tests.factories_sessions import SessionFactory, course_ready_for_dosing

pytestmark = pytest.mark.browser


def _at(day, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def test_therapist_books_from_an_empty_slot_of_next_week(
    page: Page, verified_staff, screenshot, phone_page
):
    therapist = factories.TherapistFactory(first_name="Sam", last_name="Rivera")
    maya = factories.ClientFactory(
        primary_therapist=therapist,
        first_name="Maya",
        last_name="Patel",
        user=factories.ClientUserFactory(first_name="Maya", last_name="Patel"),
    )
    lee = factories.ClientFactory(primary_therapist=therapist, first_name="Lee", last_name="Wong")
    course, _ = course_ready_for_dosing(maya)
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    next_monday = monday + timedelta(days=7)
    # This week: one of each kind, and a cancelled one.
    SessionFactory(
        client=maya, course=course, kind="dosing", starts_at=_at(monday + timedelta(2), 9)
    )
    SessionFactory(
        client=maya, course=course, kind="integration", starts_at=_at(monday + timedelta(3), 14)
    )
    SessionFactory(client=lee, kind="general", starts_at=_at(monday + timedelta(1), 10, 30))
    SessionFactory(client=lee, kind="general", starts_at=_at(monday + timedelta(4), 16))
    cancelled = SessionFactory(client=lee, kind="general", starts_at=_at(monday, 11))
    Session.objects.filter(pk=cancelled.pk).update(
        status=SessionStatus.CANCELLED, cancel_reason="Client unwell"
    )
    # Next week: Tuesday 10:00 is taken.
    SessionFactory(client=lee, kind="general", starts_at=_at(next_monday + timedelta(1), 10))
    verified_staff(therapist)

    page.goto("/")
    page.get_by_role("link", name="Calendar", exact=True).click()
    expect(page.get_by_role("heading", name="Calendar")).to_be_visible()
    grid = page.locator("#calendar")
    expect(grid).to_contain_text("Dosing")
    expect(grid).to_contain_text("Lee Wong")
    screenshot(page, "calendar-week")

    page.get_by_role("link", name="Next week").click()
    expect(page).to_have_url(re.compile(rf"date={next_monday.isoformat()}"))
    tuesday = next_monday + timedelta(days=1)
    expect(grid.locator("thead")).to_contain_text(f"{tuesday:%a %b} {tuesday.day}")
    # Only the grid was swapped: one page heading, one toolbar.
    expect(page.get_by_role("heading", name="Calendar")).to_have_count(1)
    expect(page.locator(".calendar-toolbar")).to_have_count(1)
    page.get_by_role(
        "link", name=f"Book a session on {tuesday:%A, %B} {tuesday.day} at 11 AM"
    ).click()
    expect(page.get_by_role("heading", name="Schedule a session")).to_be_visible()
    expect(page.get_by_label("Date")).to_have_value(tuesday.isoformat())
    expect(page.get_by_label("Start time")).to_have_value("11:00")

    # A clash first: the message names the other session, nothing typed is lost.
    page.get_by_label("Client").select_option(label="Maya Patel")
    page.get_by_label("Kind of session").select_option(label="Preparation")
    page.get_by_label("Start time").fill("10:30")
    page.get_by_label("Location").fill("Room 3")
    page.get_by_role("button", name="Book the session").click()
    summary = page.get_by_role("alert").filter(has_text="This can't be done yet")
    expect(summary).to_contain_text("already has a psychotherapy session with Lee Wong")
    expect(page.get_by_label("Location")).to_have_value("Room 3")
    screenshot(page, "calendar-new-error")

    page.get_by_label("Start time").fill("11:00")
    page.get_by_role("button", name="Book the session").click()
    expect(page.get_by_role("heading", name="Preparation session · Maya Patel")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Preparation session booked")).to_be_visible()
    expect(page.locator(".session-when")).to_contain_text("11:00 AM – 11:50 AM")
    screenshot(page, "calendar-session")

    page.get_by_role("link", name="See the week in the calendar").click()
    booked = page.locator(".cal-session").filter(has_text="Maya Patel").filter(has_text="11:00")
    expect(booked).to_be_visible()
    booked.click()
    expect(page.get_by_role("heading", name="Preparation session · Maya Patel")).to_be_visible()

    page.get_by_label("breadcrumb").get_by_role("link", name="Sessions").click()
    expect(page.get_by_role("heading", name="Sessions · Maya Patel")).to_be_visible()
    screenshot(page, "calendar-client-sessions")
    page.get_by_label("breadcrumb").get_by_role("link", name="Maya Patel").click()
    expect(page.get_by_role("region", name="Sessions")).to_contain_text("Next:")
    screenshot(page, "calendar-client-record")

    page.goto(f"/calendar/?date={tuesday.isoformat()}&view=day")
    expect(page.locator("#calendar-title")).to_contain_text(f"{tuesday:%A}")
    screenshot(page, "calendar-day")

    verified_staff(therapist, on=phone_page)
    phone_page.goto(f"/calendar/?date={tuesday.isoformat()}&view=day")
    expect(phone_page.locator(".cal-session").first).to_be_visible()
    screenshot(phone_page, "calendar-day-phone")
