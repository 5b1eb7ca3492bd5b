"""Staff management in a browser: an admin reassigns a departing therapist's caseload (one
upcoming session moves, one that would double-book the new therapist is listed to rebook), and a
therapist shares a client with a colleague from the client record, then stops sharing.
Screenshots: tests/screenshots/staff-caseload-*.png, client-sharing-*.png."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from patients.courses.services import course_open
from patients.models import Client, ClientShare
from sessions.models import Session
from tests import factories

pytestmark = pytest.mark.browser


def _session(client, therapist, by, starts_at):
    return Session.objects.create(
        client=client,
        therapist=therapist,
        kind="general",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=50),
        created_by=by,
    )


def test_admin_reassigns_a_caseload(page: Page, verified_staff, screenshot):
    admin = factories.AdminFactory(first_name="Alex", last_name="Admin")
    leaving = factories.TherapistFactory(first_name="Sam", last_name="Rivera")
    taking_over = factories.TherapistFactory(first_name="Jordan", last_name="Chen")
    clients = [
        factories.ClientFactory(primary_therapist=leaving, first_name=first, last_name=last)
        for first, last in (("Maya", "Patel"), ("Omar", "Haddad"), ("Lena", "Fischer"))
    ]
    course_open(client=clients[0], by=admin)
    course_open(client=clients[1], by=admin)
    day = timezone.localtime(timezone.now() + timedelta(days=3)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    _session(clients[0], leaving, admin, day)
    _session(clients[1], leaving, admin, day + timedelta(days=1))
    busy = factories.ClientFactory(primary_therapist=taking_over)
    _session(busy, taking_over, admin, day + timedelta(days=1, minutes=30))

    verified_staff(admin)
    page.goto("/accounts/staff/")
    page.get_by_role("link", name="Sam Rivera").click()
    expect(page.get_by_text("3 active clients, 2 running treatment courses.")).to_be_visible()
    screenshot(page, "staff-caseload-edit")
    page.get_by_role("link", name="Reassign caseload").click()
    expect(page.get_by_role("heading", name="Reassign Sam Rivera’s caseload")).to_be_visible()
    screenshot(page, "staff-caseload-reassign")

    page.get_by_role("button", name="Reassign 3 clients").click()
    expect(
        page.get_by_text("Choose the therapist who takes over these clients.").first
    ).to_be_visible()
    screenshot(page, "staff-caseload-error")
    page.get_by_label("Therapist who takes over").select_option(
        label=f"Jordan Chen ({taking_over.email})"
    )
    page.get_by_label("Reason").fill("Leaving the clinic")
    page.get_by_role("button", name="Reassign 3 clients").click()
    expect(page.get_by_text("3 clients and 2 courses moved to Jordan Chen.")).to_be_visible()
    expect(page.get_by_text("1 upcoming session could not move")).to_be_visible()
    screenshot(page, "staff-caseload-done")
    assert Client.objects.filter(primary_therapist=taking_over).count() == 4


def test_therapist_shares_a_client_and_stops_sharing(page: Page, verified_staff, screenshot):
    therapist = factories.TherapistFactory(first_name="Sam", last_name="Rivera")
    factories.TherapistFactory(first_name="Jordan", last_name="Chen")
    factories.TherapistFactory(first_name="Priya", last_name="Nair")
    record = factories.ClientFactory(
        primary_therapist=therapist, first_name="Maya", last_name="Patel"
    )

    verified_staff(therapist)
    page.goto(record.get_absolute_url())
    sharing = page.locator("section", has=page.get_by_role("heading", name="Shared with"))
    expect(sharing.get_by_text("Not shared with anyone else.")).to_be_visible()
    sharing.get_by_label("Share with").select_option(label="Jordan Chen")
    sharing.get_by_label("Reason").fill("Holiday cover, 3 weeks")
    sharing.get_by_role("button", name="Share with this therapist").click()
    expect(page.get_by_text("Maya Patel is now shared with Jordan Chen.")).to_be_visible()
    sharing.scroll_into_view_if_needed()
    screenshot(page, "client-sharing-shared")
    sharing.get_by_role("button", name="Stop sharing with Jordan Chen").click()
    expect(page.get_by_text("Maya Patel is no longer shared with Jordan Chen.")).to_be_visible()
    assert ClientShare.objects.get().revoked_at is not None
