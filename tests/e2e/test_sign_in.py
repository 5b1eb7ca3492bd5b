"""Signing in through the browser: staff two-factor enrolment and verification, backup codes,
client sign-in on a phone, and the lockout after repeated wrong passwords."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests import factories
from tests.e2e.conftest import (
    authenticator_code,
    code_from_secret,
    enter_code,
    submit_password,
)

pytestmark = pytest.mark.browser


def test_therapist_enrols_authenticator_on_first_sign_in(page: Page, live_server, screenshot):
    therapist = factories.TherapistFactory(first_name="Sam", last_name="Rivera")
    factories.ClientFactory(primary_therapist=therapist, first_name="Maya", last_name="Patel")

    page.goto("/accounts/login/")
    submit_password(page, therapist.email)

    # Staff without an authenticator are sent to enrol before they see anything else.
    expect(page.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/setup/"))
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    secret = page.locator("[data-totp-secret]").inner_text()
    assert re.fullmatch(r"[A-Z2-7]{4}( [A-Z2-7]{1,4})+", secret), secret

    # A wrong code: an error, the same key, and the form still there.
    wrong = f"{(int(code_from_secret(secret)) + 1) % 1_000_000:06d}"
    page.get_by_label("6-digit code from the app").fill(wrong)
    page.get_by_role("button", name="Confirm and continue").click()
    expect(page.get_by_role("alert")).to_contain_text("That code did not match")
    expect(page.locator("[data-totp-secret]")).to_have_text(secret)

    # django-otp makes the next attempt wait 1 s after a failure (exponential back-off); a person
    # retyping takes longer than that.
    page.wait_for_timeout(1100)
    page.get_by_label("6-digit code from the app").fill(code_from_secret(secret))
    page.get_by_role("button", name="Confirm and continue").click()

    expect(page.get_by_role("heading", name="Backup codes")).to_be_visible()
    codes = page.get_by_role("list", name="Your backup codes").get_by_role("listitem")
    expect(codes).to_have_count(10)
    expect(page.get_by_role("status")).to_contain_text("Two-factor sign-in is set up.")
    screenshot(page, "backup-codes-after-enrolment")

    page.get_by_role("link", name="I have saved my codes, continue").click()
    expect(page.get_by_role("heading", name="My caseload")).to_be_visible()
    expect(page.get_by_role("link", name="Patel, Maya")).to_be_visible()


def test_enrolled_therapist_signs_in_with_authenticator_code(page: Page, live_server):
    therapist = factories.TherapistFactory()
    device = factories.totp_device(therapist)
    factories.ClientFactory(primary_therapist=therapist, first_name="Ana", last_name="Lopez")

    page.goto("/accounts/login/")
    submit_password(page, therapist.email)
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/verify/"))

    # The client list is out of reach until the code is entered.
    page.goto("/clients/")
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/verify/\?next=%2Fclients%2F"))

    enter_code(page, "000000" if authenticator_code(device) != "000000" else "111111")
    expect(page.get_by_role("alert")).to_contain_text("That code did not work")

    page.wait_for_timeout(1100)  # django-otp's 1 s back-off after a failed code
    enter_code(page, factories.totp_code(device))
    expect(page.get_by_role("heading", name="My caseload")).to_be_visible()
    expect(page.get_by_role("link", name="Lopez, Ana")).to_be_visible()


def test_staff_signs_in_with_backup_code(page: Page, live_server):
    admin = factories.AdminFactory()
    factories.totp_device(admin)
    code = factories.backup_code(admin)
    factories.backup_code(admin)

    page.goto("/accounts/login/")
    submit_password(page, admin.email)
    enter_code(page, code)

    expect(page.get_by_role("heading", name="All clients")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("You used a backup code; 1 left.")

    # A backup code works once. (Within a second of the last sign-in django-otp may still be
    # slowing guesses down; either refusal will do.)
    page.get_by_role("button", name="Sign out").click()
    submit_password(page, admin.email)
    enter_code(page, code)
    expect(page.get_by_role("alert")).to_contain_text(
        re.compile("That code did not work|Too many wrong codes")
    )
    expect(page.get_by_role("heading", name="Enter your sign-in code")).to_be_visible()


def test_client_signs_in_on_phone_without_two_factor(phone_page: Page, live_server, screenshot):
    page = phone_page
    user = factories.ClientUserFactory(first_name="Maya", last_name="Patel")
    therapist = factories.TherapistFactory(first_name="Sam", last_name="Rivera")
    factories.ClientFactory(
        user=user, primary_therapist=therapist, first_name="Maya", last_name="Patel"
    )

    page.goto("/accounts/login/")
    screenshot(page, "phone-login")
    submit_password(page, user.email.upper())  # e-mail addresses are case-insensitive

    expect(page.get_by_role("heading", name="Hello, Maya")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/portal/$"))
    expect(page.get_by_text("Sam Rivera")).to_be_visible()
    # The navigation is collapsed behind the menu button on a phone.
    menu = page.get_by_role("button", name="Toggle navigation")
    expect(menu).to_be_visible()
    screenshot(page, "phone-portal-home")
    menu.click()
    expect(page.get_by_role("link", name="My care")).to_be_visible()
    screenshot(page, "phone-portal-menu-open")

    # Clients never see staff pages.
    page.goto("/clients/")
    expect(page.get_by_text("Page not found")).to_be_visible()


def test_five_wrong_passwords_lock_sign_in(page: Page, live_server, screenshot):
    therapist = factories.TherapistFactory()
    page.goto("/accounts/login/")

    for _ in range(4):
        submit_password(page, therapist.email, "wrong-password-123")
        expect(page.get_by_role("alert")).to_contain_text(
            "That e-mail address and password do not match"
        )
        # The form keeps the e-mail address; only the password must be typed again.
        expect(page.get_by_label("E-mail address")).to_have_value(therapist.email)
    screenshot(page, "login-errors")

    submit_password(page, therapist.email, "wrong-password-123")
    expect(page.get_by_role("heading", name="Sign-in temporarily locked")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("locked for 15 minutes")
    screenshot(page, "locked-out")

    # Even the right password is refused while locked.
    page.goto("/accounts/login/")
    submit_password(page, therapist.email)
    expect(page.get_by_role("heading", name="Sign-in temporarily locked")).to_be_visible()
    expect(page.get_by_role("heading", name="Enter your sign-in code")).to_have_count(0)
    expect(page.get_by_role("heading", name="Set up two-factor sign-in")).to_have_count(0)

    # Another account from the same browser is not affected.
    colleague = factories.TherapistFactory()
    page.goto("/accounts/login/")
    submit_password(page, colleague.email)
    expect(page.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
