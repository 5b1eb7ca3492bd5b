"""The dashboard and its CSV export: who reaches them, what they show, the audit of an export
(R22), streaming, and a fixed number of queries whatever the number of courses."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent
from reports.views import CSV_HEADER, EXPORT_PAGE
from tests import factories
from tests.factories_integration import dose_for
from tests.factories_sessions import course_for
from tests.reports.helpers import integration_after, score

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("reports:dashboard")
EXPORT = reverse("reports:export")


def rows_of(response) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


@pytest.fixture
def two_caseloads(client_record, other_client_record):
    # Fixed names: random ones could share Maya Patel's initials and merge rows in the CSV.
    other_client_record.first_name, other_client_record.last_name = "Leo", "Brooks"
    other_client_record.save()
    course_for(client_record)
    course_for(other_client_record)
    return client_record, other_client_record


@pytest.mark.parametrize("url", [DASHBOARD, EXPORT])
def test_anonymous_is_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


@pytest.mark.parametrize("url", [DASHBOARD, EXPORT])
def test_client_gets_404(as_user, client_record, url):
    assert as_user(client_record.user).get(url).status_code == 404


def test_therapist_sees_only_their_caseload(as_user, therapist, two_caseloads):
    mine, theirs = two_caseloads
    page = as_user(therapist).get(DASHBOARD)
    assert page.status_code == 200
    assert "Maya Patel" in page.content.decode()
    assert theirs.last_name not in page.content.decode()
    course = mine.courses.get()
    assert (
        reverse("patients:courses:detail", kwargs={"client_id": mine.pk, "course_id": course.pk})
        in page.content.decode()
    )


def test_other_therapist_does_not_see_mine(as_user, other_therapist, two_caseloads):
    _mine, theirs = two_caseloads
    body = as_user(other_therapist).get(DASHBOARD).content.decode()
    assert "Maya Patel" not in body
    assert theirs.last_name in body


def test_admin_sees_every_course_and_the_figures(as_user, admin_user, two_caseloads):
    mine, theirs = two_caseloads
    dose = dose_for(mine, given_at=timezone.now() - timedelta(days=5))
    integration_after(dose, after=timedelta(hours=72))
    dose_for(theirs, given_at=timezone.now() - timedelta(days=6))
    body = " ".join(as_user(admin_user).get(DASHBOARD).content.decode().split())
    assert "Maya Patel" in body
    assert theirs.last_name in body
    assert "50%" in body
    assert "1 of 2 doses" in body


def test_filters_and_a_bad_period(as_user, admin_user, two_caseloads, other_therapist):
    _mine, theirs = two_caseloads
    response = as_user(admin_user).get(
        DASHBOARD, {"therapist": other_therapist.pk, "start": "2025-05-01", "end": "2025-04-01"}
    )
    body = response.content.decode()
    assert "Maya Patel" not in body
    assert theirs.last_name in body
    assert "The start of the period must be on or before its end." in body
    assert 'value="2025-05-01"' in body  # what was typed stays


def test_therapist_filter_offers_only_themselves(as_user, therapist, other_therapist):
    form = as_user(therapist).get(DASHBOARD).context["filter_form"]
    assert list(form.fields["therapist"].queryset) == [therapist]


def test_sparkline_is_drawn_server_side(as_user, therapist, client_record):
    course_for(client_record)
    for total in (20, 14, 9):
        score(client_record, "phq9", total)
    body = as_user(therapist).get(DASHBOARD).content.decode()
    assert "<polyline points=" in body
    assert 'aria-label="PHQ-9 scores over time: 20, 14, 9"' in body


def test_export_streams_initials_by_default_and_is_audited(as_user, admin_user, two_caseloads):
    mine, theirs = two_caseloads
    score(mine, "phq9", 16)
    response = as_user(admin_user).get(EXPORT)
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = rows_of(response)
    assert rows[0] == CSV_HEADER
    by_client = {row[0]: row for row in rows[1:]}
    assert set(by_client) == {"MP", f"{theirs.first_name[0]}{theirs.last_name[0]}".upper()}
    assert by_client["MP"][1] == "Sam Rivera"
    assert by_client["MP"][2] == "Preparation"
    assert by_client["MP"][10] == "16"
    events = AccessEvent.objects.filter(page=EXPORT_PAGE, user=admin_user)
    assert sorted(events.values_list("client_id", flat=True)) == sorted([mine.pk, theirs.pk])


def test_export_full_names_filtered_for_a_therapist(as_user, therapist, two_caseloads):
    _mine, theirs = two_caseloads
    rows = rows_of(as_user(therapist).get(EXPORT, {"ids": "names", "phase": "preparation"}))
    assert [row[0] for row in rows[1:]] == ["Maya Patel"]
    assert not AccessEvent.objects.filter(client=theirs).exists()


@pytest.mark.parametrize(
    "typed", ['=HYPERLINK("http://x.example","Click")', "+1+1", "-2+3", "@SUM(A1)", "\tTab"]
)
def test_export_names_never_arrive_as_formulas(as_user, admin_user, therapist, typed):
    record = factories.ClientFactory(primary_therapist=therapist, first_name=typed, last_name="Doe")
    course_for(record)
    rows = rows_of(as_user(admin_user).get(EXPORT, {"ids": "names"}))
    assert [row[0] for row in rows[1:]] == [f"'{typed} Doe"]


def test_export_has_no_free_text(as_user, admin_user, client_record):
    dose_for(client_record, given_at=timezone.now() - timedelta(days=3))
    referral = client_record.referrals.first()
    body = b"".join(as_user(admin_user).get(EXPORT, {"ids": "names"}).streaming_content)
    assert referral.reason.encode() not in body


def _dashboard_queries(as_user, admin_user) -> int:
    signed_in = as_user(admin_user)
    signed_in.get(DASHBOARD)  # warm the session and the two-factor device
    with CaptureQueriesContext(connection) as queries:
        assert signed_in.get(DASHBOARD).status_code == 200
    return len(queries)


def _courses(n: int, therapist) -> None:
    for _ in range(n):
        client = factories.ClientFactory(primary_therapist=therapist)
        dose = dose_for(client)
        integration_after(dose, after=timedelta(hours=24))
        score(client, "phq9", 15)
        score(client, "gad7", 9)


def test_dashboard_query_count_is_constant(as_user, admin_user, therapist):
    _courses(2, therapist)
    small = _dashboard_queries(as_user, admin_user)
    _courses(10, therapist)
    assert _dashboard_queries(as_user, admin_user) == small


def test_export_query_count_is_constant(as_user, admin_user, therapist):
    _courses(2, therapist)
    signed_in = as_user(admin_user)
    b"".join(signed_in.get(EXPORT).streaming_content)
    with CaptureQueriesContext(connection) as small:
        b"".join(signed_in.get(EXPORT).streaming_content)
    _courses(10, therapist)
    with CaptureQueriesContext(connection) as large:
        rows = rows_of(signed_in.get(EXPORT))
    assert len(rows) == 13
    assert len(large) == len(small)


def test_pagination_keeps_the_filters(as_user, admin_user, therapist):
    for n in range(26):
        course_for(factories.ClientFactory(primary_therapist=therapist, last_name=f"Zed{n:02d}"))
    signed_in = as_user(admin_user)
    first = signed_in.get(DASHBOARD, {"therapist": therapist.pk, "sort": "client"})
    assert len(first.context["rows"]) == 25
    body = first.content.decode()
    assert f"therapist={therapist.pk}" in body
    assert "page=2" in body
    second = signed_in.get(DASHBOARD, {"therapist": therapist.pk, "sort": "client", "page": 2})
    assert [row.course.client.last_name for row in second.context["rows"]] == ["Zed25"]
