"""Session notes and the calendar feed in a browser.

A therapist drafts a preparation note on the session page, signs it, adds an addendum and keeps a
private psychotherapy note; an admin opening the same session sees the signed note but not the
private note (R23). The therapist makes a calendar link from My account, sees the address once,
their calendar app reads it (kind and initials only, R25), then makes a new link and turns it off.
Screenshots: tests/screenshots/notes-*.png and feed-*.png."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests import factories
from tests.factories_sessions import SessionFactory

pytestmark = pytest.mark.browser

PRIVATE = "Strong transference today; explore the father material next time."


def _people():
    therapist = factories.TherapistFactory(first_name="Sam", last_name="Rivera")
    record = factories.ClientFactory(
        primary_therapist=therapist, first_name="Maya", last_name="Patel"
    )
    return therapist, record


def test_therapist_charts_signs_and_keeps_a_private_note(
    page: Page, verified_staff, screenshot, new_browser
):
    therapist, record = _people()
    session = SessionFactory(
        client=record, kind="preparation", starts_at=timezone.now() - timedelta(hours=2)
    )
    verified_staff(therapist)
    page.goto(session.get_absolute_url())
    expect(page.get_by_role("heading", name="Progress note")).to_be_visible()
    page.get_by_label("History").fill("Two SSRIs tried without response. Lives with partner.")
    page.get_by_label("Intentions").fill("To feel less stuck; to grieve her mother.")
    page.get_by_label("Dosing-day logistics explained").fill(
        "Fasting 4 h, partner as chaperone, no driving until the next day."
    )
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft saved")).to_be_visible()
    expect(page.get_by_label("History")).to_have_value(
        "Two SSRIs tried without response. Lives with partner."
    )
    page.get_by_label("Your psychotherapy note").fill(PRIVATE)
    page.get_by_role("button", name="Save private note").click()
    expect(page.get_by_text("Only you can see it.")).to_be_visible()
    screenshot(page, "notes-draft")

    page.get_by_label("Plan / next steps").fill("Second preparation session next week.")
    page.get_by_role("button", name="Sign and lock").click()
    expect(page.get_by_text("Signed by Sam Rivera on")).to_be_visible()
    page.get_by_label("Add an addendum").fill("Client called: partner confirmed as chaperone.")
    page.get_by_role("button", name="Add addendum").click()
    expect(page.get_by_text("partner confirmed as chaperone")).to_be_visible()
    screenshot(page, "notes-signed")

    admin = factories.AdminFactory(first_name="Alex", last_name="Morgan")
    admin_page = new_browser()
    verified_staff(admin, on=admin_page)
    admin_page.goto(session.get_absolute_url())
    expect(admin_page.get_by_text("Signed by Sam Rivera on")).to_be_visible()
    expect(admin_page.get_by_text("father material")).to_have_count(0)
    screenshot(admin_page, "notes-signed-admin")


def test_therapist_makes_uses_replaces_and_turns_off_a_calendar_link(
    page: Page, verified_staff, screenshot
):
    therapist, record = _people()
    SessionFactory(client=record, kind="preparation")
    SessionFactory(client=record, kind="integration")
    verified_staff(therapist)
    page.goto(reverse("accounts:account"))
    page.get_by_role("link", name="Calendar feed").click()
    expect(page.get_by_role("heading", name="Calendar feed", exact=True)).to_be_visible()
    screenshot(page, "feed-off")

    page.get_by_role("button", name="Create a calendar link").click()
    address = page.get_by_label("Copy this address now")
    expect(address).to_be_visible()
    url = address.input_value()
    page.get_by_role("button", name="Copy address").click()
    expect(page.get_by_role("status")).to_have_text(re.compile(r"Copied|Press Ctrl\+C"))
    screenshot(page, "feed-created")

    ics = page.request.get(url)
    assert ics.status == 200
    assert ics.headers["content-type"] == "text/calendar; charset=utf-8"
    body = ics.text()
    assert body.count("Session · M.P.") == 2  # R25: not the kind of session, by default
    assert "Preparation" not in body
    assert "Maya" not in body
    assert "Patel" not in body

    page.goto(reverse("calendar:feed"))
    expect(page.get_by_text("Copy this address now")).to_have_count(0)
    screenshot(page, "feed-on")
    page.get_by_role("button", name="Make a new link").click()
    new_url = page.get_by_label("Copy this address now").input_value()
    assert new_url != url
    assert page.request.get(url).status == 404
    page.goto(reverse("calendar:feed"))
    page.get_by_role("button", name="Turn off").click()
    expect(page.get_by_text("Your calendar link is turned off")).to_be_visible()
    assert page.request.get(new_url).status == 404
