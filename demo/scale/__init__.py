"""A generated clinic group for ``manage.py seed_demo --scale N``, for benchmarks at scale.

Per N: 50 therapists with about 100 clients each, 2,000 KAP courses over every phase (boosters
too), about 100,000 sessions on a weekday grid from 18 months back to 2 months ahead with no
double booking, dosing charts with readings (rechecks, hard stops, deferrals), doses, adverse
events, integration reminders in every status with their outbox messages, PHQ-9/GAD-7 histories,
intakes with R18 flags, referrals with their history, and about 200,000 audit rows. The plain
demo (demo.seed.build: its logins and stories) is there too, and its two therapists get a
caseload like everyone else's.

How: the whole group is first built in memory (demo.scale.courses, .therapy, .people), from a
seeded random source, so the same seed on the same day gives the same data; then written with
COPY through the models' tables (demo.scale.pgcopy), in one transaction, with every constraint
and trigger on: the database checks each row as it would any other. PostgreSQL only."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from auditlog.models import LogEntry
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from audit.models import AccessEvent
from demo import seed as demo
from demo.models import ScaleSeed
from demo.scale import audit, courses, people, scores, therapy, write_records, write_sessions
from demo.scale.context import Context, Ids, Plan, Random
from demo.scale.grid import Grid
from demo.scale.names import FIRST, LAST
from demo.scale.pgcopy import Writer
from integration.models import IntegrationReminder
from outbox.models import OutboxMessage
from patients.models import (
    Alert,
    Client,
    ClientFlag,
    ClientShare,
    ConsentDocument,
    CourseTransition,
    Intake,
    PortalInvitation,
    Prescriber,
    Prescription,
    QuestionnaireRequest,
    QuestionnaireResponse,
    Referral,
    ReferralTransition,
    TreatmentCourse,
)
from sessions.models import (
    AdverseEvent,
    BloodPressureReading,
    DoseAdministration,
    DosingChart,
    PrescriberNotice,
    ProgressNote,
    Session,
)

SEED = 2026

MODELS = [
    User,
    Client,
    ClientShare,
    OutboxMessage,
    PortalInvitation,
    Referral,
    ReferralTransition,
    Prescription,
    Intake,
    ClientFlag,
    TreatmentCourse,
    CourseTransition,
    QuestionnaireRequest,
    QuestionnaireResponse,
    Alert,
    Session,
    ProgressNote,
    DosingChart,
    BloodPressureReading,
    DoseAdministration,
    AdverseEvent,
    PrescriberNotice,
    IntegrationReminder,
    AccessEvent,
]


class ScaleError(Exception):
    """The seed cannot run here; the message says why."""


@dataclass
class Result:
    plan: Plan
    counts: dict[str, int]
    seconds: float


def build(scale: float, *, seed: int = SEED, log: Callable[[str], None] | None = None) -> Result:
    """Seed the plain demo and a generated group of scale ``scale`` in one transaction.
    ``log``: told how long each step took (each then waits for the database to finish it, so the
    steps do not overlap: a little slower overall)."""
    if connection.vendor != "postgresql":
        raise ScaleError(
            "seed_demo --scale writes with PostgreSQL's COPY: point DATABASE_URL at a "
            "PostgreSQL database (the plain seed_demo works on SQLite)."
        )
    if scale <= 0:
        raise ScaleError("The scale must be above 0 (e.g. 1, 10, or 0.02 for a tiny group).")
    started = time.monotonic()
    plan = Plan.for_scale(scale)
    with transaction.atomic():
        existing = ScaleSeed.objects.select_for_update().first()
        if existing is not None:
            raise ScaleError(
                f"This database already holds a scale seed ({existing}). Seed a fresh "
                "database instead: createdb, migrate, then seed_demo --scale."
            )
        clock = _Clock(log)
        staff = demo.build()
        clock.tick("the plain demo (demo.seed.build)")
        ctx = _context(plan, seed, staff, [*MODELS, LogEntry])
        _generate(ctx)
        clock.tick("the group, built in memory")
        with connection.cursor() as cursor:
            # Foreign keys checked as each COPY ends, on the writing thread while the next chunk
            # is made, rather than all at the commit (the tables are written parents first).
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        writer = Writer(now=ctx.now)
        steps = [
            ("people, clients, invitations", lambda: write_records.people(ctx, writer)),
            (
                "referrals, prescriptions, intakes, courses",
                lambda: write_records.records(ctx, writer),
            ),
            ("questionnaires and alerts", lambda: scores.write(ctx, writer)),
            ("sessions and notes", lambda: write_sessions.sessions(ctx, writer)),
        ]
        safety = None
        for name, step in steps:
            safety = step() or safety
            clock.tick(name, writer)
        dosed = write_sessions.charts(ctx, writer, safety)
        clock.tick("dosing charts, readings, doses", writer)
        write_sessions.reminders(ctx, writer, dosed)
        clock.tick("reminders and their e-mails", writer)
        audit.write(ctx, writer)
        clock.tick("audit trail", writer)
        writer.close()
        ctx.ids.finish()
        counts = _counts([*MODELS, LogEntry, Prescriber])
        seconds = time.monotonic() - started
        ScaleSeed.objects.create(scale=scale, seed=seed, seconds=seconds, counts=counts)
    clock.tick("commit (foreign keys checked)")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    clock.tick("ANALYZE")
    return Result(plan=plan, counts=counts, seconds=time.monotonic() - started)


class _Clock:
    """Wall time of each step, with the CPU time this process and the database's server process
    spent in it (read from /proc when the database runs on this machine): on a busy shared
    machine wall time says little about the work itself."""

    def __init__(self, log: Callable[[str], None] | None):
        self.log = log
        self.backend = None
        if log is not None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                self.backend = cursor.fetchone()[0]
        self.last = (time.monotonic(), time.process_time(), self._server_cpu())

    def _server_cpu(self) -> float:
        try:
            with open(f"/proc/{self.backend}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, TypeError, ValueError):
            return float("nan")

    def tick(self, name: str, writer: Writer | None = None) -> None:
        if self.log is None:
            return
        if writer is not None:
            writer.wait()
        now = (time.monotonic(), time.process_time(), self._server_cpu())
        wall, python, server = (a - b for a, b in zip(now, self.last, strict=True))
        self.log(f"{wall:7.1f} s  (CPU: python {python:5.1f} s, database {server:5.1f} s)  {name}")
        self.last = now


def _context(
    plan: Plan, seed: int, staff: dict[str, User], models, *, now: int | None = None
) -> Context:
    now = now or int(time.time())
    today = timezone.localdate()
    ctx = Context(
        plan=plan,
        rng=Random(seed),
        now=now,
        today=today,
        grid=Grid(today, therapists=[]),
        ids=Ids(models),
        # One hash for every generated account (see demo.scale.people).
        password=make_password(demo.DEMO_PASSWORD),
    )
    people.existing_staff(ctx, staff)
    consent = ConsentDocument.objects.latest()
    ctx.consent = (consent.pk, consent.version)
    return ctx


def _generate(ctx: Context) -> None:
    people.make_staff(ctx)
    ctx.grid = Grid(ctx.today, therapists=[t.id for t in ctx.therapists])
    for therapist_id, start, end in Session.objects.booked().values_list(
        "therapist_id", "starts_at", "ends_at"
    ):
        ctx.grid.hold(therapist_id, int(start.timestamp()), int(end.timestamp()))
    ctx.prescribers = _prescribers(ctx)
    people.make_clients(ctx)
    courses.make_courses(ctx)
    therapy.make_therapy(ctx)
    people.archive_some(ctx)
    people.settle_clients(ctx)


def _prescribers(ctx: Context) -> list[tuple[int, str]]:
    """The demo's prescribers and a few more per N (prescribing services and psychiatrists)."""
    wanted = max(0, round(4 + 4 * ctx.plan.scale))
    made = [
        Prescriber(
            organisation=f"{ctx.pick(LAST)} KAP Prescribing" if n % 2 == 0 else "",
            clinician_name=f"{ctx.pick(FIRST)} {ctx.pick(LAST)}",
            credentials=ctx.pick(("MD (psychiatry)", "PMHNP-BC", "DO", "MD")),
            email=f"referrals{n + 1}@prescribers.{people.DOMAIN}",
            phone=f"+1555014{n:04d}",
        )
        for n in range(wanted)
    ]
    Prescriber.objects.bulk_create(made)
    return [(p.pk, str(p)) for p in Prescriber.objects.filter(is_active=True).order_by("pk")]


def _counts(models) -> dict[str, int]:
    counts = {}
    with connection.cursor() as cursor:
        for model in models:
            table = model._meta.db_table
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
    return counts
