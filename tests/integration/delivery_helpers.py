"""Real delivery for the reminder tests and the benchmark: an SMTP server (aiosmtpd) on a free
localhost port that records every message it accepts, due reminder rows made in bulk, and Celery
workers started as real processes on the test database and the test Redis.

Shared by tests/integration/test_delivery.py and benchmarks/."""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection

from integration.models import IntegrationReminder, ReminderKind
from sessions.models import BloodPressureReading, DoseAdministration, Session, SessionKind
from tests.factories import ClientFactory, ClientUserFactory, TherapistFactory
from tests.factories_sessions import course_ready_for_dosing

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A localhost port nothing listens on (for the sink, or for 'connection refused')."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Received:
    message_id: str
    recipients: tuple[str, ...]
    subject: str
    text: str  # every text part (plain and HTML), decoded
    raw: bytes


class SinkHandler:
    """aiosmtpd handler. ``reply``: answer DATA with this line instead of accepting (a 451 or
    550 test); ``rcpt_reply``: refuse the recipient with it; ``delay``: seconds per message before
    the answer (slow server); ``hold_after``: once that many messages are accepted, the next DATA
    gets no answer until ``release()`` (a worker to be killed while it waits: the message is not
    accepted, as with a real server when the client dies before the end of DATA);
    ``hold_quit_after``: the same at the QUIT after that many accepted messages;
    ``hold_reply_after``: the message that makes that many is recorded (delivered) and its "250"
    held back (the sender dies after the server has taken it, before it hears so: the window in
    which SMTP can duplicate a message); ``drop_after_data``: record the message, then close the
    connection without an answer; ``on_data``: called with each message's bytes just before it
    is accepted. ``ehlos`` and ``quits`` count the connections."""

    def __init__(self) -> None:
        # What the server accepted, as it came (parsed when a test reads it: parsing as it
        # arrives would hold the "250" back by milliseconds per message, and a benchmark would
        # time our parser instead of the dispatcher).
        self._accepted: list[tuple[bytes, tuple[str, ...]]] = []
        self._parsed: list[Received] = []
        self.attempts = 0  # DATA commands seen, accepted or not
        self.reply: str | None = None
        self.rcpt_reply: str | None = None
        self.delay = 0.0
        self.hold_after: int | None = None
        self.hold_quit_after: int | None = None
        self.hold_reply_after: int | None = None
        self.drop_after_data = False
        # Called with the message's bytes at the end of each DATA, before the answer (a test
        # looks at the database at the moment of acceptance).
        self.on_data = None
        self.ehlos = 0
        self.quits = 0
        self.holding = threading.Event()
        self._released = threading.Event()
        self._lock = threading.Lock()
        self._parsing = threading.Lock()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        with self._lock:
            self.ehlos += 1
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.attempts += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.hold_after is not None and self.count >= self.hold_after:
            self.holding.set()
            while not self._released.is_set():
                await asyncio.sleep(0.02)
            return "421 4.3.2 Shutting down"
        if self.reply:
            return self.reply
        if self.on_data is not None:
            # On a thread of its own: Django refuses database work inside the event loop.
            await asyncio.to_thread(self.on_data, envelope.content)
        with self._lock:
            self._accepted.append((envelope.content, tuple(envelope.rcpt_tos)))
        if self.drop_after_data:
            server.transport.close()
            return "250 2.0.0 Accepted (never heard)"
        if self.hold_reply_after is not None and self.count >= self.hold_reply_after:
            self.holding.set()
            while not self._released.is_set():
                await asyncio.sleep(0.02)
        return "250 2.0.0 Accepted"

    async def handle_QUIT(self, server, session, envelope):
        with self._lock:
            self.quits += 1
        # After the answer to DATA: the message is accepted and the client only says goodbye.
        if self.hold_quit_after is not None and self.count >= self.hold_quit_after:
            self.holding.set()
            while not self._released.is_set():
                await asyncio.sleep(0.02)
        return "221 Bye"

    def release(self) -> None:
        self._released.set()

    # What the tests ask.
    @property
    def count(self) -> int:
        return len(self._accepted)

    @property
    def received(self) -> list[Received]:
        """Every accepted message, parsed, in the order accepted."""
        with self._parsing:  # one reader parses at a time; the server goes on accepting
            with self._lock:
                new = self._accepted[len(self._parsed) :]
            self._parsed += [_parse(raw, recipients) for raw, recipients in new]
            return list(self._parsed)

    def message_ids(self) -> list[str]:
        return [message.message_id for message in self.received]

    def duplicates(self) -> dict[str, int]:
        """Message-IDs received more than once, with how often."""
        return {mid: n for mid, n in Counter(self.message_ids()).items() if n > 1}

    def wait_for(self, count: int, *, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.count < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"the SMTP server got {self.count} of {count} messages")
            time.sleep(0.02)


def _parse(raw: bytes, recipients: tuple[str, ...]) -> Received:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    texts = [
        part.get_content()
        for part in message.walk()
        if part.get_content_maintype() == "text" and not part.is_multipart()
    ]
    return Received(
        message_id=str(message["Message-ID"]),
        recipients=recipients,
        subject=str(message["Subject"]),
        text="\n".join(texts),
        raw=raw,
    )


class SmtpSink:
    """A running SMTP server on 127.0.0.1:``port``; ``stop()`` ends it."""

    def __init__(self) -> None:
        # aiosmtpd logs every command at INFO: too much for a test's output.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self.handler = SinkHandler()
        self.port = free_port()
        self.controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, server_hostname="sink.localhost"
        )
        self.controller.start()

    # The handler's settings and records read and written through the sink: sink.reply = ...
    def __getattr__(self, name):
        return getattr(self.__dict__["handler"], name)

    def __setattr__(self, name, value):
        if "handler" in self.__dict__ and hasattr(self.handler, name):
            setattr(self.handler, name, value)
        else:
            super().__setattr__(name, value)

    def stop(self) -> None:
        self.handler.release()
        self.controller.stop()


def use_sink(settings_fixture, port: int) -> None:
    """Point Django's mail (this process and start_worker threads) at the sink."""
    settings_fixture.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings_fixture.EMAIL_HOST = "127.0.0.1"
    settings_fixture.EMAIL_PORT = port
    settings_fixture.EMAIL_USE_TLS = False
    settings_fixture.EMAIL_USE_SSL = False
    settings_fixture.EMAIL_HOST_USER = ""
    settings_fixture.EMAIL_HOST_PASSWORD = ""
    settings_fixture.EMAIL_TIMEOUT = 10


# --- Due reminders in bulk --------------------------------------------------------------------


def due_reminders(count: int, *, now: datetime, per_dose: int = 4, clients: int = 1) -> list[int]:
    """``count`` client reminders due one minute before ``now``, ``per_dose`` to a dose (days
    1..per_dose: one reminder per dose and day, R8), on doses written directly: each client's
    dosing sessions 15 days apart from a month back (R6: the dose gate refuses doses closer),
    each with an in-range pre-dose reading ten minutes before its dose (the PostgreSQL dose gate
    checks it, R11). ``clients`` clients share the doses, each with a real course and
    prescription made by the services. Returns the ids."""
    doses_needed = -(-count // per_dose)
    courses = []
    for _ in range(clients):
        client = ClientFactory(primary_therapist=TherapistFactory(), user=ClientUserFactory())
        courses.append(course_ready_for_dosing(client))
    # Before the course's preparation sessions (weekly, up to three weeks back): no clash.
    base = now.replace(minute=0, second=0, microsecond=0) - timedelta(days=30)
    sessions = Session.objects.bulk_create(
        Session(
            client=courses[n % clients][0].client,
            course=courses[n % clients][0],
            therapist=courses[n % clients][0].therapist,
            kind=SessionKind.DOSING,
            # Per client 15 days apart, going back (R6), so never two at once either.
            starts_at=base - timedelta(days=15 * (n // clients)),
            ends_at=base - timedelta(days=15 * (n // clients)) + timedelta(minutes=180),
            location="Room 2",
            created_by=courses[n % clients][0].therapist,
        )
        for n in range(doses_needed)
    )
    readings = BloodPressureReading.objects.bulk_create(
        BloodPressureReading(
            session=session,
            moment="pre_dose",
            systolic=122,
            diastolic=78,
            taken_at=session.starts_at + timedelta(minutes=20),
            result="in_range",
            defer_systolic=settings.BP_DEFER_SYSTOLIC,
            defer_diastolic=settings.BP_DEFER_DIASTOLIC,
            hard_stop_systolic=settings.BP_HARD_STOP_SYSTOLIC,
            hard_stop_diastolic=settings.BP_HARD_STOP_DIASTOLIC,
            recorded_by=session.therapist,
        )
        for session in sessions
    )
    prescriptions = {course.pk: prescription for course, prescription in courses}
    doses = DoseAdministration.objects.bulk_create(
        DoseAdministration(
            session=session,
            prescription=prescriptions[session.course_id],
            pre_dose_reading=reading,
            given_at=session.starts_at + timedelta(minutes=30),
            dose_mg=prescriptions[session.course_id].dose_mg,
            tablets=1,
            recorded_by=session.therapist,
        )
        for session, reading in zip(sessions, readings, strict=True)
    )
    due = now - timedelta(minutes=1)
    rows = [
        IntegrationReminder(
            dose=dose,
            client_id=dose.session.client_id,
            course_id=dose.session.course_id,
            kind=ReminderKind.CLIENT,
            day=day,
            due_at=due,
            not_before=due,
            message_id=f"<client-reminder-{uuid.uuid4().hex}@localhost>",
        )
        for dose in doses
        for day in range(1, per_dose + 1)
    ][:count]
    return [row.pk for row in IntegrationReminder.objects.bulk_create(rows, batch_size=2000)]


# --- Celery workers as real processes ------------------------------------------------------------


def database_url_for_tests() -> str:
    """The database the test runs on (pytest-django's test_<name>), as a DATABASE_URL."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def worker_env(*, smtp_port: int, lease_seconds: int = 300, **extra: str) -> dict[str, str]:
    """Production settings (DEBUG off: EMAIL_URL is read; test_settings would force the locmem
    backend), on the test database, the test Redis and the sink."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "CELERY_", "EMAIL_", "REMINDER_", "OUTBOX_"))
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "kap_clinic.settings",
        "DEBUG": "false",
        "SECRET_KEY": "worker-under-test-" + "k" * 48,
        "ALLOWED_HOSTS": "localhost",
        "DATABASE_URL": database_url_for_tests(),
        "REDIS_URL": settings.CELERY_BROKER_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "OUTBOX_LEASE_SECONDS": str(lease_seconds),
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    return env | extra


class WorkerProcess:
    """``celery -A kap_clinic worker --pool=solo`` in a subprocess, named ``name``."""

    def __init__(self, name: str, env: dict[str, str]) -> None:
        self.name = f"{name}-{uuid.uuid4().hex[:6]}@localhost"
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        celery = Path(sys.executable).parent / "celery"
        self.process = subprocess.Popen(
            [
                str(celery),
                "-A",
                "kap_clinic",
                "worker",
                "--pool=solo",
                "--concurrency=1",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=WARNING",
                "-n",
                self.name,
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, app, *, timeout: float = 30) -> None:
        """Until the worker answers a broadcast ping (it consumes from the broker by then)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"worker {self.name} exited:\n{self.output()}")
            if app.control.ping(destination=[self.name], timeout=0.5):
                return
        raise AssertionError(f"worker {self.name} not ready in {timeout} s:\n{self.output()}")

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-4000:]

    def kill(self) -> None:
        """SIGKILL: no cleanup, no ack, connections dropped mid-conversation."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        self.kill()
        self.log.close()


def purge_broker(app) -> None:
    """Forget tasks queued by earlier tests."""
    app.control.purge()
