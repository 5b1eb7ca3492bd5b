"""The query plans behind docs/query-plans.md: each page's slowest reads, as the page sends them,
under EXPLAIN (ANALYZE, BUFFERS), on a seeded clinic.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kap_scale10_copy \\
        .venv/bin/python -m benchmarks.explain audit-views,export --reads 2 > plans.md

Point DATABASE_URL at a copy of a seeded database (CREATE DATABASE ... TEMPLATE kap_scale10):
the pages write their access rows (R22) as they do for anyone. The page keys are those of the
page benchmark (benchmarks/plan.py, `--pages`); each page is requested once to warm the caches,
then again with its statements recorded, and the slowest SELECTs of that second request are
explained with their own parameters, JIT off as the dashboard and export run them."""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kap_clinic.settings")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "benchmarks-explain-" + "x" * 40)
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("BEHIND_TLS_PROXY", "true")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from benchmarks import plan  # noqa: E402

PLAN_LINES = 40


def _recorded(page: plan.Page, session_key: str) -> list[tuple[float, str, tuple]]:
    web = Client(HTTP_X_FORWARDED_PROTO="https")
    web.cookies[settings.SESSION_COOKIE_NAME] = session_key
    statements: list[tuple[float, str, tuple]] = []

    def get() -> None:
        response = web.get(page.path, secure=True)
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
        if response.status_code != 200:
            raise SystemExit(f"{page.key}: HTTP {response.status_code}")

    def record(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements.append((time.perf_counter() - started, sql, params))

    get()
    with connection.execute_wrapper(record):
        get()
    return statements


def explain(keys: list[str], reads: int) -> str:
    people, pages = plan.pages()
    by_key = {page.key: page for page in pages}
    out = []
    for key in keys:
        page = by_key[key]
        statements = _recorded(page, plan.signed_in(people[page.role], 1)[0])
        selects = [
            s
            for s in statements
            if s[1].lstrip().upper().startswith("SELECT") and "django_session" not in s[1]
        ]
        for seconds, sql, params in sorted(selects, key=lambda s: -s[0])[:reads]:
            with connection.cursor() as cursor:
                cursor.execute("SET jit = off")
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                lines = [row[0] for row in cursor.fetchall()]
                cursor.execute("RESET jit")
            out.append(f"### {page.title} ({page.role}), `{page.path}`")
            out.append(f"The statement's time in the request: {seconds * 1000:.1f} ms.")
            out.append("```")
            out.extend(lines[:PLAN_LINES])
            if len(lines) > PLAN_LINES:
                out.append(f"... {len(lines) - PLAN_LINES} lines more ...")
                out.extend(lines[-2:])
            out.extend(["```", ""])
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pages", help="page keys, comma-separated (benchmarks/plan.py)")
    parser.add_argument("--reads", type=int, default=1, help="slowest SELECTs per page")
    args = parser.parse_args(argv)
    print(explain(args.pages.split(","), args.reads))
    return 0


if __name__ == "__main__":
    sys.exit(main())
