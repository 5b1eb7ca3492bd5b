"""Staff and clients: the demo's own accounts (already in the database, given a caseload like
everyone else's), generated therapists and admins, and about 100 clients per therapist, most with a
portal account.

Every generated account shares one password hash, made once (hashing 50,000 passwords would
take hours): the demo password, so any generated therapist, admin or client can sign in too."""

from __future__ import annotations

from datetime import date

from accounts.models import Role, User
from demo.scale.context import DAY, HOUR, Context
from demo.scale.names import FIRST, LAST
from demo.scale.records import Client, Person
from patients.models import Client as ClientModel

DOMAIN = "scale.kapclinic.test"
ZONES = ("America/Chicago", "America/Denver", "America/Los_Angeles", "America/Phoenix")
PORTAL_SHARE = 0.6
SHARE_REASONS = ("Holiday cover", "Co-therapy for couples work", "Supervision", "Parental leave")


def existing_staff(ctx: Context, demo_staff: dict[str, User]) -> None:
    for person in demo_staff.values():
        record = Person(
            id=person.pk,
            email=person.email,
            first=person.first_name,
            last=person.last_name,
            role=person.role,
            joined=int(person.date_joined.timestamp()),
            existing=True,
            ip=_office_ip(ctx),
        )
        (ctx.therapists if person.role == Role.THERAPIST else ctx.admins).append(record)


def _office_ip(ctx: Context) -> str:
    if ctx.chance(0.1):
        return f"2001:db8:{ctx.rng.randrange(1, 0xFFFF):x}::{ctx.rng.randrange(1, 0xFFFF):x}"
    return f"10.{ctx.rng.randrange(1, 20)}.{ctx.rng.randrange(256)}.{ctx.rng.randrange(1, 255)}"


def _home_ip(ctx: Context) -> str:
    net = ctx.pick(("198.51.100", "203.0.113", "192.0.2"))
    return f"{net}.{ctx.rng.randrange(1, 255)}"


def make_staff(ctx: Context) -> None:
    """Therapists up to the plan's number (the demo's two count), and generated admins."""
    rng = ctx.rng
    years = 5 * 365 * DAY
    for role, count in (
        (Role.THERAPIST, ctx.plan.therapists - len(ctx.therapists)),
        (Role.ADMIN, ctx.plan.admins),
    ):
        for n in range(count):
            first, last = ctx.pick(FIRST), ctx.pick(LAST)
            tag = "t" if role == Role.THERAPIST else "a"
            person = Person(
                id=ctx.ids.take(User),
                email=f"{first}.{last}.{tag}{n + 1}@{DOMAIN}".lower(),
                first=first,
                last=last,
                role=role,
                joined=ctx.now - 600 * DAY - rng.randrange(years),
                last_login=ctx.now - rng.randrange(1, 96) * HOUR,
                ip=_office_ip(ctx),
            )
            (ctx.therapists if role == Role.THERAPIST else ctx.admins).append(person)


def make_clients(ctx: Context) -> None:
    """The clients, spread evenly over the therapists (the demo's two included, so their
    caseload looks like everyone's). ``created`` is settled once their history is known."""
    rng = ctx.rng
    therapists = ctx.therapists
    for n in range(ctx.plan.clients):
        first, last = ctx.pick(FIRST), ctx.pick(LAST)
        client = Client(
            id=ctx.ids.take(ClientModel),
            first=first,
            last=last,
            email=f"{first}.{last}.{n + 1}@{DOMAIN}".lower(),
            phone=f"+1555{3_000_000 + n:07d}",
            born=date(1950 + rng.randrange(54), 1 + rng.randrange(12), 1 + rng.randrange(28)),
            therapist=therapists[n % len(therapists)],
            created=ctx.now,
            zone=ctx.pick(ZONES) if ctx.chance(0.12) else "",
            severity=rng.randint(8, 22),
        )
        ctx.clients.append(client)


def settle_clients(ctx: Context) -> None:
    """Once their sessions and courses are known: when each client record was made (before
    anything else of theirs), their portal accounts, and shares with a second therapist."""
    rng = ctx.rng
    for client in ctx.clients:
        first = min(
            [s.created for s in client.sessions]
            + [c.opened for c in client.courses]
            + [ts for ts, _ in client.scores]
            + [ctx.now - 3 * DAY],
        )
        client.created = first - rng.randrange(1, 21) * DAY - rng.randrange(8 * HOUR)
        if client.archived is None and ctx.chance(PORTAL_SHARE):
            joined = min(client.created + rng.randrange(1, 10) * DAY, ctx.now - HOUR)
            client.user = Person(
                id=ctx.ids.take(User),
                email=client.email,
                first=client.first,
                last=client.last,
                role=Role.CLIENT,
                joined=joined,
                last_login=joined + rng.randrange(max(1, ctx.now - joined)),
                ip=_home_ip(ctx),
            )
            ctx.portal_users.append(client.user)
        elif client.archived is None and ctx.chance(0.08):
            client.invited = ctx.now - rng.randrange(1, ctx.invitation_days * 24) * HOUR
        if len(ctx.therapists) > 1 and ctx.chance(0.015):
            other = ctx.pick([t for t in ctx.therapists if t is not client.therapist][:50])
            created = client.created + rng.randrange(max(DAY, ctx.now - client.created))
            revoked = created + rng.randrange(14, 60) * DAY if ctx.chance(0.5) else None
            if revoked is not None and revoked >= ctx.now:
                revoked = None
            ctx.shares.append(
                (
                    client.id,
                    other.id,
                    ctx.admins[0].id,
                    ctx.pick(SHARE_REASONS),
                    created,
                    revoked,
                )
            )


def archive_some(ctx: Context, share: float = 0.04) -> None:
    """R24: clients who left are archived, never deleted: those with no active course and no
    session to come, a week or more after their last session."""
    rng = ctx.rng
    wanted = round(len(ctx.clients) * share)
    candidates = []
    for client in ctx.clients:
        if any(c.closed is None for c in client.courses):
            continue
        last = max(
            [s.end for s in client.sessions] + [c.closed or 0 for c in client.courses], default=0
        )
        if last == 0 or last > ctx.now - 21 * DAY:
            continue
        candidates.append((client, last))
    for client, last in rng.sample(candidates, min(wanted, len(candidates))):
        client.archived = min(last + rng.randrange(7, 60) * DAY, ctx.now - DAY)
        client.archived_reason = ctx.pick(
            (
                "Moved out of state",
                "Therapy completed; discharged",
                "Transferred to another practice",
                "No contact for three months",
            )
        )


CHAPERONES = ("Robin", "Sam", "Alex", "Jamie", "Chris", "Dana", "Pat")


def chaperone_of(client: Client) -> str:
    """The person who takes the client home after a dosing session (R15)."""
    return f"{CHAPERONES[client.id % len(CHAPERONES)]} {client.last}"
