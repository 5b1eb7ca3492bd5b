"""A therapist adds a client and invites them to the portal; the client opens the e-mailed link on
a phone, chooses a password (a weak one first, refused with the reason) and lands on their portal
home with the intake form to start. Opening the used link again says it no longer works."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from tests import factories
from tests.outbox_helpers import send_outbox

pytestmark = pytest.mark.browser


def test_therapist_invites_and_the_client_signs_up_on_a_phone(
    page: Page, verified_staff, phone_page: Page, screenshot
):
    therapist = factories.TherapistFactory(first_name="Sam", last_name="Rivera")
    verified_staff(therapist)

    page.goto("/clients/")
    page.get_by_role("link", name="Add client").click()
    page.get_by_label("First name (legal)").fill("Rosa")
    page.get_by_label("Last name (legal)").fill("Diaz")
    page.get_by_label("E-mail address").fill("rosa@example.org")
    page.get_by_label("Phone", exact=True).fill("12")  # too short: refused, the rest is kept
    page.get_by_role("button", name="Add client").click()
    expect(page.get_by_role("alert").filter(has_text="Please correct")).to_be_visible()
    expect(page.get_by_label("Last name (legal)")).to_have_value("Diaz")
    screenshot(page, "client-add-errors")
    page.get_by_label("Phone", exact=True).fill("(555) 201-3344")
    page.get_by_role("button", name="Add client").click()
    expect(page.get_by_role("heading", name="Rosa Diaz")).to_be_visible()
    expect(page.get_by_text("(555) 201-3344")).to_be_visible()
    expect(page.locator('[data-portal-status="not_invited"]')).to_have_text("Not invited")

    page.get_by_role("button", name="Invite to portal").click()
    expect(
        page.get_by_role("status").filter(
            has_text="Invitation to rosa@example.org saved: it will be e-mailed within a minute."
        )
    ).to_be_visible()
    portal = page.locator('[data-portal-status="invited"]')
    expect(portal).to_contain_text("Invited")
    expect(portal.locator("[data-delivery]")).to_have_text("Will be sent within a minute")
    screenshot(page, "client-detail-invited")
    assert mail.outbox == []  # in the outbox, not yet sent: the beat sends it within a minute
    send_outbox()
    page.reload()
    expect(portal.locator('[data-delivery="sent"]')).to_contain_text("E-mailed")
    (message,) = mail.outbox
    link = re.search(r"https?://[^/\s]+(/welcome/\S+/)", message.body).group(1)

    phone = phone_page
    phone.goto(link)
    expect(phone.get_by_role("heading", name="Welcome, Rosa")).to_be_visible()
    phone.get_by_label("Choose a password").fill("rosa")
    phone.get_by_label("Type it again").fill("rosa")
    phone.get_by_role("button", name="Set my password").click()
    expect(phone.get_by_role("alert").filter(has_text="too short")).to_be_visible()
    screenshot(phone, "invitation-weak-password")
    phone.get_by_label("Choose a password").fill("sunny-river-stone-7")
    phone.get_by_label("Type it again").fill("sunny-river-stone-7")
    phone.get_by_role("button", name="Set my password").click()
    expect(phone.get_by_role("heading", name="Hello, Rosa")).to_be_visible()
    expect(phone.get_by_text("Complete your intake form")).to_be_visible()
    screenshot(phone, "invitation-accepted-portal-home")

    page.reload()
    expect(page.locator('[data-portal-status="active"]')).to_have_text("Active")

    phone.context.clear_cookies()  # a stranger's phone: nobody signed in
    phone.goto(link)
    expect(phone.get_by_role("heading", name="This link no longer works")).to_be_visible()
