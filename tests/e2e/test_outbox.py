"""The Outbox in a browser: an admin invites a client to the portal while the mail server refuses
the address for good (550). The dispatcher fails the message at once, with the reason; the admin
finds it on the Outbox page (Clinic menu) and on the client's record under "Client portal", and
once the mail server takes mail again presses "Send again"; the beat sends it and the Outbox
shows it sent. Screenshots: tests/screenshots/outbox-*.png."""

from __future__ import annotations

import re
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from playwright.sync_api import Page, expect

from tests import factories
from tests.outbox_helpers import send_outbox

pytestmark = pytest.mark.browser

LOCMEM = "django.core.mail.backends.locmem.EmailBackend"
REFUSED = "The e-mail was not sent: The address was refused: 550"


class RefusingBackend(BaseEmailBackend):
    """A mail server that answers 550 at RCPT for every address: a permanent refusal."""

    def send_messages(self, email_messages):
        for message in email_messages:
            raise smtplib.SMTPRecipientsRefused(
                {address: (550, b"5.1.1 no such user") for address in message.recipients()}
            )
        return 0


def test_admin_sends_a_refused_invitation_again_from_the_outbox(
    page: Page, verified_staff, screenshot, settings
):
    admin = factories.AdminFactory(first_name="Alex", last_name="Admin")
    therapist = factories.TherapistFactory(first_name="Sam", last_name="Rivera")
    rosa = factories.ClientFactory(
        primary_therapist=therapist, first_name="Rosa", last_name="Diaz", email="rosa@example.org"
    )
    verified_staff(admin)

    page.goto(rosa.get_absolute_url())
    expect(page.get_by_role("heading", name="Rosa Diaz")).to_be_visible()
    page.get_by_role("button", name="Invite to portal").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Invitation to rosa@example.org saved: it will be e-mailed within a minute."
    )
    portal = page.locator("[data-portal-status]")
    expect(portal.locator('[data-delivery="pending"]')).to_have_text("Will be sent within a minute")

    # The beat runs while the mail server refuses the address: failed at once, not retried.
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    result = send_outbox()
    assert (result.sent, result.failed, result.retried) == (0, 1, 0)
    assert mail.outbox == []

    # The Outbox page, from the Clinic menu.
    page.get_by_role("navigation", name="Main").get_by_role("button", name="Clinic").click()
    page.get_by_role("link", name="Outbox").click()
    expect(page.get_by_role("heading", name="Outbox", level=1)).to_be_visible()
    table = page.get_by_role("table", name="Messages")
    headers = table.get_by_role("columnheader")
    expect(headers).to_have_text(
        ["Queued", "Message", "To", "About", "Status", "Tries", "What happened", "Actions"]
    )
    rows = table.locator("tbody").get_by_role("row")
    expect(rows).to_have_count(1)
    invitation = rows.filter(has_text="rosa@example.org")
    expect(invitation).to_contain_text("Portal invitation")
    expect(invitation.get_by_role("cell").nth(4)).to_have_text("Failed")
    expect(invitation.get_by_role("cell").nth(5)).to_have_text("1")
    expect(invitation.locator('[data-delivery="failed"]')).to_have_text(REFUSED)
    filters = page.get_by_role("navigation", name="Show messages by status")
    expect(filters.get_by_role("link", name="Failed")).to_contain_text("1")
    send_again = invitation.get_by_role(
        "button", name="Send again the portal invitation to rosa@example.org"
    )
    expect(send_again).to_be_visible()
    screenshot(page, "outbox-1-failed")

    # The client's record says the same under "Client portal".
    invitation.get_by_role("link", name="Rosa Diaz").click()
    expect(page.get_by_role("heading", name="Rosa Diaz")).to_be_visible()
    expect(portal).to_contain_text("Invited")
    expect(portal.locator('[data-delivery="failed"]')).to_have_text(REFUSED)
    screenshot(page, "outbox-2-client-portal-failed")

    # The mail server takes mail again; the admin sends it again from the Outbox.
    settings.EMAIL_BACKEND = LOCMEM
    page.go_back()
    expect(page.get_by_role("heading", name="Outbox", level=1)).to_be_visible()
    send_again.click()
    expect(page.get_by_role("status")).to_contain_text(
        "The message to rosa@example.org will be sent again within a minute."
    )
    expect(invitation.get_by_role("cell").nth(4)).to_have_text("Due")
    expect(invitation.locator('[data-delivery="pending"]')).to_have_text(
        "Will be sent within a minute"
    )
    expect(invitation.get_by_role("button")).to_have_count(0)

    result = send_outbox()
    assert (result.sent, result.failed) == (1, 0)
    (message,) = mail.outbox
    assert message.to == ["rosa@example.org"]
    assert re.search(r"https?://[^/\s]+/welcome/\S+/", message.body), message.body

    page.reload()
    expect(invitation.get_by_role("cell").nth(4)).to_have_text("Sent")
    expect(invitation.locator('[data-delivery="sent"]')).to_contain_text("E-mailed")
    expect(invitation.get_by_role("button")).to_have_count(0)
    expect(filters.get_by_role("link", name="Failed")).to_contain_text("0")
    screenshot(page, "outbox-3-sent")

    page.goto(rosa.get_absolute_url())
    expect(portal.locator('[data-delivery="sent"]')).to_contain_text("E-mailed")
