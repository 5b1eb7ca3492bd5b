"""The audit trail in a browser: an admin types part of a client's name in the Client field,
picks her from the suggestions and sees only her record's trail, then part of a therapist's name
in Who; then pages to older entries and back. The suggestions pass axe's WCAG A/AA checks while
open. Screenshots: tests/screenshots/audit-trail-*.png."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from playwright.sync_api import Page, expect

from audit.models import AccessEvent
from staff.audit.selectors import PAGE_SIZE
from tests import factories
from tests.e2e import axe

pytestmark = pytest.mark.browser


def _views(user, client, count: int, page: str = "Client record"):
    start = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    for n in range(count):
        with time_machine.travel(start + timedelta(minutes=n), tick=False):
            AccessEvent.objects.create(
                user=user, client=client, page=page, path="/clients/", method="GET"
            )


def test_admin_finds_one_client_s_trail_by_typing_her_name(page: Page, verified_staff, screenshot):
    admin = factories.AdminFactory(first_name="Alex", last_name="Morgan")
    rivera = factories.TherapistFactory(first_name="Sam", last_name="Rivera")
    chen = factories.TherapistFactory(first_name="Jordan", last_name="Chen")
    maya = factories.ClientFactory(
        primary_therapist=rivera, first_name="Maya", last_name="Patel", email="maya@example.org"
    )
    # A second "Pat…" so the suggestions offer a choice.
    patrick = factories.ClientFactory(
        primary_therapist=chen, first_name="Patrick", last_name="Okafor"
    )
    _views(rivera, maya, 25)
    _views(chen, maya, 15, page="Dosing chart")
    _views(chen, patrick, 30)
    verified_staff(admin)

    page.goto("/help/")
    page.get_by_role("navigation", name="Main").get_by_role("button", name="Clinic").click()
    page.get_by_role("link", name="Audit trail").click()
    expect(page.get_by_role("heading", name="Audit trail", level=1)).to_be_visible()
    # The whole trail: the 95 above and the client list the admin landed on after signing in.
    expect(
        page.get_by_text(f"{AccessEvent.objects.count()} entries, newest first.")
    ).to_be_visible()

    client_field = page.get_by_label("Client", exact=True)
    client_field.press_sequentially("pat", delay=40)
    suggestions = page.locator("#id_client_name-suggestions")
    expect(suggestions.get_by_role("button")).to_have_count(2)
    expect(suggestions.get_by_role("button", name="Maya Patel")).to_contain_text(
        "therapist Sam Rivera"
    )
    assert not axe.blocking(axe.violations(page)), axe.describe(axe.violations(page))
    screenshot(page, "audit-trail-suggestions")

    suggestions.get_by_role("button", name="Maya Patel").click()
    expect(client_field).to_have_value("Maya Patel")
    expect(suggestions.get_by_role("button")).to_have_count(0)
    page.get_by_role("button", name="Filter").click()

    # Her 40 views, and the admin's own look at her name among the suggestions (R22).
    shown = AccessEvent.objects.filter(client=maya).exclude(page="Audit trail").count()
    assert shown >= 41
    expect(page.get_by_text(f"{shown} entries, newest first.")).to_be_visible()
    table = page.get_by_role("table", name="Record views")
    rows = table.locator("tbody").get_by_role("row")
    expect(rows).to_have_count(PAGE_SIZE)
    expect(rows.filter(has_text="Patrick Okafor")).to_have_count(0)
    expect(page.get_by_label("Client", exact=True)).to_have_value("Maya Patel")
    screenshot(page, "audit-trail-one-client")

    # Older entries, with the filter kept, then back.
    page.get_by_role("link", name="Older entries").click()
    expect(rows).to_have_count(shown - PAGE_SIZE)
    expect(rows.filter(has_text="Patrick Okafor")).to_have_count(0)
    page.get_by_role("link", name="Newer entries").click()
    expect(rows).to_have_count(PAGE_SIZE)

    # Who: part of a name, picked with the keyboard.
    who = page.get_by_label("Who")
    who.press_sequentially("chen", delay=40)
    expect(page.locator("#id_who-suggestions").get_by_role("button")).to_have_count(1)
    who.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(who).to_have_value("Jordan Chen")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("15 entries, newest first.")).to_be_visible()
    expect(rows.filter(has_text="Dosing chart")).to_have_count(15)
    screenshot(page, "audit-trail-who-and-client")

    # Enter without picking: the typed text is looked up, and two matches are offered as links.
    page.get_by_role("link", name="Clear").click()
    client_field.press_sequentially("pat", delay=40)
    expect(suggestions.get_by_role("button")).to_have_count(2)
    client_field.press("Enter")
    expect(page.get_by_text("2 clients match “pat”: pick one below.").first).to_be_visible()
    expect(page.get_by_text("Correct the filters above to see entries.")).to_be_visible()
    screenshot(page, "audit-trail-pick-one")
    page.get_by_role("list", name="Matches for Client").get_by_role(
        "link", name="Patrick Okafor"
    ).click()
    expect(page.get_by_label("Client", exact=True)).to_have_value("Patrick Okafor")
    expect(rows).to_have_count(PAGE_SIZE)
    expect(rows.filter(has_not_text="Patrick Okafor")).to_have_count(0)
