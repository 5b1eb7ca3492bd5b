"""R19 outcome charts: the selector (scores oldest first, bands, dose dates on a day axis), the
course page and the client record rendering the chart data and the accessible table, the empty
state, and query counts that do not grow with the number of scores and doses."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from patients.courses import outcomes as outcome_selectors
from patients.models import Phase, QuestionnaireResponse, Referral
from tests import factories
from tests.conftest import sign_in
from tests.factories_referrals import PrescriptionFactory, ReferralFactory
from tests.factories_sessions import dosing_ready_session
from tests.patients.test_course_services import make_course
from tests.patients.test_course_views import _dosing_rows, _grow, text, url
from tests.sessions.dosing_helpers import CLINIC_TZ, MORNING, give_dose


def _score(client, by, instrument: str, total: int, band: str, on: datetime):
    response = QuestionnaireResponse.objects.create(
        client=client,
        instrument=instrument,
        answers=[0],
        total=total,
        band=band,
        item9_score=0 if instrument == "phq9" else None,
        entered_by=by,
    )
    QuestionnaireResponse.objects.filter(pk=response.pk).update(submitted_at=on)
    return response


def _dosed_client_with_scores(therapist):
    """Scores on Mar 1 (both), Mar 11 (both) and Mar 20 (PHQ-9 only); a dose on Mar 12, 2025."""
    with time_machine.travel(MORNING, tick=False):
        session = dosing_ready_session(therapist=therapist)
        give_dose(session, at=MORNING + timedelta(minutes=30))
    client = session.client
    march = datetime(2025, 3, 1, 10, 0, tzinfo=CLINIC_TZ)
    _score(client, therapist, "gad7", 16, "severe", march)
    _score(client, therapist, "phq9", 21, "severe", march + timedelta(minutes=5))
    _score(client, therapist, "phq9", 14, "moderate", march + timedelta(days=10))
    _score(client, therapist, "gad7", 10, "moderate", march + timedelta(days=10))
    _score(client, therapist, "phq9", 5, "mild", march + timedelta(days=19))
    return session.course


# --- The selector -------------------------------------------------------------------------------


def test_selector_orders_scores_oldest_first_with_dose_dates_and_bands(therapist):
    course = _dosed_client_with_scores(therapist)
    with CaptureQueriesContext(connection) as queries:
        outcome = outcome_selectors.outcome_chart(client=course.client, course=course)
    assert len(queries) == 2  # the scores, the doses

    assert [(row.on, row.name, row.total, row.band) for row in outcome.rows] == [
        (date(2025, 3, 1), "GAD-7", 16, "severe"),
        (date(2025, 3, 1), "PHQ-9", 21, "severe"),
        (date(2025, 3, 11), "PHQ-9", 14, "moderate"),
        (date(2025, 3, 11), "GAD-7", 10, "moderate"),
        (date(2025, 3, 20), "PHQ-9", 5, "mild"),
    ]
    assert outcome.dose_dates == [date(2025, 3, 12)]
    assert [chart.key for chart in outcome.charts] == ["phq9", "gad7"]  # PHQ-9 drawn first
    assert outcome.charts[0].summary == (
        "PHQ-9 totals over time, 3 scores: 21 (severe) on Mar 1, 2025, latest 5 (mild) on "
        "Mar 20, 2025. 1 dose marked. The table lists every score."
    )

    data = outcome.data
    phq9, gad7 = data["instruments"]
    # Days from the first date, so the gaps are true to time.
    assert [(p["x"], p["y"], p["on"]) for p in phq9["points"]] == [
        (0, 21, "Mar 1, 2025"),
        (10, 14, "Mar 11, 2025"),
        (19, 5, "Mar 20, 2025"),
    ]
    assert [(p["x"], p["y"]) for p in gad7["points"]] == [(0, 16), (10, 10)]
    assert data["doses"] == [{"x": 11, "on": "Mar 12, 2025", "label": "Dose 1"}]
    assert data["ticks"] == [
        {"x": 0, "label": "Mar 1"},
        {"x": 10, "label": "Mar 11"},
        {"x": 11, "label": "Mar 12"},
        {"x": 19, "label": "Mar 20"},
    ]
    assert data["last_day"] == 19
    # R19 bands: PHQ-9 in five, GAD-7 in four, each with its own top.
    assert phq9["max"] == 27
    assert gad7["max"] == 21
    assert [(b["low"], b["high"], b["label"]) for b in phq9["bands"]] == [
        (0, 4, "minimal"),
        (5, 9, "mild"),
        (10, 14, "moderate"),
        (15, 19, "moderately severe"),
        (20, 27, "severe"),
    ]
    assert [(b["low"], b["high"], b["label"]) for b in gad7["bands"]] == [
        (0, 4, "minimal"),
        (5, 9, "mild"),
        (10, 14, "moderate"),
        (15, 21, "severe"),
    ]
    json.dumps(data)  # json_script must be able to serialise it


def test_dose_before_the_first_score_starts_the_axis(therapist):
    course = _dosed_client_with_scores(therapist)
    QuestionnaireResponse.objects.filter(
        submitted_at__lt=datetime(2025, 3, 12, tzinfo=CLINIC_TZ)
    ).delete()
    outcome = outcome_selectors.outcome_chart(client=course.client, course=course)
    assert outcome.data["doses"][0]["x"] == 0
    assert outcome.data["instruments"][0]["points"] == [
        {"x": 8, "y": 5, "on": "Mar 20, 2025", "band": "mild"}
    ]
    # Only PHQ-9 left: no GAD-7 chart.
    assert [chart.key for chart in outcome.charts] == ["phq9"]


def test_course_doses_only_on_the_course_page_every_dose_on_the_client_page(therapist):
    course = _dosed_client_with_scores(therapist)
    assert outcome_selectors.dose_dates(client=course.client) == [date(2025, 3, 12)]
    assert outcome_selectors.dose_dates(client=factories.ClientFactory()) == []
    # Another client's dose never shows.
    with time_machine.travel(MORNING, tick=False):
        someone_else = dosing_ready_session()
        give_dose(someone_else, at=MORNING + timedelta(minutes=45))
    assert outcome_selectors.dose_dates(client=course.client) == [date(2025, 3, 12)]
    assert outcome_selectors.dose_dates(client=course.client, course=course) == [date(2025, 3, 12)]
    # A dose of another of the client's courses: on the client page, not on this course's page.
    earlier = make_course(course.client, Phase.COMPLETE)
    _dosing_rows(earlier, therapist, deferred=False)
    assert len(outcome_selectors.dose_dates(client=course.client)) == 2
    assert outcome_selectors.dose_dates(client=course.client, course=earlier) != [date(2025, 3, 12)]
    assert outcome_selectors.dose_dates(client=course.client, course=course) == [date(2025, 3, 12)]


def test_no_scores_no_chart_data(therapist, client_record):
    outcome = outcome_selectors.outcome_chart(client=client_record)
    assert outcome.rows == []
    assert outcome.charts == []
    assert outcome.data == {}


# --- The pages ----------------------------------------------------------------------------------


def _client_url(record) -> str:
    return reverse("patients:client_detail", kwargs={"client_id": record.pk})


@pytest.mark.parametrize("role", ["owner", "admin"])
@pytest.mark.parametrize("page", ["course", "client"])
def test_pages_render_the_chart_data_and_the_table(as_user, therapist, admin_user, page, role):
    course = _dosed_client_with_scores(therapist)
    path = url("detail", course) if page == "course" else _client_url(course.client)
    with time_machine.travel(MORNING + timedelta(days=20), tick=False):
        html = text(as_user(therapist if role == "owner" else admin_user).get(path))
    assert "PHQ-9 and GAD-7 over time" in html
    assert '<script id="outcome-data" type="application/json">' in html
    data = json.loads(
        re.search(r'id="outcome-data" type="application/json">(.*?)</script>', html)[1]
    )
    assert [i["key"] for i in data["instruments"]] == ["phq9", "gad7"]
    assert data["doses"][0]["on"] == "Mar 12, 2025"
    assert 'data-outcome-chart="phq9"' in html
    assert 'data-outcome-chart="gad7"' in html
    assert 'role="img" aria-label="PHQ-9 totals over time, 3 scores: 21 (severe)' in html
    assert (
        '<td class="text-nowrap">Mar 1, 2025</td><td>PHQ-9</td><td class="text-nowrap">21 <span'
        in html
    )
    assert (
        '<td class="text-nowrap">Mar 20, 2025</td><td>PHQ-9</td><td class="text-nowrap">5 <span'
        in html
    )
    assert "</span></td><td>Moderate</td>" in html
    assert "<strong>Doses given:</strong> Mar 12, 2025" in html
    assert "js/outcome-chart.js" in html
    assert "vendor/chart.js/chart.umd.js" in html
    assert "<script>" not in html  # no inline script (CSP)
    assert "R19" not in html


@pytest.mark.parametrize("page", ["course", "client"])
def test_empty_state_without_scores(as_user, therapist, client_record, page):
    course = make_course(client_record, Phase.INTAKE)
    path = url("detail", course) if page == "course" else _client_url(client_record)
    html = text(as_user(therapist).get(path))
    assert "No PHQ-9 or GAD-7 yet." in html
    assert "outcome-data" not in html
    assert "outcome-chart.js" not in html


@pytest.mark.parametrize("role", ["other_therapist", "client", "anonymous"])
def test_outsiders_never_see_the_chart(client, therapist, other_therapist, role):
    course = _dosed_client_with_scores(therapist)

    if role == "other_therapist":
        sign_in(client, other_therapist)
    elif role == "client":
        sign_in(client, factories.ClientUserFactory())
    for path in (url("detail", course), _client_url(course.client)):
        response = client.get(path)
        # Outsiders get 404; the signed-out are sent to sign in.
        assert response.status_code == (302 if role == "anonymous" else 404)
        assert b"outcome-data" not in response.content


# --- Query counts -------------------------------------------------------------------------------


def _count(web, path) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert web.get(path).status_code == 200
    return len(queries)


@pytest.mark.parametrize("page", ["course", "client"])
def test_query_count_constant_with_more_scores_and_doses(as_user, therapist, page):
    web = as_user(therapist)
    counts = []
    for size in (1, 12):
        record = factories.ClientFactory(primary_therapist=therapist)
        prescription = PrescriptionFactory(
            referral=ReferralFactory(client=record, status=Referral.Status.APPROVED)
        )
        course = make_course(record, Phase.PREPARATION)
        course.referral = prescription.referral
        course.save()
        _grow(course, therapist, size)  # scores, doses and more for each step
        assert QuestionnaireResponse.objects.filter(client=record).count() == 2 * size
        counts.append(
            _count(web, url("detail", course) if page == "course" else _client_url(record))
        )
    assert counts[0] == counts[1], counts
