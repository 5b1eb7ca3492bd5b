"""R22 automatic logoff in the browser: an idle session ends, the sign-in page says why, and
signing in again returns to the page the person was on."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests import factories
from tests.e2e.conftest import authenticator_code, enter_code, submit_password
from tests.factories_sessions import dosing_ready_session
from tests.sessions.dosing_helpers import prepare

pytestmark = pytest.mark.browser


def test_idle_therapist_is_signed_out_and_returned_to_the_same_record(
    page: Page, live_server, settings, verified_staff, screenshot
):
    settings.IDLE_TIMEOUT_SECONDS = 2  # the live server runs in this process
    therapist = factories.TherapistFactory()
    record = factories.ClientFactory(
        primary_therapist=therapist, first_name="Maya", last_name="Patel"
    )
    device = verified_staff(therapist)

    page.goto(f"/clients/{record.pk}/")
    expect(page.get_by_role("heading", name="Maya Patel")).to_be_visible()

    page.wait_for_timeout(3000)  # idle for longer than the timeout
    page.reload()

    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(
        re.compile(r"signed out after .* without activity")
    )
    expect(page.get_by_text("Maya Patel")).to_have_count(0)
    screenshot(page, "login-after-idle-timeout")

    submit_password(page, therapist.email)
    enter_code(page, authenticator_code(device))
    expect(page).to_have_url(re.compile(rf"/clients/{record.pk}/$"))
    expect(page.get_by_role("heading", name="Maya Patel")).to_be_visible()


def test_an_open_dosing_chart_keeps_the_therapist_signed_in_during_the_session(
    page: Page, live_server, settings, verified_staff, screenshot
):
    """Issue: a therapist was signed out 15 idle minutes into a dosing session, chart open and
    timers running. The chart pings while it is open and visible; other pages still time out."""
    settings.IDLE_TIMEOUT_SECONDS = 2
    settings.DOSING_KEEPALIVE_SECONDS = 1
    session = dosing_ready_session()
    prepare(session, now=timezone.now())
    verified_staff(session.therapist)

    page.goto(f"/clients/{session.client_id}/sessions/{session.pk}/dosing/")
    expect(page.get_by_role("heading", name=re.compile(r"^Dosing session · "))).to_be_visible()
    page.wait_for_timeout(4500)  # more than twice the idle timeout, the chart open
    page.reload()
    expect(page.get_by_role("heading", name=re.compile(r"^Dosing session · "))).to_be_visible()
    screenshot(page, "dosing-chart-kept-signed-in")
