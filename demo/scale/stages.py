"""How the writing is staged across transactions and connections, and the seed's clock.

The records (people, clients, referrals, courses, questionnaires) are written and committed
first. Then two connections write at once, each in its own transaction: the calendar (sessions,
notes, dosing charts, doses, reminders) on Django's, the audit trail on a second one (it points
only at people and clients, already committed), so the machine's two cores both work: the
session table's exclusion constraint and the trail's indexes are most of the database's work.
The trail commits once the calendar has been written; the calendar commits last, with the
ScaleSeed row. If anything fails, both roll back and the committed records are deleted again,
so a failed seed leaves the database as it was (with the plain demo)."""

from __future__ import annotations

import copy
import os
import threading
import time
from collections.abc import Callable

import psycopg
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models

from accounts.models import User
from audit.models import AccessEvent
from demo.scale import audit
from demo.scale.context import Context, Random
from demo.scale.pgcopy import Writer
from integration.models import IntegrationReminder
from outbox.models import OutboxMessage
from patients.models import (
    Alert,
    Client,
    ClientFlag,
    ClientShare,
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

# Parents before children, in each group.
RECORDS = [
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
]
CALENDAR = [
    Session,
    ProgressNote,
    DosingChart,
    BloodPressureReading,
    DoseAdministration,
    AdverseEvent,
    PrescriberNotice,
    OutboxMessage,
    IntegrationReminder,
]
TRAIL = [AccessEvent, LogEntry]
ALL = list(dict.fromkeys([*RECORDS, *CALENDAR, *TRAIL]))


class ScaleError(Exception):
    """The seed cannot run here, or failed; the message says why."""


def prepare(cursor, tables: list[type[models.Model]], ctx: Context) -> None:
    """Lock the tables for this transaction and check that no one wrote to them since the ids
    were counted; foreign keys checked as each COPY ends, not all at the commit."""
    names = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in tables)
    cursor.execute(f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE")
    for model in tables:
        cursor.execute(
            f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(model._meta.db_table)}"
        )
        if cursor.fetchone()[0] >= ctx.ids.peek(model):
            raise ScaleError(
                f"Something else wrote to {model._meta.db_table} during the seed: seed a "
                "database nothing else uses."
            )
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Trail:
    """The audit trail, made and written on a thread of its own, on a second connection in its
    own transaction. Its random source is its own too (the same seed, another stream), so the
    data does not depend on how the two threads interleave."""

    def __init__(self, ctx: Context, seed: int):
        self.raw = psycopg.connect(**connection.get_connection_params())
        with self.raw.cursor() as cursor:
            prepare(cursor, TRAIL, ctx)
            cursor.execute("SELECT pg_backend_pid()")
            self.backend = cursor.fetchone()[0]
        self.ctx = copy.copy(ctx)
        self.ctx.rng = Random(f"{seed}-audit")
        self.types = {
            model: ContentType.objects.get_for_model(model).id
            for model in (Client, Session, TreatmentCourse, Referral)
        }
        self.writer = Writer(now=ctx.now, raw=self.raw)
        self.error: BaseException | None = None
        self.started = time.monotonic()
        self.thread = threading.Thread(target=self._run, name="seed-audit", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            audit.write(self.ctx, self.writer, self.types)
            self.writer.close()
        except BaseException as error:  # raised again by finish(), on the main thread
            self.error = error

    def finish(self) -> str:
        """Wait for the trail, commit it, and say how long it took."""
        self.thread.join()
        if self.error is not None:
            raise self.error
        self.raw.commit()
        wall = time.monotonic() - self.started
        return f"{wall:7.1f} s  (CPU: database {server_cpu(self.backend):5.1f} s in all)  "

    def close(self) -> None:
        if self.thread.is_alive():
            self.writer.abandon()
            self.thread.join()
        self.raw.close()  # rolls back what was not committed


def forget(ctx: Context) -> None:
    """After a failure: delete the committed records of this seed (ids from the first this seed
    took), children first; the plain demo's rows stay."""
    with connection.cursor() as cursor:
        for model in reversed(RECORDS):
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"DELETE FROM {table} WHERE id >= %s", [ctx.ids.first(model)])
        if ctx.new_prescribers:
            cursor.execute(
                f"DELETE FROM {Prescriber._meta.db_table} WHERE id = ANY(%s)",
                [ctx.new_prescribers],
            )


def counts(tables) -> dict[str, int]:
    found = {}
    with connection.cursor() as cursor:
        for model in tables:
            table = model._meta.db_table
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")
            found[table] = cursor.fetchone()[0]
    return found


def server_cpu(backend: int | None) -> float:
    """CPU seconds of a database server process so far, when it runs on this machine."""
    try:
        with open(f"/proc/{backend}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, TypeError, ValueError):
        return float("nan")


class Clock:
    """Wall time of each step, with the CPU time this process and the database's server process
    spent in it: on a busy shared machine wall time says little about the work itself."""

    def __init__(self, log: Callable[[str], None] | None):
        self.log = log
        self.backend = None
        if log is not None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                self.backend = cursor.fetchone()[0]
        self.last = self._now()

    def _now(self) -> tuple[float, float, float]:
        return time.monotonic(), time.process_time(), server_cpu(self.backend)

    def tick(self, name: str, writer: Writer | None = None) -> None:
        """Log the step just done (after the database has taken all of it)."""
        if self.log is None:
            return
        if writer is not None:
            writer.wait()
        now = self._now()
        wall, python, server = (a - b for a, b in zip(now, self.last, strict=True))
        self.log(f"{wall:7.1f} s  (CPU: python {python:5.1f} s, database {server:5.1f} s)  {name}")
        self.last = now

    def note(self, text: str) -> None:
        if self.log is not None:
            self.log(text)
