"""What the generator builds in memory before writing: one small object per row that other rows
point at (people, clients, courses, sessions ...). Times are UTC seconds, days ``date``s; ids are
given when the rows are written (sessions in the order they were booked, like a real clinic's)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True, eq=False)
class Person:
    id: int
    email: str
    first: str
    last: str
    role: str
    joined: int
    last_login: int | None = None
    existing: bool = False  # a demo account, already in the database
    ip: str = ""


@dataclass(slots=True, eq=False)
class Client:
    id: int
    first: str
    last: str
    email: str
    phone: str
    born: object
    therapist: Person
    created: int
    zone: str = ""
    user: Person | None = None
    archived: int | None = None
    archived_reason: str = ""
    # Days (grid numbers) of the client's weekly therapy, first and last; None: no therapy.
    therapy: tuple[int, int, int] | None = None  # (first day, last day, cadence in days)
    sessions: list[Session] = field(default_factory=list)
    courses: list[Course] = field(default_factory=list)
    # PHQ-9/GAD-7 moments: (ts, stage) where stage 0..1 runs from baseline to the end of care.
    scores: list[tuple[int, float]] = field(default_factory=list)
    intake: Intake | None = None
    prescription: Prescription | None = None  # the one in force
    severity: int = 15  # baseline PHQ-9 total
    invited: int | None = None


@dataclass(slots=True, eq=False)
class Referral:
    id: int
    client: Client
    prescriber: int
    by: Person
    created: int
    status: str = "draft"
    status_date: object = None
    status_reason: str = ""
    updated: int = 0
    # (from, to, day, reason, ts)
    steps: list[tuple[str, str, object, str, int]] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class Prescription:
    id: int
    client: Client
    referral: Referral
    prescriber: int
    by: Person
    created: int
    received: object
    valid_until: object
    dose_mg: int
    tablets: int
    doses: int
    min_days: int
    route: str
    form: str
    supersedes: Prescription | None = None
    superseded_at: int | None = None


@dataclass(slots=True, eq=False)
class Course:
    id: int
    client: Client
    therapist: Person
    opened: int
    booster_of: Course | None = None
    phase: str = "intake"
    before_hold: str = ""
    referral: Referral | None = None
    closed: int | None = None
    # (from, to, reason, ts)
    steps: list[tuple[str, str, str, int]] = field(default_factory=list)

    def move(self, to: str, ts: int, reason: str = "") -> None:
        self.steps.append((self.phase, to, reason, ts))
        if to == "on_hold":
            self.before_hold = self.phase
        elif self.phase == "on_hold":
            self.before_hold = ""
        self.phase = to
        if to in ("complete", "discontinued"):
            self.closed = ts


@dataclass(slots=True, eq=False)
class Intake:
    id: int
    client: Client
    created: int
    answers: str  # JSON text
    last_step: str
    submitted: int | None = None
    reviewed: int | None = None
    reviewer: Person | None = None
    # (code, evidence JSON text)
    flags: list[tuple[str, str]] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class Reading:
    moment: str
    systolic: int
    diastolic: int
    pulse: int
    taken: int
    result: str


@dataclass(slots=True, eq=False)
class Chart:
    """A dosing session's chart: readings, the dose (or the deferral), events, discharge."""

    prescription: Prescription
    opened: int
    readings: list[Reading]
    outcome: str  # discharged | deferred
    deferral_reason: str = ""
    deferral_note: str = ""
    deferred: int | None = None
    given: int | None = None  # the dose's time, None when deferred
    pre_dose: int = -1  # index of the reading the dose stands on
    discharged: int | None = None
    pickup: int | None = None
    adverse: list[tuple[str, str, int, str]] = field(default_factory=list)
    notice_done: int | None = None  # a hard stop's prescriber notice, when done
    integration: Session | None = None  # the integration session booked for the dose
    dose_id: int = 0
    reading_ids: list[int] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class Session:
    client: Client
    therapist: Person
    kind: str
    start: int
    minutes: int
    status: str
    created: int
    created_by: Person
    course: Course | None = None
    changed: int | None = None
    cancel_reason: str = ""
    follows: Session | None = None
    location: str = ""
    telehealth: str = ""
    chart: Chart | None = None
    id: int = 0

    @property
    def end(self) -> int:
        return self.start + self.minutes * 60
