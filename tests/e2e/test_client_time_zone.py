"""The client's time zone (R8: reminders at the client's own local hour), chosen from a list on
the client form and shown on the client record."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from patients.models import Client
from tests import factories

pytestmark = pytest.mark.browser


def test_therapist_sets_a_clients_time_zone(page: Page, verified_staff, screenshot):
    therapist = factories.TherapistFactory(first_name="Sam", last_name="Rivera")
    maya = factories.ClientFactory(
        primary_therapist=therapist, first_name="Maya", last_name="Patel"
    )
    verified_staff(therapist)

    page.goto(reverse("patients:client_edit", kwargs={"client_id": maya.pk}))
    zone = page.get_by_label("Time zone")
    expect(zone).to_have_value("")
    expect(zone.locator("option:checked")).to_have_text("Same as the clinic (America/New York)")
    zone.select_option(label="US Pacific (Los Angeles)")
    zone.scroll_into_view_if_needed()
    screenshot(page, "client-time-zone-form")
    page.get_by_role("button", name="Save changes").click()

    expect(page.get_by_role("heading", name="Maya Patel")).to_be_visible()
    contact = page.get_by_role("region", name="Contact", exact=True)
    expect(contact).to_contain_text("Time zone")
    expect(contact).to_contain_text("America/Los_Angeles")
    screenshot(page, "client-time-zone-record")
    maya.refresh_from_db()
    assert maya.time_zone == "America/Los_Angeles"
    assert Client.objects.get(pk=maya.pk).zone.key == "America/Los_Angeles"
