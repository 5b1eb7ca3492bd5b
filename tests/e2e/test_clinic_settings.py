"""Clinic settings in a browser: the admin opens them from the Clinic menu, is refused a defer
threshold below its range (what they typed stays), then saves one in range, which is in force.
Screenshots: tests/screenshots/clinic-settings-*.png."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from clinic import settings_reader
from tests import factories

pytestmark = pytest.mark.browser


def test_admin_changes_the_bp_defer_threshold(page: Page, verified_staff, screenshot):
    admin = factories.AdminFactory(first_name="Alex", last_name="Admin")
    verified_staff(admin)
    page.goto("/")
    page.get_by_role("button", name="Clinic").click()
    page.get_by_role("link", name="Clinic settings").click()
    expect(page.get_by_role("heading", name="Clinic settings")).to_be_visible()
    expect(page.get_by_role("group", name="Dosing session safety")).to_be_visible()
    screenshot(page, "clinic-settings")

    field = page.get_by_label("Defer at systolic (mmHg) or above")
    field.fill("129")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Enter a whole number from 130 to 160 (R12).").first).to_be_visible()
    expect(field).to_have_value("129")
    screenshot(page, "clinic-settings-error")

    field.fill("150")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Clinic settings saved. They apply from now on.")).to_be_visible()
    expect(field).to_have_value("150")
    assert settings_reader.current().bp_defer_systolic == 150
