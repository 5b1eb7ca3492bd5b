"""Shared fixtures. The suite runs on the database in DATABASE_URL (CI: PostgreSQL) and the broker
in REDIS_URL (CI: Redis). With --require-services (set by .ci/run) a missing service fails the run
instead of letting PostgreSQL- or Redis-backed tests fall back or skip."""

from __future__ import annotations

import os

import pytest
import redis
from django.conf import settings

from clinic import settings_reader
from tests import factories, flush
from tests.integration.delivery_helpers import SmtpSink, use_sink


def pytest_addoption(parser):
    parser.addoption(
        "--require-services",
        action="store_true",
        default=os.environ.get("KAP_REQUIRE_SERVICES") == "1",
        help="Fail unless the suite runs on PostgreSQL and Redis (CI sets this).",
    )


def pytest_configure(config):
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" in engine:
        flush.install()
    if not config.getoption("--require-services"):
        return
    if "postgresql" not in engine:
        raise pytest.UsageError(f"--require-services: DATABASE_URL is not PostgreSQL ({engine}).")
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        raise pytest.UsageError("--require-services: REDIS_URL is not set to a Redis server.")


@pytest.fixture
def redis_url(request) -> str:
    """The real Redis of CI. Without it: a failure under --require-services, else a skip."""
    url = settings.CELERY_BROKER_URL
    if not url.startswith("redis://"):
        if request.config.getoption("--require-services"):
            pytest.fail("REDIS_URL is required for this test (--require-services).")
        pytest.skip("needs REDIS_URL (CI runs it with --require-services)")

    redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    return url


@pytest.fixture
def admin_user(db):
    return factories.AdminFactory(first_name="Alex", last_name="Admin")


@pytest.fixture
def therapist(db):
    return factories.TherapistFactory(first_name="Sam", last_name="Rivera")


@pytest.fixture
def other_therapist(db):
    return factories.TherapistFactory(first_name="Jordan", last_name="Chen")


@pytest.fixture
def client_record(therapist):
    """A client of ``therapist`` with a portal login."""
    return factories.ClientFactory(
        primary_therapist=therapist,
        first_name="Maya",
        last_name="Patel",
        user=factories.ClientUserFactory(first_name="Maya", last_name="Patel"),
    )


@pytest.fixture
def other_client_record(other_therapist):
    return factories.ClientFactory(
        primary_therapist=other_therapist,
        user=factories.ClientUserFactory(),
    )


def sign_in(client, user, *, verified: bool = True):
    """Log ``user`` in on the Django test client; staff also pass two-factor when ``verified``."""
    client.force_login(user)
    if verified and user.is_clinic_staff:
        device = factories.totp_device(user)
        session = client.session
        session["otp_device_id"] = device.persistent_id
        session.save()
    return client


@pytest.fixture
def as_user(client):
    """``as_user(user)`` returns the test client signed in as ``user`` (staff: 2FA passed)."""

    def _as(user, *, verified: bool = True):
        return sign_in(client, user, verified=verified)

    return _as


@pytest.fixture(autouse=True)
def _clinic_settings_cache():
    """Each test starts with no saved clinic settings (the row is rolled back with the test), so
    the reader's cache starts as "no overrides": the server values, read at each call, apply (a
    test's ``settings`` fixture works) and the reader costs no query, so query counts measure the
    page alone. clinic_settings_update clears it; tests/clinic covers the uncached read."""
    settings_reader.prime({})
    yield
    settings_reader.clear()


@pytest.fixture
def sink(settings):
    """A real SMTP server (aiosmtpd) on a free port, with Django's mail pointed at it; it records
    every message it accepts and can be told to misbehave (tests/integration/delivery_helpers)."""
    server = SmtpSink()
    use_sink(settings, server.port)
    yield server
    server.stop()
