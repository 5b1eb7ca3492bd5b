"""Benchmarks (`make bench`): outside `testpaths`, so tests/conftest.py is not loaded here; what
they need of it is below. They measure the real thing: PostgreSQL in DATABASE_URL and Redis in
REDIS_URL are required (as in .ci/run); without them a benchmark fails rather than skips."""

from __future__ import annotations

import pytest
import redis
from django.conf import settings


@pytest.fixture
def services() -> str:
    """The Redis broker URL, once PostgreSQL and Redis are known to be there."""
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        pytest.fail(f"benchmarks need PostgreSQL in DATABASE_URL (got {engine})")
    url = settings.CELERY_BROKER_URL
    if not url.startswith("redis://"):
        pytest.fail("benchmarks need Redis in REDIS_URL")

    redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    return url
