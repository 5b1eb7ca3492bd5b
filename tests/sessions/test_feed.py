"""The therapist's calendar feed: the token is stored hashed, one active feed per therapist, a
revoked or replaced address is a 404, R25 event titles (kind and initials only), times in UTC,
and the feed page by role."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from clinic.services import clinic_settings_update
from sessions.calendar import services
from sessions.models import CalendarFeed, SessionStatus
from tests.conftest import sign_in
from tests.factories_sessions import SessionFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


def ics_url(token: str) -> str:
    return reverse("calendar:feed_ics", kwargs={"token": token})


def events(response) -> list:
    return [c for c in Calendar.from_ical(response.content).walk("VEVENT")]


# --- Services ----------------------------------------------------------------------------------


def test_only_the_tokens_hash_is_stored(therapist):
    feed, token = services.feed_create(therapist=therapist, by=therapist)
    assert len(token) >= 43
    feed.refresh_from_db()
    assert feed.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(CalendarFeed.objects.values().get())


def test_a_new_feed_revokes_the_old_one(therapist):
    first, _ = services.feed_create(therapist=therapist, by=therapist)
    second, _ = services.feed_create(therapist=therapist, by=therapist)
    first.refresh_from_db()
    assert first.revoked_at is not None
    assert services.active_feed(therapist=therapist) == second


def test_revoke(therapist):
    services.feed_create(therapist=therapist, by=therapist)
    assert services.feed_revoke(therapist=therapist, by=therapist) == 1
    assert services.active_feed(therapist=therapist) is None
    assert services.feed_revoke(therapist=therapist, by=therapist) == 0


def test_only_a_therapist_makes_their_own_feed(therapist, other_therapist, admin_user):
    with pytest.raises(services.FeedError):
        services.feed_create(therapist=admin_user, by=admin_user)
    with pytest.raises(services.FeedError):
        services.feed_create(therapist=therapist, by=other_therapist)
    with pytest.raises(services.FeedError):
        services.feed_revoke(therapist=therapist, by=admin_user)
    assert not CalendarFeed.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_feed_events_window_and_cancelled(therapist, client_record, other_client_record):
    def at(days):
        return NOW + timedelta(days=days)

    inside = [
        SessionFactory(client=client_record, starts_at=at(-29)),
        SessionFactory(client=client_record, starts_at=at(0)),
        SessionFactory(client=client_record, starts_at=at(179)),
    ]
    SessionFactory(client=client_record, starts_at=at(-31))
    SessionFactory(client=client_record, starts_at=at(181))
    SessionFactory(
        client=client_record,
        starts_at=at(3),
        status=SessionStatus.CANCELLED,
        cancel_reason="Unwell",
    )
    SessionFactory(client=other_client_record, starts_at=at(1))  # another therapist's
    feed, token = services.feed_create(therapist=therapist, by=therapist)
    found_therapist, sessions = services.feed_events(token=token)
    assert found_therapist == therapist
    assert list(sessions) == inside
    feed.refresh_from_db()
    assert feed.last_used_at == NOW


def test_feed_events_unknown_revoked_or_deactivated(therapist):
    assert services.feed_events(token="nope") is None
    _, token = services.feed_create(therapist=therapist, by=therapist)
    therapist.is_active = False
    therapist.save()
    assert services.feed_events(token=token) is None


# --- The .ics ----------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_ics_events_carry_initials_only_in_utc(client, therapist, client_record, settings):
    settings.CLINIC_NAME = "Riverside Practice"
    local = datetime(2026, 3, 12, 10, 0, tzinfo=timezone.get_default_timezone())
    prep = SessionFactory(
        client=client_record,
        kind="preparation",
        starts_at=local,
        location="Room 2",
        telehealth_url="https://video.example.org/room/secret-123",
    )
    dosing = SessionFactory(
        client=client_record, kind="dosing", starts_at=local + timedelta(days=2)
    )
    _, token = services.feed_create(therapist=therapist, by=therapist)
    response = client.get(ics_url(token))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.content.decode()
    # R25: no name, no medication, no telehealth link, and by default not the kind of session.
    for absent in (
        "Maya",
        "Patel",
        "ketamine",
        "Ketamine",
        "secret-123",
        "video.example.org",
        "Dosing",
        "Preparation",
    ):
        assert absent not in body
    assert "X-WR-CALNAME:Riverside Practice" in body
    found = {str(e["UID"]): e for e in events(response)}
    host = "testserver"
    prep_event = found[f"session-{prep.pk}@{host}"]
    assert str(prep_event["SUMMARY"]) == "Session · M.P."
    assert str(found[f"session-{dosing.pk}@{host}"]["SUMMARY"]) == "Session · M.P."
    assert str(prep_event["STATUS"]) == "CONFIRMED"
    assert str(prep_event["LOCATION"]) == "Room 2"
    start = prep_event["DTSTART"].dt
    assert start.utcoffset() == timedelta(0)
    assert start == prep.starts_at
    assert prep_event["DTEND"].dt == prep.ends_at
    # UTC on the wire: "Z" times, no time zone definitions.
    assert re.search(r"DTSTART:20260312T140000Z", body)  # 10:00 New York (EDT) is 14:00 UTC
    assert "VTIMEZONE" not in body
    assert len(found) == 2


def test_uid_is_stable_between_reads(client, therapist, client_record):
    SessionFactory(client=client_record)
    _, token = services.feed_create(therapist=therapist, by=therapist)
    first = [str(e["UID"]) for e in events(client.get(ics_url(token)))]
    second = [str(e["UID"]) for e in events(client.get(ics_url(token)))]
    assert first == second
    assert len(first) == 1


def test_a_telehealth_session_says_telehealth_only(client, therapist, client_record):
    SessionFactory(client=client_record, location="", telehealth_url="https://v.example.org/x")
    _, token = services.feed_create(therapist=therapist, by=therapist)
    (event,) = events(client.get(ics_url(token)))
    assert str(event["LOCATION"]) == "Telehealth"


def test_revoked_and_replaced_tokens_are_404(client, therapist):
    _, old = services.feed_create(therapist=therapist, by=therapist)
    assert client.get(ics_url(old)).status_code == 200
    _, new = services.feed_create(therapist=therapist, by=therapist)
    assert client.get(ics_url(old)).status_code == 404
    assert client.get(ics_url(new)).status_code == 200
    services.feed_revoke(therapist=therapist, by=therapist)
    assert client.get(ics_url(new)).status_code == 404
    assert client.get(ics_url("x" * 43)).status_code == 404


def test_the_feed_needs_no_sign_in_and_ignores_who_is_signed_in(
    client, therapist, other_therapist, client_record
):
    SessionFactory(client=client_record)
    _, token = services.feed_create(therapist=therapist, by=therapist)
    sign_in(client, other_therapist)
    assert len(events(client.get(ics_url(token)))) == 1


# --- The feed page -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["feed", "feed_create", "feed_revoke"])
def test_feed_pages_by_role(client, name, therapist, admin_user, client_record):
    url = reverse(f"calendar:{name}")
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    for user in (admin_user, client_record.user):
        client.logout()
        sign_in(client, user)
        assert client.get(url).status_code == 404, (name, user.role)
        assert client.post(url).status_code == 404, (name, user.role)
    client.logout()
    sign_in(client, therapist)
    assert client.get(url).status_code == (200 if name == "feed" else 405)


def test_feed_page_shows_state_and_the_address_once(client, therapist):
    sign_in(client, therapist)
    page = client.get(reverse("calendar:feed")).content.decode()
    assert "Create a calendar link" in page
    assert "Off." in page

    response = client.post(reverse("calendar:feed_create"))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    page = response.content.decode()
    url = re.search(r'id="feed-url"[^>]*>(http[^<]+\.ics)</textarea>', page).group(1)
    assert url.startswith("http://testserver/calendar/feed/")
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    assert CalendarFeed.objects.get().token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert "shown only this once" in page
    assert client.get(url).status_code == 200

    again = client.get(reverse("calendar:feed")).content.decode()
    assert token not in again
    assert "Make a new link" in again
    assert "Turn off" in again


def test_feed_page_makes_a_new_link_and_turns_it_off(client, therapist):
    sign_in(client, therapist)
    client.post(reverse("calendar:feed_create"))
    client.post(reverse("calendar:feed_create"))
    assert CalendarFeed.objects.filter(revoked_at__isnull=True).count() == 1
    assert CalendarFeed.objects.count() == 2
    response = client.post(reverse("calendar:feed_revoke"))
    assert response.status_code == 302
    assert response["Location"] == reverse("calendar:feed")
    assert not CalendarFeed.objects.filter(revoked_at__isnull=True).exists()


def test_the_https_address_is_built_from_the_request(client, therapist):
    sign_in(client, therapist)
    page = client.post(reverse("calendar:feed_create"), secure=True).content.decode()
    assert ">https://testserver/calendar/feed/" in page


def test_account_page_links_to_the_feed_for_therapists_only(client, therapist, admin_user):
    sign_in(client, therapist)
    assert reverse("calendar:feed") in client.get(reverse("accounts:account")).content.decode()
    client.logout()
    sign_in(client, admin_user)
    assert reverse("calendar:feed") not in client.get(reverse("accounts:account")).content.decode()


def test_another_therapists_feed_is_untouched(client, therapist, other_therapist):
    services.feed_create(therapist=other_therapist, by=other_therapist)
    sign_in(client, therapist)
    client.post(reverse("calendar:feed_revoke"))
    assert services.active_feed(therapist=other_therapist) is not None


def test_the_clinic_may_show_the_session_kind_in_feeds(
    client, therapist, admin_user, client_record
):
    # Clinic settings (R25): an admin's choice, saved like every other setting.
    SessionFactory(
        client=client_record, kind="dosing", starts_at=timezone.now() + timedelta(days=1)
    )
    clinic_settings_update(by=admin_user, calendar_feed_shows_kind=True)
    _, token = services.feed_create(therapist=therapist, by=therapist)
    summaries = [str(e["SUMMARY"]) for e in events(client.get(ics_url(token)))]
    assert summaries == ["Dosing session · M.P."]
