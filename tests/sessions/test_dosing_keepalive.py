"""R22 and the dosing day: an open dosing chart of a session under way keeps its therapist signed
in (its ping), where 15 idle minutes used to sign them out with the client dosing; any sign-in
still ends 12 hours after it began, and the ping keeps nothing else alive."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.middleware import KEEPALIVE_HEADER
from sessions.dosing.services import chart_defer
from tests.conftest import sign_in
from tests.factories_sessions import dosing_ready_session
from tests.sessions.dosing_helpers import prepare

pytestmark = pytest.mark.django_db
LOGIN = reverse("accounts:login")
PING = {"headers": {KEEPALIVE_HEADER: "1"}}


@pytest.fixture
def dosing(settings):
    settings.IDLE_TIMEOUT_SECONDS = 15 * 60
    with time_machine.travel("2026-03-03 14:00:00Z", tick=False) as clock:
        session = dosing_ready_session()
        prepare(session, now=timezone.now())
        yield session, clock


def urls(session):
    kwargs = {"client_id": session.client_id, "session_id": session.pk}
    return (
        reverse("patients:sessions:dosing_chart", kwargs=kwargs),
        reverse("patients:sessions:dosing_keepalive", kwargs=kwargs),
    )


def test_the_open_chart_keeps_its_therapist_signed_in_through_the_dose(client, dosing):
    session, clock = dosing
    chart, ping = urls(session)
    sign_in(client, session.therapist)
    page = client.get(chart).content.decode()
    assert f'data-keepalive-url="{ping}"' in page
    for _ in range(40):  # 40 minutes with the chart open and nothing typed
        clock.shift(60)
        assert client.post(ping, **PING).status_code == 204
    assert client.get(chart).status_code == 200  # still signed in


def test_without_the_ping_the_idle_logoff_still_applies(client, dosing):
    session, clock = dosing
    chart, _ping = urls(session)
    sign_in(client, session.therapist)
    client.get(chart)
    clock.shift(15 * 60 + 1)
    response = client.get(chart)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_a_ping_elsewhere_counts_for_nothing(client, dosing):
    """The header on any other request does not count as activity: only the chart's view can
    keep a sign-in alive, and only for a chart in progress."""
    session, clock = dosing
    record = reverse("patients:client_detail", kwargs={"client_id": session.client_id})
    sign_in(client, session.therapist)
    client.get(record)
    for _ in range(16):
        clock.shift(60)
        client.get(record, **PING)
    assert client.get(record).status_code == 302


def test_a_closed_chart_answers_409_and_keeps_nothing_alive(client, dosing):
    session, clock = dosing
    chart, ping = urls(session)
    chart_defer(session=session, by=session.therapist, note="Unwell today")
    sign_in(client, session.therapist)
    assert "data-keepalive-url" not in client.get(chart).content.decode()
    for _ in range(16):
        clock.shift(60)
        assert client.post(ping, **PING).status_code in (409, 302)
    assert client.get(chart).status_code == 302


def test_long_past_its_end_the_chart_stops_keeping_alive(client, dosing):
    session, clock = dosing
    _chart, ping = urls(session)
    # Signed in then (signing in is activity): the sign-in is fresh, the chart is not.
    clock.move_to(session.ends_at + timedelta(hours=2, minutes=1))
    sign_in(client, session.therapist)
    client.get(reverse("accounts:account"))
    assert client.post(ping, **PING).status_code == 409


def test_the_ping_by_role(client, dosing, other_therapist, admin_user):
    session, _clock = dosing
    _chart, ping = urls(session)
    assert client.post(ping).status_code == 302  # anonymous: to sign-in
    for user, code in ((other_therapist, 404), (session.client.user, 404), (admin_user, 204)):
        client.logout()
        sign_in(client, user)
        assert client.post(ping, **PING).status_code == code, user


def test_every_sign_in_ends_12_hours_after_it_began_whatever_the_activity(
    client, therapist, settings
):
    """The 12 hours were a sliding window (the session was saved on every request)."""
    settings.IDLE_TIMEOUT_SECONDS = 60 * 60
    page = reverse("accounts:account")
    with time_machine.travel("2026-03-03 06:00:00Z", tick=False) as clock:
        sign_in(client, therapist)
        for _ in range(24):
            assert client.get(page).status_code == 200
            clock.shift(30 * 60 - 1)
        clock.shift(60)
        response = client.get(page)
    assert response.status_code == 302
    assert "timeout=12h" in response["Location"]
    login = client.get(response["Location"]).content.decode()
    assert "signed in for 12 hours" in login
