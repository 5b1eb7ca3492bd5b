"""Rows into PostgreSQL with COPY, through the models' own tables and columns.

COPY is the fast path (about ten times bulk_create), and it keeps every constraint and trigger:
check and unique constraints, the exclusion constraint against double booking, the dose gate
(R6, R11-R13) and the foreign keys all run on each row as for any INSERT. Nothing is disabled.

Each table is described by its model: the generator names the columns it fills, in order, and
every other column gets its field's default, rendered once. Times are whole seconds since the
epoch (UTC) in the generator, days are ``date`` objects; both are rendered here. Ids are reserved
from each table's own sequence before the rows are written, so the generator can point rows at
each other without reading anything back.

Writing runs on a second thread: the generator formats the next chunk while PostgreSQL takes the
last one, so the machine's two cores both work."""

from __future__ import annotations

import json
import queue
import threading
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from django.db import connection, models

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

# Rows per COPY statement: the generator formats the next chunk while the database takes this one.
CHUNK = 50_000
EPOCH_DAY = date(1970, 1, 1).toordinal()
NULL = "\\N"

_days: dict[int, str] = {}


def ts_text(ts: int | None) -> str:
    """Seconds since the epoch (UTC) as a PostgreSQL timestamptz literal."""
    if ts is None:
        return NULL
    day, rest = divmod(ts, 86400)
    text = _days.get(day)
    if text is None:
        text = _days[day] = date.fromordinal(EPOCH_DAY + day).isoformat()
    hour, rest = divmod(rest, 3600)
    minute, second = divmod(rest, 60)
    return f"{text} {hour:02d}:{minute:02d}:{second:02d}+00"


def ts_of(moment: datetime) -> int:
    return int(moment.timestamp())


def moment_of(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def _text(value: str | None) -> str:
    if value is None:
        return NULL
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return value


def _int(value: int | None) -> str:
    return NULL if value is None else str(value)


def _bool(value: bool | None) -> str:
    return NULL if value is None else ("t" if value else "f")


def _date(value: date | None) -> str:
    return NULL if value is None else value.isoformat()


def _json(value) -> str:
    """A value, or JSON text already dumped (a str), as a JSON column."""
    if value is None:
        return NULL
    return _text(value if isinstance(value, str) else json.dumps(value))


def _formatter(field: models.Field) -> Callable[[object], str]:
    if isinstance(field, models.DateTimeField):
        return ts_text  # type: ignore[return-value]
    if isinstance(field, models.DateField):
        return _date  # type: ignore[return-value]
    if isinstance(field, models.BooleanField):
        return _bool  # type: ignore[return-value]
    if isinstance(field, models.JSONField):
        return _json
    if isinstance(field, models.IntegerField | models.AutoField | models.ForeignKey):
        return _int  # type: ignore[return-value]
    if isinstance(field, models.FloatField | models.DecimalField):
        return lambda value: NULL if value is None else str(value)
    return _text  # type: ignore[return-value]


def _default(field: models.Field, now: int):
    """The value a column gets when the generator does not fill it: the field's default, NULL
    for a nullable field, "" for a blank text field, now for auto_now fields."""
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    if field.has_default():
        value = field.get_default()
        if isinstance(value, datetime):
            return ts_of(value)
        return value
    if field.null:
        return None
    if isinstance(field, models.CharField | models.TextField) and field.blank:
        return ""
    raise ValueError(f"{field.model.__name__}.{field.name} has no default: fill it.")


class Table:
    """One model's table: the columns the generator fills (by attribute name, in order), the
    rest at their defaults. ``add`` takes one row's values in that order."""

    def __init__(self, writer: Writer, model: type[models.Model], fields: Iterable[str]):
        self.writer = writer
        self.model = model
        self.name = model._meta.db_table
        by_attname = {f.attname: f for f in model._meta.concrete_fields}
        filled = [by_attname[name] for name in fields]
        rest = [f for f in model._meta.concrete_fields if f not in filled]
        self.columns = [f.column for f in filled] + [f.column for f in rest]
        self._formats = [_formatter(f) for f in filled]
        constant = [_formatter(f)(_default(f, writer.now)) for f in rest]
        self._suffix = ("\t" + "\t".join(constant)) if constant else ""
        self._lines: list[str] = []
        self.count = 0

    def add(self, *values) -> None:
        self._lines.append(
            "\t".join([fmt(value) for fmt, value in zip(self._formats, values, strict=True)])
            + self._suffix
        )
        if len(self._lines) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        """Send the rows so far, after those of every table made before this one: tables are
        made parents first, so a row never reaches the database before the rows it points at
        (the foreign keys are checked at the end of each COPY)."""
        self.writer.flush_before(self)
        self._send()

    def _send(self) -> None:
        if self._lines:
            self.count += len(self._lines)
            self.writer.send(self, "\n".join(self._lines) + "\n")
            self._lines = []

    def copy_statement(self) -> str:
        columns = ", ".join(f'"{column}"' for column in self.columns)
        return f'COPY "{self.name}" ({columns}) FROM STDIN'


class Writer:
    """COPY chunks to the database on a second thread, in the order they were made (one
    connection, one transaction: the caller's). ``close`` waits for the last chunk and raises
    what the database refused."""

    def __init__(self, *, now: int, raw=None):
        self.now = now
        self.tables: list[Table] = []
        # By default the psycopg connection under Django's: Django's wrapper may not cross
        # threads, the driver's connection may, and it is in the transaction Django opened.
        self._raw = raw if raw is not None else connection.connection
        self._queue: queue.Queue = queue.Queue(maxsize=4)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="seed-copy", daemon=True)
        self._thread.start()

    def table(self, model: type[models.Model], fields: Iterable[str]) -> Table:
        table = Table(self, model, fields)
        self.tables.append(table)
        return table

    def flush_before(self, table: Table | None) -> None:
        for earlier in self.tables:
            if earlier is table:
                return
            earlier._send()

    def send(self, table: Table | None, data: str) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put((table, data))

    def execute(self, sql: str) -> None:
        """A statement run between the chunks, in order (a setting for the next ones)."""
        self.flush_before(None)
        self.send(None, sql)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                if self._error is None:
                    table, data = item
                    with self._raw.cursor() as cursor:
                        if table is None:
                            cursor.execute(data)
                            continue
                        with cursor.copy(table.copy_statement()) as copy:
                            copy.write(data)
            except BaseException as error:  # handed to the generator's thread by send/close
                self._error = error
            finally:
                self._queue.task_done()

    def wait(self) -> None:
        """Until the database has taken every chunk sent so far (for timing each step)."""
        self.flush_before(None)
        self._queue.join()
        if self._error is not None:
            raise self._error

    def abandon(self) -> None:
        """Stop (the seed failed elsewhere): the chunks not yet sent are dropped, the next one
        sent raises, and this returns once the thread has let go of the connection. The caller
        is about to roll back on that connection: with a COPY still running on this thread the
        rollback raced it, and the transaction could be left open ("can't change autocommit
        now: connection in transaction status INTRANS")."""
        self._error = self._error or RuntimeError("The seed stopped.")
        while True:
            try:
                self._queue.get_nowait()
                self._queue.task_done()
            except queue.Empty:
                break
        self._queue.put(None)
        self._thread.join()

    @contextmanager
    def abandoned_on_error(self):
        """The writer's work: on any error, abandon() before the error goes on."""
        try:
            yield self
        except BaseException:
            self.abandon()
            raise

    def close(self) -> None:
        self.flush_before(None)
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error


def reserve_ids(model: type[models.Model], count: int) -> int:
    """The first of ``count`` ids taken from the table's sequence, which moves past them: other
    writers (none expected) could not collide with the rows about to be written."""
    if count <= 0:
        return 0
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
            "GREATEST((SELECT COALESCE(MAX(id), 0) FROM " + connection.ops.quote_name(table) + "), "
            "(SELECT last_value FROM " + _sequence(table) + ")) + %s)",
            [table, count],
        )
        last = cursor.fetchone()[0]
    return last - count + 1


def _sequence(table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        return cursor.fetchone()[0]
