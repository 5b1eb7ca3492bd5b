"""The per-request floor (issue 13): a page saves the session at most once a minute and checks the
two-factor device only then, while the R22 rules hold as before: the idle logoff, the 12 hours
from sign-in, and a two-factor reset that takes effect on a signed-in session."""

from __future__ import annotations

import time

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.middleware import LAST_ACTIVITY_KEY, SIGNED_IN_KEY
from tests import factories
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db
PAGE = reverse("accounts:account")
START = "2026-11-21 09:00:00Z"


def _get(client, url: str = PAGE) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return [query["sql"] for query in queries.captured_queries]


def _saves(statements: list[str]) -> int:
    return sum(sql.startswith('UPDATE "django_session"') for sql in statements)


def _device_reads(statements: list[str]) -> int:
    return sum('FROM "otp_totp_totpdevice"' in sql for sql in statements)


def test_signing_in_is_activity_and_starts_the_12_hours(client, therapist):
    with time_machine.travel(START, tick=False):
        response = client.post(
            reverse("accounts:login"),
            {"username": therapist.email, "password": factories.PASSWORD},
        )
        assert response.status_code == 302
        session = client.session
        assert session[SIGNED_IN_KEY] == session[LAST_ACTIVITY_KEY] == time.time()


@pytest.mark.parametrize("role", ["client", "therapist"])
def test_a_page_saves_the_session_at_most_once_a_minute(client, role, client_record, therapist):
    user = client_record.user if role == "client" else therapist
    with time_machine.travel(START, tick=False) as clock:
        sign_in(client, user)
        for _ in range(3):
            clock.shift(19)
            assert _saves(_get(client)) == 0
        clock.shift(4)  # 61 seconds after the sign-in
        assert _saves(_get(client)) == 1
        assert client.session[LAST_ACTIVITY_KEY] == time.time()
        clock.shift(59)
        assert _saves(_get(client)) == 0


def test_the_two_factor_device_is_read_only_when_the_session_is_saved(client, therapist):
    with time_machine.travel(START, tick=False) as clock:
        sign_in(client, therapist)
        statements = _get(client)
        assert (_device_reads(statements), _saves(statements)) == (0, 0)
        clock.shift(61)
        statements = _get(client)
        assert (_device_reads(statements), _saves(statements)) == (1, 1)


def test_a_two_factor_reset_ends_the_verified_session_within_a_minute(client, therapist):
    """The admin's reset (a lost phone) deletes the devices; the session in use was verified with
    one of them and stops counting as verified at its next check."""
    record = factories.ClientFactory(primary_therapist=therapist)
    page = reverse("patients:client_detail", kwargs={"client_id": record.pk})
    with time_machine.travel(START, tick=False) as clock:
        sign_in(client, therapist)
        assert client.get(page).status_code == 200
        TOTPDevice.objects.filter(user=therapist).delete()
        clock.shift(61)
        response = client.get(page)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:two_factor_setup"))


def test_the_idle_logoff_is_never_late(client, therapist, settings):
    """Activity is written at most once a minute, so the logoff can come up to a minute early
    after the last request, never later than the timeout after the last write."""
    settings.IDLE_TIMEOUT_SECONDS = 15 * 60
    with time_machine.travel(START, tick=False) as clock:
        sign_in(client, therapist)
        clock.shift(50)
        _get(client)  # not written: 50 s after the sign-in
        clock.shift(15 * 60 - 50 + 1)
        response = client.get(PAGE)
    assert response.status_code == 302
    assert "timeout=1" in response["Location"]
