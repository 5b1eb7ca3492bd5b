"""R19 outcome charts in a browser: a client with PHQ-9 and GAD-7 scores over six weeks and a dose.
The course page and the client record draw one chart per questionnaire (Chart.js, no console
errors, no CSP violation) with the table of the same numbers. Screenshots:
tests/screenshots/outcome-*.png."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from patients.models import QuestionnaireResponse
from tests.e2e.conftest import DESKTOP, PHONE
from tests.factories_sessions import dosing_ready_session
from tests.sessions.dosing_helpers import give_dose

pytestmark = pytest.mark.browser

SCORES = (
    # days ago, PHQ-9, band, GAD-7, band
    (42, 19, "moderately severe", 16, "severe"),
    (28, 15, "moderately severe", 13, "moderate"),
    (14, 11, "moderate", 9, "mild"),
    (1, 6, "mild", 5, "mild"),
)


def _scores(client, by) -> None:
    now = timezone.now()
    for days, phq9, phq_band, gad7, gad_band in SCORES:
        for instrument, total, band in (("phq9", phq9, phq_band), ("gad7", gad7, gad_band)):
            response = QuestionnaireResponse.objects.create(
                client=client,
                instrument=instrument,
                answers=[0],
                total=total,
                band=band,
                item9_score=0 if instrument == "phq9" else None,
                entered_by=by,
            )
            QuestionnaireResponse.objects.filter(pk=response.pk).update(
                submitted_at=now - timedelta(days=days)
            )


def _chart_drawn(page: Page, key: str) -> None:
    page.wait_for_function(
        f"(() => {{ const c = document.querySelector('#outcome-chart-{key}');"
        " return c && window.Chart && Chart.getChart(c) !== undefined && c.width > 0; })()"
    )


def test_course_and_client_pages_draw_the_outcome_charts(page: Page, verified_staff, screenshot):
    session = dosing_ready_session(starts_at=timezone.now() - timedelta(days=13, hours=1))
    give_dose(session, at=timezone.now() - timedelta(days=13))
    client, therapist = session.client, session.therapist
    _scores(client, therapist)
    verified_staff(therapist)

    page.goto(f"/clients/{client.pk}/courses/{session.course_id}/")
    section = page.get_by_role("region", name="PHQ-9 and GAD-7 over time")
    expect(section.get_by_role("img", name="PHQ-9 totals over time")).to_be_visible()
    expect(section.get_by_role("img", name="GAD-7 totals over time")).to_be_visible()
    assert page.evaluate("Chart.getChart(document.querySelector('canvas')) !== undefined")
    _chart_drawn(page, "phq9")
    _chart_drawn(page, "gad7")
    table = section.get_by_role("table")
    expect(table.get_by_role("row")).to_have_count(1 + 2 * len(SCORES))
    expect(table.get_by_role("row").nth(1)).to_contain_text("19 / 27")
    expect(table).to_contain_text("Moderately severe")
    expect(section).to_contain_text("Doses given:")
    expect(section).to_contain_text("Dashed lines mark the doses.")
    # Chart.js drew what the data says: the PHQ-9 line's points and the dose mark's data.
    points = page.evaluate(
        "Chart.getChart(document.querySelector('#outcome-chart-phq9')).data.datasets[0].data"
        ".map(p => p.y)"
    )
    assert points == [19, 15, 11, 6]
    section.scroll_into_view_if_needed()
    screenshot(page, "outcome-course")
    page.set_viewport_size(PHONE)
    screenshot(page, "outcome-course-phone")
    page.set_viewport_size(DESKTOP)

    page.goto(f"/clients/{client.pk}/")
    section = page.get_by_role("region", name="PHQ-9 and GAD-7 over time")
    expect(section.get_by_role("img", name="PHQ-9 totals over time")).to_be_visible()
    _chart_drawn(page, "phq9")
    _chart_drawn(page, "gad7")
    expect(section.get_by_role("table").get_by_role("row")).to_have_count(1 + 2 * len(SCORES))
    screenshot(page, "outcome-client")
