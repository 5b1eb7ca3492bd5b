"""Sessions on the therapists' calendars: booking one on the grid (used by the courses for their
preparation, dosing and integration sessions), and each client's weekly or fortnightly
psychotherapy, which fills the rest of a therapist's week up to the plan's number of sessions.

A session that has ended is completed, cancelled (with a reason) or a no-show; one still to come
is scheduled (or cancelled ahead). Only sessions that hold their slot are held on the grid, as
the exclusion constraint counts them."""

from __future__ import annotations

from demo.scale.context import DAY, HOUR, MINUTE, Context
from demo.scale.grid import HOURS
from demo.scale.records import Client, Course, Session

CANCEL_REASONS = (
    "Client unwell",
    "Client asked to reschedule (work)",
    "Therapist unwell",
    "Childcare fell through",
    "Travel; will rebook on return",
    "Snowstorm: office closed",
)
ROOMS = ("Room 2", "Room 3", "Room 4", "Room 5")


def book(
    ctx: Context,
    client: Client,
    kind: str,
    day: int,
    *,
    course: Course | None = None,
    after: int = 0,
    booked: int | None = None,
    follows: Session | None = None,
) -> Session | None:
    """A KAP session placed on the therapist's first free slot from ``day``, booked at
    ``booked`` (else some days before it, never before ``after``). Completed once it ended;
    scheduled until then. None when the window has no room for it."""
    therapist = client.therapist
    dosing = kind == "dosing"
    slot = ctx.grid.place(therapist.id, day, dosing=dosing)
    if slot is None:
        return None
    start = ctx.grid.at(slot[0], slot[1])
    minutes = ctx.values.dosing_session_minutes if dosing else ctx.values.session_minutes
    if booked is None:
        booked = start - ctx.rng.randrange(2, 15) * DAY - ctx.rng.randrange(8 * HOUR)
    booked = min(max(booked, after), start - 10 * MINUTE, ctx.now - MINUTE)
    session = Session(
        client=client,
        therapist=therapist,
        kind=kind,
        start=start,
        minutes=minutes,
        status="scheduled",
        created=booked,
        created_by=therapist,
        course=course,
        follows=follows,
        location="Room 1 (quiet room)" if dosing else ctx.pick(ROOMS),
    )
    if session.end <= ctx.now:
        session.status = "completed"
        session.changed = min(session.end + ctx.rng.randrange(2, 90) * MINUTE, ctx.now)
    client.sessions.append(session)
    ctx.sessions.append(session)
    return session


def make_therapy(ctx: Context) -> None:
    """Each therapist's psychotherapy sessions, after the courses took their slots: the plan's
    sessions per therapist less the KAP ones, shared over the caseload. About a third of the
    clients are in therapy now (sessions ahead on the calendar); the others' therapy ended some
    time in the last 18 months. A client keeps their weekday and hour."""
    rng = ctx.rng
    grid = ctx.grid
    per_therapist = ctx.plan.sessions / len(ctx.therapists)
    caseloads: dict[int, list[Client]] = {}
    for client in ctx.clients:
        caseloads.setdefault(client.therapist.id, []).append(client)
    for therapist in ctx.therapists:
        clients = caseloads.get(therapist.id, [])
        if not clients:
            continue
        kap = sum(1 for c in clients for s in c.sessions)
        budget = max(0.0, per_therapist - kap)
        episodes = []
        for client in clients:
            cadence = 7 if ctx.chance(0.5) else 14
            active = any(c.closed is None for c in client.courses)
            current = active or ctx.chance(0.3)
            last = grid.last if current else rng.randrange(30, grid.today - 7)
            length = rng.randrange(42, 400)
            episodes.append([client, cadence, last, length])
        factor = _stretch(episodes, budget)
        for client, cadence, last, length in episodes:
            first = max(0, last - int(length * factor))
            if last - first < cadence:
                continue
            client.therapy = (first, last, cadence)
            _weekly(ctx, client, first, last, cadence)


def _stretch(episodes: list, budget: float) -> float:
    """The factor on every episode's length that gives ``budget`` sessions in all, once each is
    cut at the start of the window (found by bisection: the count grows with the factor)."""

    def sessions(factor: float) -> int:
        total = 0
        for _, cadence, last, length in episodes:
            span = last - max(0, last - int(length * factor))
            total += span // cadence + 1 if span >= cadence else 0
        return total

    low, high = 0.0, 1.0
    while sessions(high) < budget and high < 64:
        high *= 2
    for _ in range(30):
        middle = (low + high) / 2
        if sessions(middle) < budget:
            low = middle
        else:
            high = middle
    return high


def _weekly(ctx: Context, client: Client, first: int, last: int, cadence: int) -> None:
    rng = ctx.rng
    grid = ctx.grid
    therapist = client.therapist
    hour = ctx.pick(HOURS)
    order = (hour, *HOURS)
    telehealth = ctx.chance(0.3)
    weekday = rng.randrange(5)
    day = first + (weekday - grid.date(first).weekday()) % 7
    while day <= last:
        cancelled = ctx.chance(0.08 if day < grid.today else 0.04)
        slot = grid.place(therapist.id, day, hours=order, until=day + 3, hold=not cancelled)
        day += cadence
        if slot is None:
            continue
        start = grid.at(slot[0], slot[1])
        session = Session(
            client=client,
            therapist=therapist,
            kind="general",
            start=start,
            minutes=ctx.values.session_minutes,
            status="scheduled",
            created=min(start - rng.randrange(1, 22) * DAY - rng.randrange(9 * HOUR), ctx.now),
            created_by=therapist,
            location="" if telehealth else ctx.pick(ROOMS),
            telehealth=f"https://telehealth.example.test/room/{therapist.id}" if telehealth else "",
        )
        if cancelled:
            session.status = "cancelled"
            session.cancel_reason = ctx.pick(CANCEL_REASONS)
            session.changed = max(session.created, start - rng.randrange(2, 72) * HOUR)
            if session.changed > ctx.now:
                session.changed = ctx.now - MINUTE
                session.created = min(session.created, session.changed)
        elif session.end <= ctx.now:
            session.status = "no_show" if ctx.chance(0.06) else "completed"
            session.changed = min(session.end + rng.randrange(2, 120) * MINUTE, ctx.now)
        client.sessions.append(session)
        ctx.sessions.append(session)
        if session.status != "cancelled" and session.end <= ctx.now and ctx.chance(0.18):
            client.scores.append((session.start - rng.randrange(1, 3) * HOUR, _stage(first, day)))


def _stage(first: int, day: int) -> float:
    """How far into care a moment is (0 at the start, 1 after about a year), for scores that
    fall as therapy goes on."""
    return min(1.0, (day - first) / 365)
