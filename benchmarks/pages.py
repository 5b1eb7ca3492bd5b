"""The page benchmark: `make bench SCALE=N` (docs/benchmarks.md says how to read it).

1. The seeded clinic: a database on DATABASE_URL's PostgreSQL server named after it,
   ``<name>_scale<N>``, made with ``seed_demo --scale N --force`` when it is missing or holds
   another scale (kap_bench_seed, a one-row table in it, records what it holds), and reused
   otherwise; migrations are applied each time. SCALE=0 is the plain demo clinic (``seed_demo``),
   a quick check of the harness.
2. A throw-away copy of it for the run (``<name>_scale<N>_run``, CREATE DATABASE ... TEMPLATE):
   every page view writes audit rows and the CSV export one per client exported, so without it
   each run would measure a bigger audit trail than the last. Dropped at the end.
3. Signed-in sessions per role made in that copy (plan.py), static files collected for whitenoise
   as in the Dockerfile, gunicorn on a free local port with production settings (DEBUG off, the
   real middleware, HTTPS behind a proxy as in docker-compose.yml) plus one middleware that counts
   each request's SQL statements (benchmarks/settings.py).
4. The load client in a second process (load.py): concurrent closed-loop workers alternate the
   floor page and each page.
5. The table: printed, and written to var/bench-pages-scale<N>.md (and .json with every sample).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import defaultdict
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import django
import psycopg
from psycopg import sql

from benchmarks import report

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
HOST = "127.0.0.1"
SEED_TABLE = "kap_bench_seed"
# What the server runs with: production settings, as docker-compose.yml sets them, behind its TLS
# proxy (the load client sends the proxy's X-Forwarded-Proto and X-Forwarded-For), so the HTTPS
# redirect, secure cookies and HSTS stay on. The secret key is new for each run.
SERVER_SETTINGS = {
    "DEBUG": "false",
    "ALLOWED_HOSTS": HOST,
    "BEHIND_TLS_PROXY": "true",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_COOKIES": "true",
    "PROXY_COUNT": "1",
    "CONN_MAX_AGE": "60",
}
PROXY_HEADERS = {"Host": HOST, "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pages", description=__doc__)
    parser.add_argument(
        "--scale", type=float, required=True, help="N: 1, 10 (0.1 works; 0: the plain demo)"
    )
    parser.add_argument("--database", help="the seeded database's name (default <name>_scale<N>)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (4)")
    parser.add_argument("--concurrency", type=int, default=4, help="load client workers (4)")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up pairs per page (3)")
    parser.add_argument("--iterations", type=int, default=20, help="measured pairs per page (20)")
    parser.add_argument(
        "--page-seconds",
        type=float,
        default=60,
        help="stop measuring a page after this long, with at least one pair per worker (60)",
    )
    parser.add_argument("--timeout", type=int, default=300, help="gunicorn's worker timeout (300)")
    parser.add_argument("--pages", help="only these page keys, comma-separated (see the table)")
    parser.add_argument("--output", help="the table's file (default var/bench-pages-scale<N>.md)")
    return parser.parse_args(argv)


def scale_name(scale: float) -> str:
    """1 -> "1", 0.1 -> "0_1": for database and file names."""
    return f"{scale:g}".replace(".", "_")


# --- The databases -------------------------------------------------------------------------------


class Postgres:
    """The PostgreSQL server of DATABASE_URL, and databases on it by name."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        if parts.scheme not in ("postgres", "postgresql", "pgsql"):
            raise SystemExit(f"The page benchmark needs PostgreSQL in DATABASE_URL (got {url!r}).")
        self.parts = parts._replace(scheme="postgresql")
        self.name = parts.path.lstrip("/") or "postgres"

    def url(self, database: str) -> str:
        return self.parts._replace(path=f"/{database}").geturl()

    def connect(self, database: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(self.url(database), autocommit=True)

    def exists(self, database: str) -> bool:
        with self.connect() as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
            return found.fetchone() is not None

    def create(self, database: str, *, template: str | None = None) -> None:
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database))
        if template:
            # FILE_COPY: a few gigabytes copied as files, much faster than through the WAL.
            statement += sql.SQL(" TEMPLATE {} STRATEGY FILE_COPY").format(sql.Identifier(template))
        with self.connect() as conn:
            conn.execute(statement)

    def drop(self, database: str) -> None:
        with self.connect() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )

    def version(self) -> str:
        with self.connect() as conn:
            return conn.execute("SHOW server_version").fetchone()[0].split()[0]


def _manage(db_url: str, *args: str) -> None:
    env = {**os.environ, **SERVER_SETTINGS, "DATABASE_URL": db_url}
    env.setdefault("SECRET_KEY", secrets.token_urlsafe(64))
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)


def _recorded(server: Postgres, database: str) -> tuple[float, str, float | None] | None:
    with server.connect(database) as conn:
        if conn.execute("SELECT to_regclass(%s)", [SEED_TABLE]).fetchone()[0] is None:
            return None
        row = conn.execute(f"SELECT scale, status, seconds FROM {SEED_TABLE}").fetchone()
        return tuple(row) if row else None


def _record(server: Postgres, database: str, scale: float, status: str, seconds=None) -> None:
    with server.connect(database) as conn:
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {SEED_TABLE} (scale double precision, status text, "
            "seconds double precision, recorded_at timestamptz DEFAULT now())"
        )
        conn.execute(f"DELETE FROM {SEED_TABLE}")
        conn.execute(
            f"INSERT INTO {SEED_TABLE} (scale, status, seconds) VALUES (%s, %s, %s)",
            [scale, status, seconds],
        )


def _seeded_scale(server: Postgres, database: str) -> float | None:
    """The scale seed_demo --scale recorded in a database (demo.models.ScaleSeed), if any."""
    with server.connect(database) as conn:
        if conn.execute("SELECT to_regclass('demo_scaleseed')").fetchone()[0] is None:
            return None
        row = conn.execute("SELECT scale FROM demo_scaleseed ORDER BY made_at DESC").fetchone()
        return row[0] if row else None


def _seed(server: Postgres, database: str, scale: float) -> float:
    url = server.url(database)
    _manage(url, "migrate", "--no-input", "--verbosity", "0")
    started = time.perf_counter()
    _manage(url, "seed_demo", "--force", *(["--scale", f"{scale:g}"] if scale else []))
    seconds = time.perf_counter() - started
    vacuum = time.perf_counter()
    with server.connect(database) as conn:
        conn.execute("VACUUM (ANALYZE)")  # statistics and visibility maps, as autovacuum leaves
    print(f"VACUUM (ANALYZE) in {time.perf_counter() - vacuum:,.1f} s.", file=sys.stderr)
    return seconds


def _check_seed_command(scale: float) -> None:
    if scale == 0:
        return
    shown = subprocess.run(
        [PYTHON, "manage.py", "seed_demo", "--help"], cwd=ROOT, capture_output=True, text=True
    )
    if "--scale" not in shown.stdout:
        raise SystemExit(
            "seed_demo has no --scale option in this checkout (the generated clinic of issue 13);"
            " run with SCALE=0 for the plain demo, or pass --database with a seeded database."
        )


def seeded_database(server: Postgres, database: str, scale: float) -> str:
    """Make sure ``database`` holds a clinic of ``scale``; a sentence saying what was done."""
    if server.exists(database):
        recorded = _recorded(server, database)
        if recorded is None and scale and _seeded_scale(server, database) == scale:
            _record(server, database, scale, "adopted")
            recorded = (scale, "adopted", None)
        if recorded is None:
            raise SystemExit(
                f"{database} exists but holds no clinic of scale {scale:g} that this benchmark"
                " knows of; drop it, or pass --database with another name."
            )
        if recorded[0] == scale and recorded[1] in ("done", "adopted"):
            _manage(server.url(database), "migrate", "--no-input", "--verbosity", "0")
            took = f", seeded in {recorded[2]:,.0f} s" if recorded[2] else ""
            return f"reused {database} (scale {scale:g}{took})"
        server.drop(database)  # ours, with another scale or a seeding that did not finish
    _check_seed_command(scale)
    print(f"Seeding {database} at scale {scale:g}...", file=sys.stderr, flush=True)
    server.create(database)
    _record(server, database, scale, "seeding")
    seconds = _seed(server, database, scale)
    _record(server, database, scale, "done", seconds)
    print(f"Seeded {database} at scale {scale:g} in {seconds:,.1f} s.", file=sys.stderr, flush=True)
    return f"seeded {database} at scale {scale:g} in {seconds:,.1f} s"


@contextmanager
def run_copy(server: Postgres, template: str):
    """A copy of the seeded clinic for this run, dropped afterwards."""
    copy = f"{template}_run"
    server.drop(copy)
    started = time.perf_counter()
    server.create(copy, template=template)
    print(f"Copied {template} in {time.perf_counter() - started:,.1f} s.", file=sys.stderr)
    try:
        yield copy
    finally:
        server.drop(copy)


# --- The server ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _answers(port: int) -> bool:
    request = urllib.request.Request(f"http://{HOST}:{port}/accounts/login/", headers=PROXY_HEADERS)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def gunicorn(port: int, workers: int, timeout: int, log: Path):
    """gunicorn as the Dockerfile runs it, with the benchmark's settings module (the SQL count)."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "benchmarks.settings"}
    command = [
        GUNICORN,
        "kap_clinic.wsgi",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        "--timeout",
        str(timeout),
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=output)
    try:
        deadline = time.monotonic() + 60
        while not _answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- The run -------------------------------------------------------------------------------------


def _prepare(args: argparse.Namespace) -> dict:
    """Django in this process, on the run's database: static files, pages, sessions."""
    from django.core.management import call_command  # noqa: PLC0415 (needs django.setup())

    from benchmarks import plan  # noqa: PLC0415 (imports models: needs django.setup())

    started = time.perf_counter()
    call_command("collectstatic", interactive=False, verbosity=0)
    print(f"Collected static files in {time.perf_counter() - started:,.1f} s.", file=sys.stderr)
    people, pages = plan.pages()
    if args.pages:
        wanted = set(args.pages.split(","))
        pages = [page for page in pages if page.key in wanted]
    return {
        "pages": plan.as_dicts(pages),
        "floor_path": plan.floor_path(),
        "sessions": {
            page.key: plan.signed_in(people[page.role], args.concurrency) for page in pages
        },
        "people": {role: user.get_full_name() for role, user in people.items()},
    }


def _load_plan(args: argparse.Namespace, port: int, prepared: dict) -> dict:
    from django.conf import settings  # noqa: PLC0415 (needs django.setup())

    return {
        "host": HOST,
        "port": port,
        "headers": PROXY_HEADERS,
        "cookie_name": settings.SESSION_COOKIE_NAME,
        "concurrency": args.concurrency,
        "warmup": args.warmup,
        "iterations": args.iterations,
        "page_seconds": args.page_seconds,
        "timeout": args.timeout + 30,
        "floor_path": prepared["floor_path"],
        "pages": prepared["pages"],
        "sessions": prepared["sessions"],
    }


def sql_counts(log: Path) -> dict[str, list[int]]:
    counts: dict[str, list[int]] = defaultdict(list)
    if log.exists():
        for line in log.read_text().splitlines():
            label, _, statements = line.partition("\t")
            counts[label].append(int(statements))
    return counts


def rows(prepared: dict, results: dict, counts: dict, scale: float) -> list[report.Row]:
    """The floors first (one per role, every interleaving pooled), then the pages in order."""
    table = []
    floors: dict[str, list] = defaultdict(list)
    for page in prepared["pages"]:
        measured = results[page["key"]]
        floors[page["role"]].extend(measured["floor"])
        table.append(
            report.page_row(
                page["title"],
                page["role"],
                page=measured["page"],
                floor=measured["floor"],
                sql=counts.get(page["key"], []),
                scale=scale,
                stream=page["stream"],
                errors=len(measured["errors"]),
            )
        )
    floor_rows = [
        report.floor_row(role, floor=samples, sql=counts.get(f"floor:{role}", []), scale=scale)
        for role, samples in floors.items()
        if samples
    ]
    return [*floor_rows, *table]


def _commit() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    changed = [line for line in git("status", "--porcelain", "--untracked-files=no").splitlines()]
    return f"{commit} (+ uncommitted changes in {len(changed)} files)" if changed else commit


def _memory_gib() -> str:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    return "? GiB"


def heading(args, server: Postgres, seeding: str, prepared: dict) -> list[str]:
    people = ", ".join(f"{role} {name}" for role, name in prepared["people"].items())
    return [
        f"## Page benchmark, SCALE={args.scale:g}",
        "",
        f"- Date: {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; commit {_commit()}",
        f"- Machine: {os.cpu_count()} cores, {_memory_gib()}, PostgreSQL {server.version()},"
        f" Python {platform.python_version()}, {platform.system()} {platform.release()}",
        f"- Server: gunicorn {importlib.metadata.version('gunicorn')}, {args.workers} sync"
        f" workers, production settings (DEBUG off, HTTPS behind a proxy, CONN_MAX_AGE 60)",
        f"- Load: {args.concurrency} closed-loop clients in a second process; per page"
        f" {args.warmup} warm-up pairs, then up to {args.iterations} floor/page pairs each"
        f" ({args.page_seconds:g} s budget per page); signed in as {people}",
        f"- Data: {seeding}",
    ]


def render(lines: list[str], table: list[report.Row], results: dict) -> str:
    out = [*lines, "", report.table(table), ""]
    notes = report.stream_notes(table)
    out += [f"- {note}" for note in notes]
    out += [f"- {report.summary(table)}"]
    for key, measured in results.items():
        for error in sorted(set(measured["errors"])):
            out.append(f"- {key} failed: {error}")
    return "\n".join(out) + "\n"


def measure(args: argparse.Namespace, work: Path, prepared: dict, server_log: Path) -> dict:
    """The load client's results; gunicorn's own output (errors, worker timeouts) to server_log."""
    port = free_port()
    plan_file, results_file = work / "plan.json", work / "results.json"
    plan_file.write_text(json.dumps(_load_plan(args, port, prepared)))
    server_log.parent.mkdir(parents=True, exist_ok=True)
    with gunicorn(port, args.workers, args.timeout, server_log):
        print(f"gunicorn on port {port}; measuring...", file=sys.stderr, flush=True)
        subprocess.run(
            [PYTHON, "-m", "benchmarks.load", str(plan_file), str(results_file)],
            cwd=ROOT,
            check=True,
        )
    return json.loads(results_file.read_text())


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    server = Postgres(os.environ.get("DATABASE_URL", ""))
    database = args.database or f"{server.name}_scale{scale_name(args.scale)}"
    seeding = seeded_database(server, database, args.scale)
    output = Path(args.output or ROOT / "var" / f"bench-pages-scale{scale_name(args.scale)}.md")
    server_log = output.with_suffix(".server.log")
    with (
        run_copy(server, database) as copy,
        tempfile.TemporaryDirectory(prefix="kap-bench-") as tmp,
    ):
        work = Path(tmp)
        os.environ.update(
            SERVER_SETTINGS,
            SECRET_KEY=secrets.token_urlsafe(64),
            DATABASE_URL=server.url(copy),
            STATIC_ROOT=str(ROOT / "var" / "bench-static"),
            BENCH_SQL_LOG=str(work / "sql.log"),
            DJANGO_SETTINGS_MODULE="kap_clinic.settings",
        )
        django.setup()
        prepared = _prepare(args)
        from django.db import connections  # noqa: PLC0415 (after django.setup())

        connections.close_all()
        results = measure(args, work, prepared, server_log)
        counts = sql_counts(work / "sql.log")
        table = rows(prepared, results, counts, args.scale)
        text = render(heading(args, server, seeding, prepared), table, results)
    if any(measured["errors"] for measured in results.values()):
        text += f"- The server's log (tracebacks, worker timeouts): {_shown(server_log)}\n"
    print("\n" + text)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    raw = {"pages": prepared["pages"], "results": results, "sql": counts}
    output.with_suffix(".json").write_text(json.dumps(raw))
    print(f"Written to {_shown(output)}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
