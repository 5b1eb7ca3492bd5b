"""The course-progress dashboard and its CSV export. Thin: the access policy limits the courses
(admin: every client; therapist: their caseload; clients: 404), the selectors do the reading."""

from __future__ import annotations

import csv
from datetime import tzinfo

from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.access import staff_required
from audit.services import access_record_ids, access_record_list, client_ip
from clinic import settings_reader
from patients.models import Phase
from reports import selectors
from reports.forms import FilterForm, PeriodForm
from reports.sparkline import sparkline_points

EXPORT_PAGE = "CSV export"
PERIOD_FIELDS = ("start", "end")
MAX_PAGE = 10_000


def _filter_form(request) -> FilterForm:
    bound = any(key in request.GET for key in FilterForm.base_fields)
    return FilterForm(request.GET if bound else None, user=request.user)


def _page_number(request) -> int:
    """The page asked for; anything but a positive whole number is the first page. Held to
    MAX_PAGE: a page is an OFFSET, and no one reads page 40,001 of a dashboard."""
    try:
        number = int(request.GET.get("page", 1))
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), MAX_PAGE)


@require_GET
@staff_required
def dashboard(request):
    period_form = PeriodForm(request.GET if any(k in request.GET for k in PERIOD_FIELDS) else None)
    start, end = period_form.period()
    if not period_form.is_bound:
        period_form = PeriodForm(initial={"start": start, "end": end})
    filter_form = _filter_form(request)
    filters = filter_form.filters()
    page, figures = selectors.dashboard(
        request.user, filters=filters, page=_page_number(request), start=start, end=end
    )
    for row in page.rows:
        row.sparkline = sparkline_points(row.phq9_series)
    access_record_list(
        request=request, client_ids=[row.course.client_id for row in page.rows], page="Dashboard"
    )
    keep = request.GET.copy()
    keep.pop("page", None)
    unsorted = keep.copy()
    for key in ("sort", "dir"):
        unsorted.pop(key, None)
    export = keep.copy()
    for key in PERIOD_FIELDS:
        export.pop(key, None)
    return render(
        request,
        "reports/dashboard.html",
        {
            "figures": figures,
            "period_form": period_form,
            "filter_form": filter_form,
            "filters": filters,
            "page": page,
            "rows": page.rows,
            "count_cap": f"{selectors.COUNT_CAP:,}",
            "query": keep.urlencode(),
            "columns": _columns(unsorted, filters),
            "export_query": export.urlencode(),
            # The filters ride along when only the period changes.
            "filter_hidden": [
                (key, value)
                for key, values in export.lists()
                if key in FilterForm.base_fields
                for value in values
            ],
            "prep_required": settings_reader.current().prep_sessions_required,
        },
    )


COLUMNS = (
    ("Client", "client"),
    ("Therapist", "therapist"),
    ("Phase", "phase"),
    ("Preparation", None),
    ("Doses", None),
    ("Last dose", "last_dose"),
    ("Next session", "next_session"),
    ("Integration in 3 days", None),
    ("PHQ-9", None),
    ("GAD-7", None),
    ("PHQ-9 trend", None),
    ("Open alerts", None),
)


def _columns(unsorted, filters: selectors.Filters) -> list[dict]:
    """The table's headings; sortable ones link to themselves, the current one flips direction."""
    columns = []
    for label, key in COLUMNS:
        column = {"label": label, "url": "", "sorted": ""}
        if key:
            current = filters.sort == key
            descending = current and not filters.descending
            query = unsorted.copy()
            query["sort"] = key
            query["dir"] = "desc" if descending else "asc"
            column["url"] = "?" + query.urlencode()
            if current:
                column["sorted"] = "descending" if filters.descending else "ascending"
        columns.append(column)
    return columns


class _Echo:
    def write(self, value):
        return value


CSV_HEADER = [
    "Client",
    "Therapist",
    "Phase",
    "Preparation sessions done",
    "Preparation sessions required",
    "Doses used",
    "Doses authorised",
    "Last dose",
    "Next session",
    "Integration within 3 days of last dose",
    "Latest PHQ-9",
    "PHQ-9 change from first",
    "Latest GAD-7",
    "GAD-7 change from first",
    "Open alerts",
]


def _blank(value) -> str:
    return "" if value is None else str(value)


# A cell a spreadsheet would read as a formula (OWASP, "CSV injection"): a name typed as
# =HYPERLINK(...) must arrive as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# get_phase_display() per row made its choices hashable each time: a tenth of a large export.
PHASE_LABELS = dict(Phase.choices)


def _text_cell(value: str) -> str:
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _csv_row(
    row: selectors.CourseRow, *, names: bool, prep_required: int, zone: tzinfo
) -> list[str]:
    # The regular record only: numbers, dates and phase (R23: no notes, no free text). The cells
    # that hold what someone typed (names) are made inert; the rest are numbers and dates.
    client = row.course.client
    next_session = row.next_session.astimezone(zone).date() if row.next_session else None
    return [
        _text_cell(f"{client.first_name} {client.last_name}" if names else row.initials),
        _text_cell(row.course.therapist.get_full_name()),
        PHASE_LABELS.get(row.course.phase, row.course.phase),
        str(row.prep_done),
        str(prep_required),
        str(row.doses_used),
        _blank(row.doses_authorised),
        row.last_dose.isoformat() if row.last_dose else "",
        next_session.isoformat() if next_session else "",
        row.integration,
        _blank(row.phq9.latest),
        _blank(row.phq9.change),
        _blank(row.gad7.latest),
        _blank(row.gad7.change),
        "; ".join(row.alerts),
    ]


@require_GET
@staff_required
def export(request):
    """The filtered rows as CSV, streamed a chunk of courses at a time (the header at once, then
    each chunk as it is read: selectors.iter_rows). Each exported client gets an access row
    (R22), written for the whole chunk in one INSERT before its rows leave: an export shows
    their record as much as the page does."""
    names = request.GET.get("ids") == "names"
    filters = _filter_form(request).filters()
    writer = csv.writer(_Echo())
    user, path, ip = request.user, request.get_full_path()[:500], client_ip(request)
    prep_required = settings_reader.current().prep_sessions_required
    # The user's id once: request.user is a lazy object, and setting it on each of thousands of
    # rows went through the lazy proxy every time.
    user_id = user.pk
    zone = timezone.get_current_timezone()

    def lines():
        yield writer.writerow(CSV_HEADER)
        for chunk in selectors.iter_rows(user, filters=filters):
            access_record_ids(
                user_id=user_id,
                client_ids=[row.course.client_id for row in chunk],
                page=EXPORT_PAGE,
                path=path,
                method="GET",
                ip_address=ip,
            )
            # One write per chunk, not per row: the chunk's lines go out together.
            yield "".join(
                writer.writerow(_csv_row(row, names=names, prep_required=prep_required, zone=zone))
                for row in chunk
            )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="course-progress-{stamp}.csv"'
    return response
