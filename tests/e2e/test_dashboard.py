"""The course-progress dashboard in a browser, as an admin: the clinic figures, the table with its
sparklines and alerts, a therapist filter, then the CSV download (initials by default).
The table's pages past the count's cap. Screenshots: tests/screenshots/dashboard-*.png."""

from __future__ import annotations

import csv
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from patients.models import Alert, Phase
from reports import selectors
from tests import factories
from tests.factories_integration import dose_for
from tests.factories_sessions import course_for
from tests.reports.helpers import deferred, integration_after, score

pytestmark = pytest.mark.browser


def _clinic():
    sam = factories.TherapistFactory(first_name="Sam", last_name="Rivera")
    jordan = factories.TherapistFactory(first_name="Jordan", last_name="Chen")
    now = timezone.now()
    maya = factories.ClientFactory(primary_therapist=sam, first_name="Maya", last_name="Patel")
    dose = dose_for(maya, given_at=now - timedelta(days=6))
    integration_after(dose, after=timedelta(hours=48))
    for total in (19, 15, 11, 8):
        score(maya, "phq9", total)
    for total in (14, 9):
        score(maya, "gad7", total)
    leo = factories.ClientFactory(primary_therapist=jordan, first_name="Leo", last_name="Park")
    dose_for(leo, given_at=now - timedelta(days=10))
    deferred(leo, at=now - timedelta(days=3))
    for total in (22, 21):
        score(leo, "phq9", total, item9=1)
    Alert.objects.create(kind=Alert.Kind.PHQ9_ITEM9, client=leo, recipient=jordan)
    ana = factories.ClientFactory(primary_therapist=sam, first_name="Ana", last_name="Silva")
    course = course_for(ana)
    course.phase = Phase.INTAKE
    course.save()
    return sam


def test_admin_filters_and_downloads_the_csv(
    page: Page, verified_staff, screenshot, admin_user, tmp_path
):
    sam = _clinic()
    verified_staff(admin_user)
    page.goto("/")
    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Course progress")).to_be_visible()
    expect(page.get_by_text("1 of 2 doses")).to_be_visible()
    table = page.get_by_role("table")
    expect(table.get_by_role("row")).to_have_count(4)
    expect(table.get_by_role("img", name="PHQ-9 scores over time: 19, 15, 11, 8")).to_be_visible()
    expect(table.get_by_text("Self-harm answer not acknowledged")).to_be_visible()
    screenshot(page, "dashboard-admin")

    page.get_by_label("Therapist").select_option(label="Sam Rivera")
    page.get_by_role("button", name="Filter").click()
    expect(table.get_by_role("row")).to_have_count(3)
    expect(table.get_by_role("link", name="Leo Park")).to_have_count(0)
    expect(table.get_by_role("row").nth(1)).to_contain_text("Maya Patel")  # last name, A to Z
    table.get_by_role("link", name="Client", exact=True).click()  # the sorted column flips
    expect(table.get_by_role("row").nth(1)).to_contain_text("Ana Silva")
    expect(page.get_by_label("Therapist")).to_have_value(str(sam.pk))  # the filter is kept
    screenshot(page, "dashboard-filtered")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV (initials)").click()
    target = tmp_path / "export.csv"
    download_info.value.save_as(target)
    with target.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][0] == "Client"
    assert sorted(row[0] for row in rows[1:]) == ["AS", "MP"]


def test_the_dashboard_fits_a_phone(phone_page: Page, verified_staff, screenshot, admin_user):
    """390 px wide: the page itself never scrolls sideways; the wide table of courses scrolls
    inside its own box, and the figures, filters and buttons wrap."""
    _clinic()
    page = phone_page
    verified_staff(admin_user, on=page)
    page.goto(reverse("reports:dashboard"))
    expect(page.get_by_role("heading", name="Course progress")).to_be_visible()
    expect(page.get_by_role("table").get_by_role("row")).to_have_count(4)
    screenshot(page, "dashboard-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    box = page.locator(".table-responsive").first
    scroll_width, client_width = box.evaluate("box => [box.scrollWidth, box.clientWidth]")
    assert client_width <= 390
    assert scroll_width > client_width  # the table is wider than the phone: it scrolls in its box
    box.scroll_into_view_if_needed()
    alert = page.get_by_role("table").get_by_text("Self-harm answer not acknowledged")
    assert alert.bounding_box()["x"] > 390  # the last column, out of sight to the right
    box.evaluate("box => { box.scrollLeft = box.scrollWidth; }")
    expect(alert).to_be_in_viewport()  # scrolled into the box, the page still 390 px wide
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "dashboard-phone-table-scrolled")


def test_the_table_pages_without_counting_the_clinic(
    page: Page, verified_staff, screenshot, admin_user, monkeypatch
):
    """Past the count's cap the page says "more than", and the pages go on with Next and
    Previous (no "of N": the clinic's courses are not counted to show 25)."""
    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    sam = factories.TherapistFactory(first_name="Sam", last_name="Rivera")
    for last_name in ["Adams", "Baker", "Clark", "Davis", "Evans"]:
        client = factories.ClientFactory(
            primary_therapist=sam, first_name="Ana", last_name=last_name
        )
        course_for(client)
    verified_staff(admin_user)
    page.goto(reverse("reports:dashboard"))
    expect(page.get_by_text("More than 3 courses")).to_be_visible()
    table = page.get_by_role("table")
    expect(table.get_by_role("row").nth(1)).to_contain_text("Ana Adams")
    pages = page.get_by_role("navigation", name="Pages")
    expect(pages.get_by_text("Page 1", exact=True)).to_be_visible()
    pages.get_by_role("link", name="Next").click()
    expect(pages.get_by_text("Page 2", exact=True)).to_be_visible()
    expect(table.get_by_role("row").nth(1)).to_contain_text("Ana Clark")
    screenshot(page, "dashboard-pages")
    pages.get_by_role("link", name="Next").click()
    expect(table.get_by_role("row")).to_have_count(2)  # the heading and Ana Evans
    expect(pages.get_by_role("link", name="Next")).to_have_count(0)
    pages.get_by_role("link", name="Previous").click()
    expect(pages.get_by_text("Page 2", exact=True)).to_be_visible()
