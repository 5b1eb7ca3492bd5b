"""The page benchmark's own parts that can be checked quickly (benchmarks/): its statistics, its
table, and the middleware that counts each request's SQL statements. The benchmark itself is run
with `make bench SCALE=N`, never here: no timing is asserted in the suite."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from benchmarks import report
from benchmarks.sqlcount import LABEL_HEADER, LOG_VARIABLE
from tests import factories
from tests.conftest import sign_in
from tests.factories_integration import planned_dose


def sample(total: float, **extra) -> dict:
    return {"total": total, "first": total / 2, **extra}


def test_percentile_interpolates_between_ranks():
    assert report.percentile([3, 1, 2], 50) == 2
    assert report.percentile([1, 2, 3, 4], 50) == 2.5
    assert report.percentile(list(range(1, 101)), 95) == pytest.approx(95.05)
    assert report.percentile([7], 95) == 7
    with pytest.raises(ValueError, match="no values"):
        report.percentile([], 50)


def test_targets_are_issue_13_s():
    assert report.target_ratio(1) == 3
    assert report.target_ratio(10) == 4


def test_a_page_s_ratio_is_its_median_over_the_floor_s_between_its_requests():
    row = report.page_row(
        "dashboard",
        "admin",
        page=[sample(0.30), sample(0.10), sample(0.20)],
        floor=[sample(0.05), sample(0.04), sample(0.06)],
        sql=[17, 17, 18],
        scale=1,
    )
    assert row.page.median == pytest.approx(0.20)
    assert row.ratio == pytest.approx(4.0)
    assert row.met == "no"
    assert row.sql == "17 (17-18)"
    assert report.page_row(
        "x", "admin", page=[sample(0.1)], floor=[sample(0.05)], sql=[6], scale=1
    ).met == ("yes")


def test_a_page_without_a_successful_request_is_a_failed_row():
    row = report.page_row("x", "admin", page=[], floor=[], sql=[], scale=10, errors=4)
    assert row.met == "no (failed)"
    assert "| x " in report.table([row])
    assert row.ratio is None


def test_errors_fail_the_target_even_when_fast():
    row = report.page_row(
        "x", "admin", page=[sample(0.1)], floor=[sample(0.1)], sql=[6], scale=1, errors=1
    )
    assert row.met == "no (errors)"


def test_a_streamed_page_reports_first_byte_first_row_and_rows_per_second():
    page = [
        sample(2.0, first_row=0.5, lines=10_001),
        sample(2.0, first_row=0.7, lines=10_001),
    ]
    row = report.page_row(
        "CSV export", "admin", page=page, floor=[sample(0.1)], sql=[40], scale=10, stream=True
    )
    assert row.rows_per_second == pytest.approx(5_000)
    assert row.first_row.median == pytest.approx(0.6)
    (note,) = report.stream_notes([row])
    assert "first data row median 600 ms" in note
    assert "5,000 rows/s" in note


def test_the_table_has_every_column_and_the_summary_names_the_misses():
    floor = report.floor_row("admin", floor=[sample(0.05)], sql=[6], scale=1)
    fast = report.page_row(
        "client list", "admin", page=[sample(0.1)], floor=[sample(0.05)], sql=[8], scale=1
    )
    slow = report.page_row(
        "audit trail", "admin", page=[sample(5.0)], floor=[sample(0.05)], sql=[10], scale=1
    )
    text = report.table([floor, fast, slow])
    lines = text.splitlines()
    assert all(heading in lines[0] for heading in report.HEADER)
    assert len({len(line) for line in lines}) == 1  # padded: the columns line up
    assert "(floor)" in lines[2]
    cells = [cell.strip() for cell in lines[4].split("|")[1:-1]]
    assert cells == ["audit trail", "admin", "10", "5,000", "5,000", "50.0", "100", "no", "1"]
    assert report.summary([floor, fast, slow]) == (
        "1 of 2 pages within the target; missed: audit trail (admin)."
    )
    assert report.summary([floor, fast]) == "All 1 pages within 3x the floor."


def test_milliseconds_and_ratios_read_at_every_size():
    assert report.milliseconds(0.0123) == "12.3"
    assert report.milliseconds(41.2) == "41,200"
    assert report.ratio_text(2.345) == "2.35"
    assert report.ratio_text(23.45) == "23.4"
    assert report.ratio_text(1034.2) == "1,034"


@pytest.fixture
def counted(settings, tmp_path, monkeypatch):
    """The benchmark's settings: its counting middleware in front, logging to a file."""
    log = tmp_path / "sql.log"
    monkeypatch.setenv(LOG_VARIABLE, str(log))
    settings.MIDDLEWARE = ["benchmarks.sqlcount.CountQueriesMiddleware", *settings.MIDDLEWARE]
    return log


def _statements(queries) -> int:
    return len(queries.captured_queries)


@pytest.mark.django_db
def test_the_middleware_logs_the_statements_of_a_labelled_request(client, counted, therapist):
    sign_in(client, therapist)
    client.get(reverse("help"))  # unlabelled: not logged
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("help"), headers={LABEL_HEADER: "floor:therapist"})
    assert counted.read_text() == f"floor:therapist\t{_statements(queries)}\n"


@pytest.mark.django_db
def test_a_streamed_response_is_counted_to_its_last_row(client, counted, admin_user):
    planned_dose(factories.ClientFactory())  # a course for the export to read while streaming
    sign_in(client, admin_user)
    with CaptureQueriesContext(connection) as before:
        response = client.get(reverse("reports:export"), headers={LABEL_HEADER: "export"})
    assert not counted.exists()  # nothing logged before the rows are read
    with CaptureQueriesContext(connection) as streaming:
        b"".join(response.streaming_content)
    assert _statements(streaming) > 0
    assert counted.read_text() == f"export\t{_statements(before) + _statements(streaming)}\n"
