"""The dashboard and the CSV export at any clinic size (issue 13): a fixed number of queries at
two data sizes (the dashboard's own beside the base layout's, never more than 12 in all), a
page of courses that says "more than" instead of counting the clinic, and an export that streams
chunk by chunk with a fixed number of statements per chunk, recording every exported client
(R22) before its row leaves."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponse, StreamingHttpResponse
from django.template import engines
from django.test.utils import CaptureQueriesContext
from django.urls import path, reverse
from django.utils import timezone

from audit.models import AccessEvent
from integration.models import ReminderStatus
from kap_clinic.urls import urlpatterns as app_urlpatterns
from patients.models import Phase
from reports import selectors
from reports.views import EXPORT_PAGE
from sessions.models import DosingChart
from tests import factories
from tests.factories_integration import IntegrationReminderFactory, dose_for, shape
from tests.factories_sessions import course_for
from tests.reports.helpers import deferred, integration_after, score

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("reports:dashboard")
EXPORT = reverse("reports:export")
# The dashboard's own: the therapist list of its filter, the page of courses with their numbers
# and count, the page's scores, the figures, the access rows; on PostgreSQL also the SET and RESET
# of selectors.without_jit.
OWN_QUERIES = 5


def own_queries() -> int:
    return OWN_QUERIES + (2 if connection.vendor == "postgresql" else 0)


@login_required
def bare_layout(request):
    """The base layout with nothing in it: what the dashboard's own queries are counted beside."""
    template = engines["django"].from_string('{% extends "base.html" %}')
    return HttpResponse(template.render({}, request))


urlpatterns = [*app_urlpatterns, path("test-bare-layout/", bare_layout, name="test_bare_layout")]


def _statements(web, url: str) -> list[str]:
    """The SQL of one request, its body read to the end; without the savepoints of the test's own
    transaction, which a request in production does not send."""
    with CaptureQueriesContext(connection) as queries:
        response = web.get(url)
        assert response.status_code == 200
        if isinstance(response, StreamingHttpResponse):
            b"".join(response.streaming_content)
    return [
        query["sql"]
        for query in queries.captured_queries
        if not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


def _grow(therapist, n: int) -> None:
    """``n`` more clients of ``therapist`` with a bit of everything the dashboard reads: a dose
    with its integration session, scores, a failed reminder, a deferral, and a completed course
    in the period (its scores go into the medians)."""
    now = timezone.now()
    for _ in range(n):
        client = factories.ClientFactory(primary_therapist=therapist)
        dose = dose_for(client)
        integration_after(dose, after=timedelta(hours=24))
        score(client, "phq9", 15)
        score(client, "phq9", 9, item9=1)
        score(client, "gad7", 9)
        shape(IntegrationReminderFactory(dose=dose, day=1), ReminderStatus.FAILED)
        # Within the alert's 30 days, each on its own day, twelve hours from the doses and their
        # integration sessions (all near the current hour): one therapist is never double booked.
        hour = now.replace(minute=0, second=0, microsecond=0)
        earlier = DosingChart.objects.filter(outcome=DosingChart.Outcome.DEFERRED).count()
        deferred(client, at=hour - timedelta(days=1 + earlier, hours=12))
        done = factories.ClientFactory(primary_therapist=therapist)
        course = course_for(done)
        course.phase, course.closed_at = Phase.COMPLETE, now - timedelta(days=2)
        course.save()
        score(done, "phq9", 20)
        score(done, "phq9", 11)


@pytest.fixture
def counted(settings):
    settings.ROOT_URLCONF = __name__


@pytest.mark.parametrize("role", ["admin", "therapist"])
@pytest.mark.parametrize("query", ["", "?page=2", "?sort=last_dose&dir=desc", "?alert=deferred"])
def test_the_dashboard_runs_a_fixed_number_of_queries_at_any_size(
    counted, as_user, admin_user, therapist, role, query
):
    def plain(n: int) -> None:
        for _ in range(n):
            course_for(factories.ClientFactory(primary_therapist=therapist))

    web = as_user(admin_user if role == "admin" else therapist)
    _grow(therapist, 2)
    plain(30)  # a second page, at both sizes
    web.get(DASHBOARD)  # the first request of a session may differ (its key, the clock)
    bare = _statements(web, reverse("test_bare_layout"))
    small = _statements(web, DASHBOARD + query)
    _grow(therapist, 8)
    plain(30)
    large = _statements(web, DASHBOARD + query)
    assert len(small) == len(large) == len(bare) + own_queries(), large
    assert len(large) <= 12


def test_the_count_stops_at_the_cap(as_user, admin_user, therapist, monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    for _ in range(5):
        course_for(factories.ClientFactory(primary_therapist=therapist))
    page = as_user(admin_user).get(DASHBOARD)
    body = " ".join(page.content.decode().split())
    assert page.context["page"].matching == 4  # counted up to the cap and one more
    assert "More than 3 courses" in body
    assert "Page 1" not in body  # one page only: no pagination


def test_pages_without_a_count_of_the_clinic(as_user, admin_user, therapist, monkeypatch):
    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    for n in range(5):
        course_for(factories.ClientFactory(primary_therapist=therapist, last_name=f"Zed{n}"))
    web = as_user(admin_user)
    second = web.get(DASHBOARD, {"page": 2})
    names = [row.course.client.last_name for row in second.context["rows"]]
    assert names == ["Zed2", "Zed3"]
    body = " ".join(second.content.decode().split())
    assert "Page 2</span>" in body  # no "of N": the count stopped at the cap
    assert "page=1" in body
    assert "page=3" in body
    last = web.get(DASHBOARD, {"page": 3})
    assert [row.course.client.last_name for row in last.context["rows"]] == ["Zed4"]
    assert "page=4" not in last.content.decode()
    past = web.get(DASHBOARD, {"page": 9})
    assert past.context["rows"] == []
    assert "this page is past the last one" in past.content.decode()
    assert web.get(DASHBOARD, {"page": "x"}).context["page"].number == 1


def test_with_an_exact_count_the_pages_are_numbered(as_user, admin_user, therapist, monkeypatch):
    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
    for _ in range(3):
        course_for(factories.ClientFactory(primary_therapist=therapist))
    body = " ".join(as_user(admin_user).get(DASHBOARD).content.decode().split())
    assert "3 courses" in body
    assert "Page 1 of 2" in body


def test_the_page_follows_each_sort_and_direction(admin_user, therapist, other_therapist):
    now = timezone.now()
    early = factories.ClientFactory(primary_therapist=therapist, last_name="Adams")
    late = factories.ClientFactory(primary_therapist=other_therapist, last_name="Brown")
    none = factories.ClientFactory(primary_therapist=therapist, last_name="Clark")
    dose_for(early, given_at=now - timedelta(days=30))
    dose_for(late, given_at=now - timedelta(days=3))
    course_for(none)

    def names(sort: str, descending: bool = False) -> list[str]:
        filters = selectors.Filters(sort=sort, descending=descending)
        page, _ = selectors.dashboard(
            admin_user, filters=filters, page=1, start=now.date(), end=now.date()
        )
        return [row.course.client.last_name for row in page.rows]

    assert names("client", descending=True) == ["Clark", "Brown", "Adams"]
    assert names("last_dose") == ["Adams", "Brown", "Clark"]  # no dose yet: last either way
    assert names("last_dose", descending=True) == ["Brown", "Adams", "Clark"]
    assert names("therapist")[0] == "Brown"  # Jordan Chen before Sam Rivera


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_export_adds_a_fixed_number_of_statements_per_chunk(
    as_user, admin_user, therapist, monkeypatch
):
    """Three per chunk (its courses with their numbers, their scores, the access rows), whatever
    the number of courses: not the whole annotated query again for each chunk."""
    monkeypatch.setattr(selectors, "EXPORT_CHUNK", 2)
    web = as_user(admin_user)
    _grow(therapist, 2)  # 2 active courses: one chunk
    web.get(DASHBOARD)
    one_chunk = _statements(web, EXPORT)
    _grow(therapist, 4)  # 6: three chunks
    three_chunks = _statements(web, EXPORT)
    assert len(three_chunks) - len(one_chunk) == 2 * 3, three_chunks
    inserts = [sql for sql in three_chunks if sql.startswith('INSERT INTO "audit_accessevent"')]
    assert len(inserts) == 3


def test_the_export_streams_and_records_each_chunk_before_it_leaves(
    as_user, admin_user, therapist, monkeypatch
):
    monkeypatch.setattr(selectors, "EXPORT_CHUNK", 2)
    for n in range(5):
        course_for(factories.ClientFactory(primary_therapist=therapist, last_name=f"Zed{n}"))
    response = as_user(admin_user).get(EXPORT, {"ids": "names"})
    assert isinstance(response, StreamingHttpResponse)
    events = AccessEvent.objects.filter(page=EXPORT_PAGE, user=admin_user)
    chunks = iter(response.streaming_content)
    assert next(chunks).decode().startswith("Client,Therapist,Phase")
    assert events.count() == 0  # nothing read yet: the header goes first
    first = next(chunks).decode()
    assert first.count("\r\n") == 2
    # The first chunk is out before the rest is read: only its two clients are recorded so far.
    assert sorted(events.values_list("client__last_name", flat=True)) == ["Zed0", "Zed1"]
    rest = b"".join(chunks).decode()
    assert [line.split(",")[0].split()[-1] for line in (first + rest).splitlines()] == [
        f"Zed{n}" for n in range(5)
    ]
    assert events.count() == 5
    assert events.values("client_id").distinct().count() == 5


def test_the_export_keeps_the_dashboard_s_sort(as_user, admin_user, therapist):
    for n in range(3):
        course_for(factories.ClientFactory(primary_therapist=therapist, last_name=f"Zed{n}"))
    rows = _csv(as_user(admin_user).get(EXPORT, {"ids": "names", "sort": "client", "dir": "desc"}))
    assert [row[0].split()[-1] for row in rows[1:]] == ["Zed2", "Zed1", "Zed0"]


def test_the_therapist_filter_is_read_once_and_still_checked(as_user, admin_user, therapist):
    course_for(factories.ClientFactory(primary_therapist=therapist))
    web = as_user(admin_user)
    response = web.get(DASHBOARD, {"therapist": therapist.pk})
    assert response.context["filter_form"].filters().therapist_id == therapist.pk
    refused = web.get(DASHBOARD, {"therapist": admin_user.pk})  # not a therapist
    assert refused.context["filter_form"].errors["therapist"]
    assert refused.context["filters"].therapist_id is None
