"""Counts the SQL statements of each benchmark request, for the page benchmark (pages.py).

Only in benchmarks/settings.py, never in production: the outermost middleware, so the session
load and save, the user, the two-factor device and the navbar's counts are counted with the view's
own. A request with the X-Bench-Label header (the load client sends it) gets one line in the file
named by BENCH_SQL_LOG, "label<TAB>statements": a file, not a response header, because a streamed
response (the CSV export) runs most of its statements after its headers have gone. Each gunicorn
worker appends whole lines with one write (O_APPEND), so the workers' lines do not interleave."""

from __future__ import annotations

import os

from django.db import connection

LOG_VARIABLE = "BENCH_SQL_LOG"
LABEL_HEADER = "X-Bench-Label"


class _Counter:
    """An execute wrapper (connection.execute_wrapper) that only counts."""

    def __init__(self) -> None:
        self.statements = 0

    def __call__(self, execute, sql, params, many, context):
        self.statements += 1
        return execute(sql, params, many, context)


def _write(path: str, label: str, statements: int) -> None:
    line = f"{label}\t{statements}\n".encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


class CountQueriesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.path = os.environ[LOG_VARIABLE]

    def __call__(self, request):
        label = request.headers.get(LABEL_HEADER)
        if not label:
            return self.get_response(request)
        counter = _Counter()
        with connection.execute_wrapper(counter):
            response = self.get_response(request)
        if response.streaming:
            response.streaming_content = self._streamed(response.streaming_content, counter, label)
        else:
            _write(self.path, label, counter.statements)
        return response

    def _streamed(self, content, counter: _Counter, label: str):
        # The rows are read while gunicorn sends them: count until the last one.
        with connection.execute_wrapper(counter):
            yield from content
        _write(self.path, label, counter.statements)
