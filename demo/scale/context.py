"""The sizes of a generated clinic group for a scale N, and the state the generator's steps share:
the seeded random source, the clock, the calendar grid, the people and their records, and the id
counters of the tables written."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.db import connection, models

from clinic import settings_reader
from demo.scale.grid import Grid
from demo.scale.records import Client, Course, Intake, Person, Prescription, Referral, Session
from sessions.dosing.rules import Thresholds

DAY = 86400
HOUR = 3600
MINUTE = 60


@dataclass(frozen=True)
class Plan:
    """Per N: 50 therapists with about 100 clients each, 2,000 courses, about 100,000 sessions
    and 200,000 audit rows (four in five of them access views). At least two therapists (the
    demo's) whatever N."""

    scale: float
    therapists: int
    admins: int
    clients: int
    courses: int
    sessions: int
    access_events: int
    changes: int

    @classmethod
    def for_scale(cls, scale: float) -> Plan:
        audit = round(200_000 * scale)
        return cls(
            scale=scale,
            therapists=max(2, round(50 * scale)),
            admins=max(0, round(2 * scale)),
            clients=max(10, round(5_000 * scale)),
            courses=max(4, round(2_000 * scale)),
            sessions=max(100, round(100_000 * scale)),
            access_events=round(audit * 0.8),
            changes=audit - round(audit * 0.8),
        )


class Random(random.Random):
    """The seeded source, with randrange and randint from ``random()`` alone: a few times faster
    than the standard ones (which draw bits until a number fits), still fixed by the seed.
    Called about a million times per N."""

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:  # type: ignore[override]
        if stop is None:
            start, stop = 0, start
        return start + int(self.random() * (stop - start))

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))


class Ids:
    """The next id of each table, counted here: each transaction of the seed locks its tables
    and checks that nothing else wrote to them (demo.scale.stages.prepare); the sequences are
    moved past the last id at the end (``finish``)."""

    def __init__(self, models_: list[type[models.Model]]):
        self._next: dict[type[models.Model], int] = {}
        with connection.cursor() as cursor:
            for model in models_:
                table = connection.ops.quote_name(model._meta.db_table)
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
                self._next[model] = cursor.fetchone()[0] + 1
        self._first = dict(self._next)

    def peek(self, model: type[models.Model]) -> int:
        return self._next[model]

    def first(self, model: type[models.Model]) -> int:
        """The first id this seed took (or would have) in the table."""
        return self._first[model]

    def take(self, model: type[models.Model]) -> int:
        value = self._next[model]
        self._next[model] = value + 1
        return value

    def finish(self) -> None:
        with connection.cursor() as cursor:
            for model, value in self._next.items():
                if value == self._first[model]:
                    continue
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)",
                    [model._meta.db_table, value - 1],
                )


@dataclass
class Context:
    plan: Plan
    rng: Random
    now: int
    today: date
    grid: Grid
    ids: Ids
    password: str
    therapists: list[Person] = field(default_factory=list)
    admins: list[Person] = field(default_factory=list)
    clients: list[Client] = field(default_factory=list)
    portal_users: list[Person] = field(default_factory=list)
    courses: list[Course] = field(default_factory=list)
    referrals: list[Referral] = field(default_factory=list)
    prescriptions: list[Prescription] = field(default_factory=list)
    intakes: list[Intake] = field(default_factory=list)
    sessions: list[Session] = field(default_factory=list)
    prescribers: list[tuple[int, str]] = field(default_factory=list)  # (id, str(prescriber))
    new_prescribers: list[int] = field(default_factory=list)
    consent: tuple[int, str] = (0, "")  # the consent document in force: (id, version)
    # (client id, therapist id, granted by id, reason, created, revoked)
    shares: list[tuple[int, int, int, str, int, int | None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.values = settings_reader.current()
        self.thresholds = Thresholds.current()
        self.alert_hours = settings.INTEGRATION_ALERT_HOURS
        self.stale_hours = settings.REMINDER_STALE_HOURS
        self.invitation_days = settings.PORTAL_INVITATION_DAYS

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, items):
        return items[int(self.rng.random() * len(items))]
