"""The audit trail (R22) of 18 months of use, month by month in time order (ids follow time, as
in a real trail), so the two kinds of the audit page are realistic:

- access views (audit.AccessEvent), most of the trail: the therapist opening a client's record,
  session and dosing chart around each session, lists that write a row per client shown (the
  caseload, the calendar, the dashboard), admins reading records and lists, clients in the
  portal; from the office's or the client's own address;
- changes (django-auditlog's LogEntry): clients created, sessions booked and marked, course
  phases and referral steps, doses and readings charted, each by the person who did it, with the
  fields that changed as auditlog records them (UTC, no zone)."""

from __future__ import annotations

import json
from collections import defaultdict

from auditlog.models import LogEntry
from django.urls import reverse

from audit.models import AccessEvent
from demo.scale.context import DAY, HOUR, MINUTE, Context
from demo.scale.pgcopy import Writer, ts_text
from demo.scale.records import Person, Session
from patients.models import Client, Referral, TreatmentCourse
from sessions.models import Session as SessionModel
from sessions.models import SessionKind

MONTH = 30 * DAY
LABELS = dict(SessionKind.choices)
PHASES = {"intake": "Intake", "referral": "Referral", "preparation": "Preparation"}
PHASES |= {"dosing": "Dosing", "complete": "Complete", "on_hold": "On hold"}
PHASES |= {"discontinued": "Discontinued"}
REFERRAL_STATES = dict(Referral.Status.choices)


class _Paths:
    """The app's own URLs (reverse), with the ids put in per row."""

    def __init__(self):
        marker = 999_999_937

        def path(name: str, **kwargs) -> str:
            return reverse(name, kwargs=kwargs).replace(str(marker), "{}")

        self.client = path("patients:client_detail", client_id=marker)
        self.session = (
            reverse(
                "patients:sessions:detail", kwargs={"client_id": marker, "session_id": marker - 1}
            )
            .replace(str(marker), "{c}")
            .replace(str(marker - 1), "{s}")
        )
        self.chart = (
            reverse(
                "patients:sessions:dosing_chart",
                kwargs={"client_id": marker, "session_id": marker - 1},
            )
            .replace(str(marker), "{c}")
            .replace(str(marker - 1), "{s}")
        )
        self.course = (
            reverse(
                "patients:courses:detail", kwargs={"client_id": marker, "course_id": marker - 1}
            )
            .replace(str(marker), "{c}")
            .replace(str(marker - 1), "{s}")
        )
        self.questionnaires = path("patients:questionnaires:history", client_id=marker)
        self.intake = path("patients:intake:review", client_id=marker)
        self.client_list = reverse("patients:client_list")
        self.calendar = reverse("calendar:week")
        self.dashboard = reverse("reports:dashboard")
        self.reminders = reverse("integration:reminder_list")
        self.portal = reverse("portal:home")
        self.portal_questionnaires = reverse("portal:questionnaires:list")


def write(ctx: Context, writer: Writer, types: dict) -> None:
    """``types``: the content type ids of the models changed (looked up on the main thread:
    this runs on a thread of its own, see demo.scale.stages)."""
    months: dict[int, list[Session]] = defaultdict(list)
    for s in ctx.sessions:
        if s.status != "cancelled" and s.end <= ctx.now:
            months[s.start // MONTH].append(s)
    extra: dict[int, list[tuple]] = defaultdict(list)
    for c in ctx.clients:
        extra[c.created // MONTH].append(("client", c.created, c))
    for course in ctx.courses:
        for index, step in enumerate(course.steps):
            extra[step[3] // MONTH].append(("course", step[3], course, index))
    for r in ctx.referrals:
        for step in r.steps:
            extra[step[4] // MONTH].append(("referral", step[4], r, step))
    total = sum(len(v) for v in months.values()) or 1
    trail = _Trail(ctx, writer, types)
    for month in sorted(set(months) | set(extra)):
        sessions = months.get(month, [])
        share = len(sessions) / total
        trail.views(sessions, round(ctx.plan.access_events * share))
        entries: list[tuple] = []
        _changes(ctx, extra.get(month, []), sessions, round(ctx.plan.changes * share), entries)
        trail.changes(entries)


class _Trail:
    """Writes a month of the trail at a time, in time order."""

    def __init__(self, ctx: Context, writer: Writer, types: dict):
        self.ctx = ctx
        self.paths = _Paths()
        self.caseloads: dict[int, list] = defaultdict(list)
        self.active: dict[int, list] = defaultdict(list)
        for c in ctx.clients:
            self.caseloads[c.therapist.id].append(c)
            if any(k.closed is None for k in c.courses):
                self.active[c.therapist.id].append(c)
        self.access = writer.table(
            AccessEvent,
            ("id", "at", "user_id", "client_id", "page", "path", "method", "ip_address"),
        )
        self.log = writer.table(
            LogEntry,
            (
                "id",
                "content_type_id",
                "object_pk",
                "object_id",
                "object_repr",
                "action",
                "changes",
                "actor_id",
                "remote_addr",
                "timestamp",
                "additional_data",
                "actor_email",
            ),
        )
        self.types = types
        self.events: list[tuple] = []

    def views(self, sessions: list[Session], budget: int) -> None:
        """Rows from lists (a row per client shown) about half, views around sessions about a
        third, the rest admins' and clients' in the portal."""
        rng = self.ctx.rng
        self.events = []
        if sessions:
            mine: dict[int, list[Session]] = defaultdict(list)
            for s in sessions:
                mine[s.therapist.id].append(s)
            while len(self.events) < budget:
                roll = rng.random()
                s = sessions[rng.randrange(len(sessions))]
                if roll < 0.75:
                    self._around(s)
                elif roll < 0.87:
                    self._list(s, mine[s.therapist.id])
                elif roll < 0.92:
                    self._admin(s, sessions)
                else:
                    self._portal(s)
        self.events.sort(key=lambda e: e[0])
        for at, user, client, page, path, method, ip in self.events:
            if at <= self.ctx.now:
                self.access.add(
                    self.ctx.ids.take(AccessEvent), at, user, client, page, path, method, ip
                )

    def _view(self, at: int, user: Person, client, page: str, path: str, method="GET"):
        self.events.append((at, user.id, client.id, page, path, method, user.ip))

    def _around(self, s: Session) -> None:
        """The therapist opens the record before the session and the session page after it;
        a dosing chart is open all through its session."""
        rng = self.ctx.rng
        paths = self.paths
        t, c = s.therapist, s.client
        self._view(
            s.start - rng.randrange(1, 25) * MINUTE,
            t,
            c,
            "Client record",
            paths.client.format(c.id),
        )
        after = s.end + rng.randrange(1, 40) * MINUTE
        self._view(after, t, c, "Session", paths.session.format(c=c.id, s=s.id))
        if s.chart is not None:
            chart = paths.chart.format(c=c.id, s=s.id)
            for minute in (3, 12, 20, 45, 150):
                method = "POST" if minute in (12, 20) else "GET"
                self._view(s.start + minute * MINUTE, t, c, "Dosing chart", chart, method)
        elif s.course is not None and self.ctx.chance(0.5):
            page = paths.course.format(c=c.id, s=s.course.id)
            self._view(after + 2 * MINUTE, t, c, "Treatment course", page)

    def _list(self, s: Session, week: list[Session]) -> None:
        """A list page: one row per client shown (audit.services.access_record_list)."""
        rng = self.ctx.rng
        t = s.therapist
        at = s.start - rng.randrange(30, 600) * MINUTE
        if self.ctx.chance(0.5):
            caseload = self.caseloads[t.id]
            shown = rng.sample(caseload, min(25, len(caseload)))
            page, path = "Client list", self.paths.client_list
        elif self.ctx.chance(0.6):
            shown = list(dict.fromkeys(x.client for x in rng.sample(week, min(20, len(week)))))
            page, path = "Calendar", self.paths.calendar
        else:
            shown = self.active[t.id][:25] or [s.client]
            page, path = "Dashboard", self.paths.dashboard
        for client in shown:
            if client.created <= at:  # a list shows the clients there were then
                self._view(at, t, client, page, path)

    def _admin(self, s: Session, sessions: list[Session]) -> None:
        rng = self.ctx.rng
        admin = self.ctx.pick(self.ctx.admins)
        at = s.start + rng.randrange(-3 * HOUR, 6 * HOUR)
        if self.ctx.chance(0.6):
            self._view(at, admin, s.client, "Client record", self.paths.client.format(s.client.id))
            return
        sample = rng.sample(sessions, min(25, len(sessions)))
        for client in dict.fromkeys(x.client for x in sample):
            self._view(at, admin, client, "Dashboard", self.paths.dashboard)

    def _portal(self, s: Session) -> None:
        user = s.client.user
        if user is None:
            return
        at = s.start - self.ctx.rng.randrange(1, 72) * HOUR
        if at < user.joined:
            return
        page, path = self.ctx.pick(
            (
                ("Portal home", self.paths.portal),
                ("Portal questionnaires", self.paths.portal_questionnaires),
            )
        )
        self._view(at, user, s.client, page, path)

    def changes(self, entries: list[tuple]) -> None:
        entries.sort(key=lambda e: e[0])
        for ts, kind, pk, text, action, diff, actor, client_id in entries:
            if ts > self.ctx.now:
                continue
            self.log.add(
                self.ctx.ids.take(LogEntry),
                self.types[kind],
                str(pk),
                pk,
                text,
                action,
                diff,
                actor.id if actor else None,
                actor.ip if actor else None,
                ts,
                json.dumps({"client_id": client_id}),
                actor.email if actor else None,
            )


def _stamp(ts: int) -> str:
    """A moment as auditlog writes it into ``changes``: UTC without the zone."""
    return ts_text(ts)[:-3]


def _changes(ctx, extra, sessions, budget, entries) -> None:
    """Every client created, course moved and referral step of the month, then sessions booked
    and marked until the month's share of the changes is reached."""
    rng = ctx.rng
    count = 0
    for item in extra:
        kind = item[0]
        if kind == "client":
            c = item[2]
            diff = {
                "id": ["None", str(c.id)],
                "first_name": ["None", c.first],
                "last_name": ["None", c.last],
                "email": ["None", c.email],
                "primary_therapist": ["None", str(c.therapist.id)],
            }
            entries.append(
                (
                    item[1],
                    Client,
                    c.id,
                    f"{c.first} {c.last}",
                    0,
                    json.dumps(diff),
                    c.therapist,
                    c.id,
                )
            )
        elif kind == "course":
            course, index = item[2], item[3]
            before, after, _, ts = course.steps[index]
            label = "Booster course" if course.booster_of else "Course"
            text = f"{label} #{course.id} ({PHASES[after]})"
            if index == 0:
                diff = {
                    "id": ["None", str(course.id)],
                    "phase": ["None", "intake"],
                    "client": ["None", str(course.client.id)],
                }
                action = 0
            else:
                diff = {"phase": [before, after]}
                action = 1
            entries.append(
                (
                    ts,
                    TreatmentCourse,
                    course.id,
                    text,
                    action,
                    json.dumps(diff),
                    course.therapist,
                    course.client.id,
                )
            )
        else:
            r, (before, after, day, reason, ts) = item[2], item[3]
            diff = {"status": [before, after], "status_date": ["None", day.isoformat()]}
            if reason:
                diff["status_reason"] = ["", reason]
            entries.append(
                (
                    ts,
                    Referral,
                    r.id,
                    f"Referral #{r.id} ({REFERRAL_STATES[after]})",
                    1,
                    json.dumps(diff),
                    r.by,
                    r.client.id,
                )
            )
        count += 1
    if not sessions:
        return
    while count < budget:
        s = sessions[rng.randrange(len(sessions))]
        text = f"{LABELS[s.kind]} session #{s.id}"
        created = {
            "id": ["None", str(s.id)],
            "kind": ["None", s.kind],
            "client": ["None", str(s.client.id)],
            "therapist": ["None", str(s.therapist.id)],
            "starts_at": ["None", _stamp(s.start)],
            "ends_at": ["None", _stamp(s.end)],
            "status": ["None", "scheduled"],
        }
        entries.append(
            (s.created, SessionModel, s.id, text, 0, json.dumps(created), s.created_by, s.client.id)
        )
        count += 1
        if s.changed is not None:
            marked = {
                "status": ["scheduled", s.status],
                "status_changed_at": ["None", _stamp(s.changed)],
                "status_changed_by": ["None", str(s.therapist.id)],
            }
            entries.append(
                (
                    s.changed,
                    SessionModel,
                    s.id,
                    text,
                    1,
                    json.dumps(marked),
                    s.therapist,
                    s.client.id,
                )
            )
            count += 1
