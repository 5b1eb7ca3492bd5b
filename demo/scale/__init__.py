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
COPY through the models' tables (demo.scale.pgcopy), with every constraint and trigger on: the
database checks each row as it would any other (demo.scale.stages: which transactions, two
connections at once). PostgreSQL only."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from demo import seed as demo
from demo.models import ScaleSeed
from demo.scale import courses, people, scores, stages, therapy, write_records, write_sessions
from demo.scale.context import Context, Ids, Plan, Random
from demo.scale.grid import Grid
from demo.scale.names import FIRST, LAST
from demo.scale.pgcopy import Writer
from demo.scale.stages import ScaleError
from patients.models import ConsentDocument, Prescriber
from sessions.models import Session

__all__ = ["SEED", "Plan", "Result", "ScaleError", "build"]

SEED = 2026


@dataclass
class Result:
    plan: Plan
    counts: dict[str, int]
    seconds: float


def build(scale: float, *, seed: int = SEED, log: Callable[[str], None] | None = None) -> Result:
    """Seed the plain demo and a generated group of scale ``scale`` (see demo.scale.stages for
    the transactions). ``log``: told how long each step took (each then waits for the database
    to finish it, so the steps overlap less: a little slower overall)."""
    if connection.vendor != "postgresql":
        raise ScaleError(
            "seed_demo --scale writes with PostgreSQL's COPY: point DATABASE_URL at a "
            "PostgreSQL database (the plain seed_demo works on SQLite)."
        )
    if connection.in_atomic_block:
        raise ScaleError("The scale seed commits as it goes: call it outside a transaction.")
    if scale <= 0:
        raise ScaleError("The scale must be above 0 (e.g. 1, 10, or 0.02 for a tiny group).")
    started = time.monotonic()
    plan = Plan.for_scale(scale)
    clock = stages.Clock(log)
    with transaction.atomic():
        existing = ScaleSeed.objects.first()
        if existing is not None:
            raise ScaleError(
                f"This database already holds a scale seed ({existing}). Seed a fresh "
                "database instead: createdb, migrate, then seed_demo --scale."
            )
        staff = demo.build()
        clock.tick("the plain demo (demo.seed.build)")
        ctx = _context(plan, seed, staff, stages.ALL)
        _generate(ctx)
        write_sessions.number(ctx)
        clock.tick("the group, built in memory")
        with connection.cursor() as cursor:
            stages.prepare(cursor, stages.RECORDS, ctx)
        with Writer(now=ctx.now).abandoned_on_error() as writer:
            write_records.people(ctx, writer)
            clock.tick("people, clients, invitations", writer)
            write_records.records(ctx, writer)
            clock.tick("referrals, prescriptions, intakes, courses", writer)
            safety = scores.write(ctx, writer)
            writer.close()
        clock.tick("questionnaires and alerts")
    try:
        counts = _calendar_and_trail(ctx, safety, clock, seed, started)
    except BaseException:
        stages.forget(ctx)
        raise
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    clock.tick("ANALYZE")
    return Result(plan=plan, counts=counts, seconds=time.monotonic() - started)


def _calendar_and_trail(ctx: Context, safety, clock, seed: int, started: float) -> dict:
    """The calendar on this connection and the audit trail on a second, at once."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            stages.prepare(cursor, stages.CALENDAR, ctx)
        trail = stages.Trail(ctx, seed)
        try:
            with Writer(now=ctx.now).abandoned_on_error() as writer:
                write_sessions.sessions(ctx, writer)
                clock.tick("sessions and notes", writer)
                dosed = write_sessions.charts(ctx, writer, safety)
                clock.tick("dosing charts, readings, doses", writer)
                write_sessions.reminders(ctx, writer, dosed)
                writer.close()
            clock.tick("reminders and their e-mails")
            clock.note(trail.finish() + "audit trail (alongside, on a second connection)")
        finally:
            trail.close()
        ctx.ids.finish()
        counts = stages.counts([*stages.ALL, Prescriber])
        seconds = time.monotonic() - started
        ScaleSeed.objects.create(scale=ctx.plan.scale, seed=seed, seconds=seconds, counts=counts)
    clock.tick("commit")
    return counts


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
    ctx.new_prescribers = [p.pk for p in made]
    return [(p.pk, str(p)) for p in Prescriber.objects.filter(is_active=True).order_by("pk")]
