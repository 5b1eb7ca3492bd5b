"""Long lists that stay fast however large the table grows (issue 13): keyset pages and capped
counts.

A page of a list is read by where the last page ended (a cursor naming its last row's sort values),
not by OFFSET: an OFFSET page reads and throws away every row before it, and Django's Paginator
counts the whole table first. With an index matching the order, the next page reads only its own
rows, and rows inserted meanwhile neither shift nor repeat what the reader sees.

A count that is only there to say "how many" stops at ``COUNT_CAP``: "10,000+" tells a
practice manager as much as "1,834,221" and costs a bounded index read instead of a full scan.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Model, Q, QuerySet
from django.utils.dateparse import parse_datetime

M = TypeVar("M", bound=Model)

COUNT_CAP = 10_000


def capped_counts(querysets: Mapping[str, QuerySet], *, cap: int = COUNT_CAP) -> dict[str, int]:
    """Each queryset's number of rows, counted up to ``cap + 1`` (so the caller can tell "more
    than ``cap``"), all in one query whatever their number."""
    if not querysets:
        return {}
    counts, parts, params = dict.fromkeys(querysets, 0), {}, []
    for name, queryset in querysets.items():
        limited = queryset.order_by().values("pk")[: cap + 1]
        try:
            sql, sql_params = limited.query.sql_with_params()
        except EmptyResultSet:  # .none(): nothing to count
            continue
        parts[name] = f"(SELECT COUNT(*) FROM ({sql}) AS capped)"
        params.extend(sql_params)
    if parts:
        database = next(iter(querysets.values())).db
        with connections[database].cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(parts.values())}", params)
            counts.update(zip(parts, cursor.fetchone(), strict=True))
    return counts


def count_label(count: int, *, cap: int = COUNT_CAP) -> str:
    """``1,234``, or ``10,000+`` for a count that stopped at the cap."""
    return f"{cap:,}+" if count > cap else f"{count:,}"


@dataclass
class KeysetPage(Generic[M]):
    """One page of a keyset list. ``newer`` and ``older`` are the cursors of the pages before and
    after it (None at either end); ``first`` is whether this is the list's first page."""

    rows: list[M]
    newer: str | None
    older: str | None

    @property
    def first(self) -> bool:
        return self.newer is None

    @property
    def has_other_pages(self) -> bool:
        return self.newer is not None or self.older is not None


def _encode(values: Sequence[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def _decode(cursor: str, order: Sequence[str], model: type[Model]) -> list[Any] | None:
    """The sort values a cursor names, each of its field's type; None for anything else (a
    hand-edited or stale link simply starts the list again)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not isinstance(values, list) or len(values) != len(order):
        return None
    typed = []
    for name, value in zip(order, values, strict=True):
        field = model._meta.get_field(name.lstrip("-"))
        internal = field.get_internal_type()
        if internal == "DateTimeField":
            try:
                parsed = parse_datetime(value) if isinstance(value, str) else None
            except ValueError:  # well-formed but no such moment: "2026-02-30", offset +99:00
                parsed = None
            if parsed is None:
                return None
            typed.append(parsed)
        elif internal in {"AutoField", "BigAutoField", "ForeignKey", "PositiveSmallIntegerField"}:
            if not isinstance(value, int) or isinstance(value, bool) or abs(value) > 2**62:
                return None
            typed.append(value)
        elif isinstance(value, str) and len(value) <= 200:
            typed.append(value)
        else:
            return None
    return typed


def _beyond(order: Sequence[str], values: Sequence[Any], *, forward: bool) -> Q:
    """Rows after (``forward``) or before the row with ``values`` in ``order``: the lexicographic
    expansion (a > x) or (a = x and b > y) or ..., led by a plain range test on the first field so
    that PostgreSQL starts the index scan at the cursor instead of filtering from the top."""
    condition = Q()
    for depth in range(len(order) - 1, -1, -1):
        name = order[depth].lstrip("-")
        descending = order[depth].startswith("-")
        lookup = "lt" if descending == forward else "gt"
        step = Q(**{f"{name}__{lookup}": values[depth]})
        if depth < len(order) - 1:
            step |= Q(**{name: values[depth]}) & condition
        condition = step
    first = order[0].lstrip("-")
    lead = "lte" if order[0].startswith("-") == forward else "gte"
    return Q(**{f"{first}__{lead}": values[0]}) & condition


def keyset_page(
    queryset: QuerySet[M],
    *,
    order: Sequence[str],
    after: str | None = None,
    before: str | None = None,
    size: int = 25,
) -> KeysetPage[M]:
    """The page of ``queryset`` in ``order`` (model field names, ``-`` for descending; the last
    must be unique, e.g. ``id``) that follows the cursor ``after``, or the page just before the
    cursor ``before``, or the first page. One query (the page and one row more, to know whether
    another page follows)."""
    model = queryset.model
    backward = before is not None and after is None
    cursor = (
        _decode(before if backward else after or "", order, model) if (after or before) else None
    )
    rows_qs = queryset
    if cursor is not None:
        rows_qs = rows_qs.filter(_beyond(order, cursor, forward=not backward))
    if backward and cursor is not None:
        reverse = [name[1:] if name.startswith("-") else f"-{name}" for name in order]
        rows = list(rows_qs.order_by(*reverse)[: size + 1])
        more_before = len(rows) > size
        rows = rows[:size][::-1]
        newer = _encode(_values(rows[0], order)) if rows and more_before else None
        older = _encode(_values(rows[-1], order)) if rows else None
        if not rows:  # the page before the first: show the first
            return keyset_page(queryset, order=order, size=size)
        return KeysetPage(rows=rows, newer=newer, older=older)
    rows = list(rows_qs.order_by(*order)[: size + 1])
    more_after = len(rows) > size
    rows = rows[:size]
    older = _encode(_values(rows[-1], order)) if rows and more_after else None
    newer = _encode(_values(rows[0], order)) if rows and cursor is not None else None
    return KeysetPage(rows=rows, newer=newer, older=older)


def _values(row: Model, order: Sequence[str]) -> list[Any]:
    return [getattr(row, row._meta.get_field(name.lstrip("-")).attname) for name in order]
