"""The page benchmark's numbers and its table: pure functions over the load client's samples, with
no Django and no I/O, so tests/benchmarks tests them in milliseconds.

A sample is one request: seconds to its headers (``first``), to the first data row of a streamed
page (``first_row``, CSV: the second line), to its last byte (``total``). A page's ratio is its
median over the median of the floor page fetched between its requests (the same role, the same
minute, the same load), so a busy machine moves both and the ratio stays readable."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

FLOOR_TITLE = "floor: help page"


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), interpolated between the two nearest ranks (numpy's default):
    the median of an even count is the mean of the middle two."""
    if not values:
        raise ValueError("no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} outside 0-100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def target_ratio(scale: float) -> float:
    """Issue 13's targets: a page's median at most 3x the floor's at N=1, 4x at N=10."""
    return 3.0 if scale <= 1 else 4.0


@dataclass(frozen=True)
class Timing:
    n: int
    median: float
    p95: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Timing:
        return cls(n=len(seconds), median=percentile(seconds, 50), p95=percentile(seconds, 95))


@dataclass(frozen=True)
class Row:
    """One line of the table: a page for one role, or a role's floor."""

    title: str
    role: str
    sql: str
    page: Timing | None  # None: no request of the page succeeded
    floor: Timing | None  # None: this row is the floor itself, or the page failed
    target: float
    first_byte: Timing | None = None
    first_row: Timing | None = None
    rows_per_second: float | None = None
    errors: int = 0

    @property
    def is_floor(self) -> bool:
        return self.title == FLOOR_TITLE

    @property
    def ratio(self) -> float | None:
        if self.page is None:
            return None
        return 1.0 if self.floor is None else self.page.median / self.floor.median

    @property
    def met(self) -> str:
        if self.is_floor:
            return "(floor)"
        if self.page is None:
            return "no (failed)"
        if self.errors:
            return "no (errors)"
        return "yes" if self.ratio <= self.target else "no"


def sql_label(counts: Iterable[int]) -> str:
    """Statements per request as logged: one number when every request ran the same, else the
    most frequent with the range (a worker refreshing its cached clinic settings once a minute
    adds one statement to that request)."""
    counted = Counter(counts)
    if not counted:
        return "?"
    if len(counted) == 1:
        return str(next(iter(counted)))
    usual = max(sorted(counted), key=lambda value: counted[value])
    return f"{usual} ({min(counted)}-{max(counted)})"


def page_row(
    title: str,
    role: str,
    *,
    page: Sequence[dict],
    floor: Sequence[dict],
    sql: Iterable[int],
    scale: float,
    stream: bool = False,
    errors: int = 0,
) -> Row:
    """A page's row from its samples and the floor samples taken between them."""
    if not page or not floor:
        return Row(title, role, sql_label(sql), None, None, target_ratio(scale), errors=errors)
    extra = {}
    if stream:
        seconds = sum(sample["total"] for sample in page)
        rows = sum(max(sample.get("lines", 0) - 1, 0) for sample in page)  # less the header
        extra = {
            "first_byte": Timing.of([sample["first"] for sample in page]),
            "first_row": Timing.of([sample.get("first_row", sample["total"]) for sample in page]),
            "rows_per_second": rows / seconds if seconds else None,
        }
    return Row(
        title=title,
        role=role,
        sql=sql_label(sql),
        page=Timing.of([sample["total"] for sample in page]),
        floor=Timing.of([sample["total"] for sample in floor]),
        target=target_ratio(scale),
        errors=errors,
        **extra,
    )


def floor_row(role: str, *, floor: Sequence[dict], sql: Iterable[int], scale: float) -> Row:
    """A role's floor over the whole run (every interleaving pooled)."""
    return Row(
        title=FLOOR_TITLE,
        role=role,
        sql=sql_label(sql),
        page=Timing.of([sample["total"] for sample in floor]),
        floor=None,
        target=target_ratio(scale),
    )


def milliseconds(seconds: float) -> str:
    value = seconds * 1000
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def ratio_text(ratio: float) -> str:
    if ratio >= 100:
        return f"{ratio:,.0f}"
    return f"{ratio:.1f}" if ratio >= 10 else f"{ratio:.2f}"


HEADER = (
    "page",
    "role",
    "SQL per request",
    "median ms",
    "p95 ms",
    "floor median ms",
    "ratio to floor",
    "target met",
    "n",
)


def _cells(row: Row) -> tuple[str, ...]:
    failed = f" ({row.errors} failed)" if row.errors else ""
    if row.page is None or row.ratio is None:
        return (row.title, row.role, row.sql, "-", "-", "-", "-", row.met, "0" + failed)
    floor = row.floor or row.page
    return (
        row.title,
        row.role,
        row.sql,
        milliseconds(row.page.median),
        milliseconds(row.page.p95),
        milliseconds(floor.median),
        ratio_text(row.ratio),
        row.met,
        str(row.page.n) + failed,
    )


def table(rows: Sequence[Row]) -> str:
    """A Markdown table, padded so it reads in a terminal too."""
    lines = [HEADER, *(_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER))]
    numeric = {2, 3, 4, 5, 6, 8}

    def render(cells: Sequence[str]) -> str:
        padded = (
            cell.rjust(width) if i in numeric else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(
        "-" * (width + 1) + ":" if i in numeric else "-" * (width + 2)
        for i, width in enumerate(widths)
    )
    rule += "|"
    return "\n".join([render(lines[0]), rule, *(render(cells) for cells in lines[1:])])


def stream_notes(rows: Sequence[Row]) -> list[str]:
    """A line per streamed page: first byte, first data row, rows per second."""
    notes = []
    for row in rows:
        if row.page is None or row.first_byte is None or row.first_row is None:
            continue
        rate = f"{row.rows_per_second:,.0f} rows/s" if row.rows_per_second else "no rows"
        notes.append(
            f"{row.title} ({row.role}): first byte median {milliseconds(row.first_byte.median)} ms"
            f" (p95 {milliseconds(row.first_byte.p95)}), first data row median"
            f" {milliseconds(row.first_row.median)} ms (p95 {milliseconds(row.first_row.p95)}),"
            f" last byte median {milliseconds(row.page.median)} ms; {rate}"
        )
    return notes


def summary(rows: Sequence[Row]) -> str:
    pages = [row for row in rows if not row.is_floor]
    missed = [row for row in pages if row.met != "yes"]
    if not missed:
        return f"All {len(pages)} pages within {pages[0].target:g}x the floor." if pages else ""
    names = ", ".join(f"{row.title} ({row.role})" for row in missed)
    return f"{len(pages) - len(missed)} of {len(pages)} pages within the target; missed: {names}."
