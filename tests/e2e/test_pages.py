"""Every page that exists, used the way a person uses it, with a screenshot of each (desktop width
1280x900) in tests/screenshots/ for people to look at."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from tests import factories
from tests.e2e.conftest import code_from_secret, enter_code, submit_password
from tests.outbox_helpers import send_outbox

pytestmark = pytest.mark.browser


def test_password_reset_by_e_mail(page: Page, live_server, new_browser, screenshot):
    therapist = factories.TherapistFactory(first_name="Sam")
    factories.totp_device(therapist)

    page.goto("/accounts/login/")
    screenshot(page, "login")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()
    screenshot(page, "password-reset")
    page.get_by_label("E-mail address").fill(therapist.email)
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    screenshot(page, "password-reset-sent")

    assert mail.outbox == []  # in the outbox: the beat sends it within a minute
    send_outbox()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [therapist.email]
    link = re.search(r"https?://\S+/accounts/password/reset/\S+/", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    page.goto(link.group(0))
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()

    # A too-short password is refused with an explanation.
    page.get_by_label("New password", exact=False).first.fill("short")
    page.get_by_label("New password confirmation").fill("short")
    page.get_by_role("button", name="Save new password").click()
    expect(page.get_by_role("alert")).to_contain_text("too short")
    screenshot(page, "password-reset-choose-errors")

    new_password = "a-much-longer-passphrase-42"
    page.get_by_label("New password", exact=False).first.fill(new_password)
    page.get_by_label("New password confirmation").fill(new_password)
    page.get_by_role("button", name="Save new password").click()
    expect(page.get_by_role("heading", name="Password saved")).to_be_visible()
    screenshot(page, "password-reset-complete")

    page.get_by_role("link", name="Sign in").click()
    submit_password(page, therapist.email, new_password)
    expect(page.get_by_role("heading", name="Enter your sign-in code")).to_be_visible()

    # The link works once (tried from a signed-out browser).
    other = new_browser()
    other.goto(link.group(0))
    expect(other.get_by_role("heading", name="This link no longer works")).to_be_visible()
    screenshot(other, "password-reset-link-used")


def test_therapist_pages(page: Page, live_server, screenshot):
    therapist = factories.TherapistFactory(first_name="Sam", last_name="Rivera")
    colleague = factories.TherapistFactory(first_name="Jordan", last_name="Chen")
    maya = factories.ClientFactory(
        primary_therapist=therapist,
        first_name="Maya",
        last_name="Patel",
        preferred_name="May",
        user=factories.ClientUserFactory(),
    )
    factories.ClientFactory(primary_therapist=therapist, first_name="Ana", last_name="Lopez")
    factories.ClientFactory(primary_therapist=therapist, first_name="Ben", last_name="Okafor")
    shared = factories.ClientFactory(
        primary_therapist=colleague, first_name="Chris", last_name="Novak"
    )
    factories.ClientShareFactory(client=shared, therapist=therapist)
    factories.ClientFactory(primary_therapist=colleague, first_name="Dana", last_name="Hidden")

    page.goto("/accounts/login/")
    submit_password(page, therapist.email)
    expect(page.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
    screenshot(page, "two-factor-setup")
    secret = page.locator("[data-totp-secret]").inner_text()
    page.get_by_label("6-digit code from the app").fill(code_from_secret(secret))
    page.get_by_role("button", name="Confirm and continue").click()
    expect(page.get_by_role("heading", name="Backup codes")).to_be_visible()
    page.get_by_role("link", name="I have saved my codes, continue").click()

    # Caseload: own clients and the shared one, not the colleague's other client.
    expect(page.get_by_role("heading", name="My caseload")).to_be_visible()
    rows = page.get_by_role("table", name="Clients").get_by_role("row")
    expect(rows).to_have_count(5)  # header + 4
    expect(page.get_by_text("Hidden")).to_have_count(0)
    novak = page.get_by_role("row", name=re.compile("Novak, Chris"))
    expect(novak.get_by_text("Shared with me")).to_be_visible()
    screenshot(page, "caseload")

    page.get_by_label("Search by name, e-mail or phone").fill("pat")
    page.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(2)
    expect(page.get_by_text("1 client matching “pat”")).to_be_visible()
    screenshot(page, "caseload-search")
    page.get_by_label("Search by name, e-mail or phone").fill("nobody-by-this-name")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("No client matches “nobody-by-this-name”.")).to_be_visible()
    screenshot(page, "caseload-search-empty")
    page.get_by_role("link", name="Clear").click()

    page.get_by_role("link", name="Patel, Maya").click()
    expect(page.get_by_role("heading", name="Maya Patel")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/clients/{maya.pk}/$"))
    screenshot(page, "client-detail")
    breadcrumb = page.get_by_role("navigation", name="breadcrumb")
    breadcrumb.get_by_role("link", name="My caseload").click()
    page.get_by_role("link", name="Novak, Chris").click()
    expect(page.get_by_role("heading", name="Chris Novak")).to_be_visible()
    screenshot(page, "client-detail-shared")

    page.get_by_role("link", name=re.compile("Sam Rivera")).click()
    expect(page.get_by_role("heading", name="My account")).to_be_visible()
    expect(page.get_by_text("10 backup codes left.")).to_be_visible()
    screenshot(page, "account")

    page.get_by_role("link", name="Backup codes").click()
    expect(page.get_by_text("You have 10 unused backup codes.")).to_be_visible()
    screenshot(page, "backup-codes-remaining")
    page.get_by_role("button", name="Make new backup codes").click()
    expect(page.get_by_role("status")).to_contain_text("New backup codes made")
    new_codes = page.get_by_role("list", name="Your backup codes").get_by_role("listitem")
    expect(new_codes).to_have_count(10)
    page.goto("/accounts/")

    page.get_by_role("link", name="Change password").click()
    expect(page.get_by_role("heading", name="Change password")).to_be_visible()
    screenshot(page, "password-change")
    page.get_by_label("Old password").fill("not-my-password")
    page.get_by_label("New password", exact=False).first.fill("another-long-passphrase-7")
    page.get_by_label("New password confirmation").fill("another-long-passphrase-7")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("alert")).to_contain_text("Old password")
    screenshot(page, "password-change-errors")

    # Another therapist's client: the same "not found" page as a page that does not exist.
    page.goto(f"/clients/{shared.pk + 1}/")
    expect(page.get_by_text("Page not found")).to_be_visible()
    screenshot(page, "404")


def test_admin_audit_trail(page: Page, live_server, screenshot):
    admin = factories.AdminFactory(first_name="Alex", last_name="Admin")
    device = factories.totp_device(admin)
    therapist = factories.TherapistFactory(first_name="Sam", last_name="Rivera")
    factories.ClientFactory(primary_therapist=therapist, first_name="Maya", last_name="Patel")
    factories.ClientFactory(primary_therapist=therapist, first_name="Ana", last_name="Lopez")

    page.goto("/accounts/login/")
    submit_password(page, admin.email)
    expect(page.get_by_role("heading", name="Enter your sign-in code")).to_be_visible()
    screenshot(page, "two-factor-verify")
    page.get_by_label("Code").fill("12345")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_contain_text("That code did not work")
    screenshot(page, "two-factor-verify-errors")
    page.wait_for_timeout(1100)  # django-otp's 1 s back-off after a failed code
    enter_code(page, factories.totp_code(device))

    expect(page.get_by_role("heading", name="All clients")).to_be_visible()
    screenshot(page, "clients-admin")
    for listed, heading in [("Patel, Maya", "Maya Patel"), ("Lopez, Ana", "Ana Lopez")] * 2:
        page.get_by_role("link", name=listed).click()
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
        page.go_back()

    page.get_by_role("button", name="Clinic").click()
    page.get_by_role("link", name="Audit trail").click()
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    views = page.get_by_role("table", name="Record views").get_by_role("row")
    records = views.filter(has_text="Client record")
    expect(records).to_have_count(4)  # the four record views
    expect(records.first).to_contain_text("Ana Lopez")
    expect(records.first).to_contain_text("Alex Admin")
    # Each showing of the client list is a view of the clients it lists too (R22).
    expect(views.filter(has_text="Client list").filter(has_text="Maya Patel").first).to_be_visible()
    screenshot(page, "audit-views")

    page.get_by_label("Client", exact=True).press_sequentially("ana", delay=40)
    page.locator("#id_client_name-suggestions").get_by_role("button", name="Ana Lopez").click()
    page.get_by_role("button", name="Filter").click()
    expect(records).to_have_count(2)
    expect(views.filter(has_text="Maya Patel")).to_have_count(0)

    page.get_by_role("link", name="Changes").click()
    expect(page.get_by_role("link", name="Changes")).to_have_attribute("aria-current", "page")
    changes = page.get_by_role("table", name="Changes").get_by_role("row")
    expect(changes.first).to_be_visible()
    screenshot(page, "audit-changes")
    page.get_by_role("link", name="Clear").click()
    expect(changes.filter(has_text="Client: Maya Patel")).to_have_count(1)
    expect(changes.filter(has_text="Client: Ana Lopez")).to_have_count(1)
    screenshot(page, "audit-changes-all")


def test_admin_adds_a_therapist_who_then_signs_in(
    page: Page, live_server, new_browser, verified_staff, screenshot
):
    admin = factories.AdminFactory(first_name="Alex", last_name="Admin")
    factories.TherapistFactory(first_name="Sam", last_name="Rivera")
    verified_staff(admin)

    page.get_by_role("button", name="Clinic").click()
    page.get_by_role("link", name="Staff").click()
    expect(page.get_by_role("heading", name="Staff")).to_be_visible()
    staff = page.get_by_role("table", name="Staff accounts").get_by_role("row")
    expect(staff).to_have_count(3)
    screenshot(page, "staff-list")

    page.get_by_role("link", name="Add staff member").click()
    expect(page.get_by_role("heading", name="Add staff member")).to_be_visible()
    screenshot(page, "staff-add")
    page.get_by_role("button", name="Add and send the e-mail").click()
    expect(page.get_by_role("alert").first).to_contain_text("Please correct")
    screenshot(page, "staff-add-errors")
    page.get_by_label("First name").fill("Jordan")
    page.get_by_label("Last name").fill("Chen")
    page.get_by_label("E-mail address").fill("Jordan.Chen@example.org")
    page.get_by_label("Role").select_option(label="Therapist")
    page.get_by_role("button", name="Add and send the e-mail").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Jordan Chen was added. A link to choose a password will be e-mailed to them within a "
        "minute (the Outbox shows when it has gone out)"
    )
    expect(staff.filter(has_text="Jordan Chen")).to_contain_text("Not yet")
    screenshot(page, "staff-list-after-add")

    # The beat sends the e-mail; the new therapist, in their own browser, follows its link.
    assert mail.outbox == []
    send_outbox()
    assert [message.to for message in mail.outbox] == [["jordan.chen@example.org"]]
    link = re.search(r"https?://\S+/accounts/password/reset/\S+/", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    jordan = new_browser()
    jordan.goto(link.group(0))
    expect(jordan.get_by_role("heading", name="Choose a new password")).to_be_visible()
    screenshot(jordan, "staff-invite-choose-password")
    jordan.get_by_label("New password", exact=False).first.fill("jordans-own-passphrase-5")
    jordan.get_by_label("New password confirmation").fill("jordans-own-passphrase-5")
    jordan.get_by_role("button", name="Save new password").click()
    jordan.get_by_role("link", name="Sign in").click()
    submit_password(jordan, "jordan.chen@example.org", "jordans-own-passphrase-5")
    expect(jordan.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
    secret = jordan.locator("[data-totp-secret]").inner_text()
    jordan.get_by_label("6-digit code from the app").fill(code_from_secret(secret))
    jordan.get_by_role("button", name="Confirm and continue").click()
    jordan.get_by_role("link", name="I have saved my codes, continue").click()
    expect(jordan.get_by_role("heading", name="My caseload")).to_be_visible()
    expect(jordan.get_by_text("Your caseload is empty.")).to_be_visible()
    screenshot(jordan, "caseload-empty")

    # The admin sees the enrolment, and can reset it (lost phone).
    page.reload()
    expect(staff.filter(has_text="Jordan Chen")).to_contain_text("Set up")
    page.get_by_role("link", name="Jordan Chen").click()
    expect(page.get_by_role("heading", name="Jordan Chen")).to_be_visible()
    screenshot(page, "staff-edit")
    page.get_by_role("button", name="Reset two-factor sign-in").click()
    expect(page.get_by_role("status")).to_contain_text("Two-factor sign-in was reset")
    expect(page.get_by_text("Not set up yet")).to_be_visible()
    screenshot(page, "staff-edit-after-2fa-reset")

    # Deactivated: Jordan can no longer sign in.
    page.get_by_label("Account active").uncheck()
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_contain_text("Saved changes to Jordan Chen")
    expect(staff.filter(has_text="Jordan Chen")).to_contain_text("Deactivated")
    jordan.get_by_role("button", name="Sign out").click()
    submit_password(jordan, "jordan.chen@example.org", "jordans-own-passphrase-5")
    expect(jordan.get_by_role("alert")).to_contain_text("do not match an active account")
