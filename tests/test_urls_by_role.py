"""URL × role, generated from the URL conf: every view added later is covered automatically.

- anonymous: every non-public URL redirects to sign-in;
- a client: every staff URL is a 404 (no hint that it exists);
- staff: every portal URL is a 404;
- a therapist: any URL naming another therapist's client is a 404;
- staff who have not passed two-factor reach nothing but the two-factor pages.
"""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.middleware import TWO_FACTOR_OPEN_URLS
from audit.models import AccessEvent
from sessions.calendar.services import feed_create
from tests.conftest import sign_in
from tests.factories_integration import planned_dose
from tests.factories_sessions import SessionFactory
from tests.patients.questionnaire_helpers import PHQ9_ITEM9, submit

# Pages anyone may open: sign-in, password reset, health check.
PUBLIC = {
    "accounts:login",
    "accounts:password_reset",
    "accounts:password_reset_done",
    "accounts:password_reset_confirm",
    "accounts:password_reset_complete",
    "healthz",
    "invitation_accept",
    "calendar:feed_ics",
    # A reminder's links: answer the appointment, stop reminders (tests/sessions/test_replies.py,
    # tests/patients/test_reminder_choice.py).
    "session_reply",
    "reminders_stop",
}
# Public pages that need a valid token to show their form (tested in their own modules).
TOKEN_PAGES = {
    "accounts:password_reset_confirm",
    "invitation_accept",
    "calendar:feed_ics",
    "session_reply",
    "reminders_stop",
}
# Pages every signed-in person has, whatever the role.
EVERYONE = {
    "home",
    "help",
    "accounts:logout",
    "accounts:account",
    "accounts:password_change",
    "accounts:password_change_done",
}
# Staff-only account pages (two-factor management).
STAFF_ACCOUNT = {
    "accounts:two_factor_setup",
    "accounts:two_factor_verify",
    "accounts:backup_codes",
}
NEEDS_POST = {"accounts:logout"}


class _Route:
    """A URL pattern with the route of every include above it (e.g. the ``<int:client_id>/`` of
    ``clients/<int:client_id>/questionnaires/``), so nested pages are recognised too."""

    def __init__(self, pattern: str):
        self.pattern = pattern


def _walk(patterns, namespace="", prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            yield from _walk(
                entry.url_patterns,
                f"{namespace}{ns}:" if ns else namespace,
                prefix + str(entry.pattern),
            )
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", _Route(prefix + str(entry.pattern))


def all_url_names():
    return sorted({name for name, _ in _walk(get_resolver().url_patterns)})


def url_for(name: str, *, client_id: int = 0) -> str:
    pattern = dict(_walk(get_resolver().url_patterns))[name]
    params = re.findall(r"<(?:(\w+):)?(\w+)>", str(pattern.pattern))
    kwargs = {}
    for converter, param in params:
        if param == "client_id":
            kwargs[param] = client_id
        elif converter == "int":
            kwargs[param] = 1
        else:
            kwargs[param] = "x"
    return reverse(name, kwargs=kwargs)


def _other_params(name: str) -> list[str]:
    pattern = str(dict(_walk(get_resolver().url_patterns))[name].pattern)
    return [p for p in re.findall(r"<(?:\w+:)?(\w+)>", pattern) if p != "client_id"]


def names_with_client_id():
    return [
        n
        for n in all_url_names()
        if "client_id" in str(dict(_walk(get_resolver().url_patterns))[n].pattern)
    ]


STAFF_URLS = [
    n
    for n in all_url_names()
    if n not in PUBLIC | EVERYONE | STAFF_ACCOUNT and not n.startswith("portal:")
]
PORTAL_URLS = [n for n in all_url_names() if n.startswith("portal:")]
ADMIN_ONLY = [n for n in all_url_names() if n.startswith(("staff:", "audit:", "clinic:"))]


def test_the_conf_has_the_pages_we_expect():
    # Guards the generator itself: if it found nothing, every test below would pass vacuously.
    assert "patients:client_detail" in STAFF_URLS
    assert "audit:audit_log" in STAFF_URLS
    assert "portal:home" in PORTAL_URLS
    assert "patients:client_detail" in names_with_client_id()


@pytest.mark.django_db
@pytest.mark.parametrize("name", [n for n in all_url_names() if n not in PUBLIC])
def test_anonymous_is_sent_to_sign_in(client, name, client_record):
    url = url_for(name, client_id=client_record.pk)
    response = client.post(url) if name in NEEDS_POST else client.get(url)
    if name == "accounts:logout":
        assert response.status_code == 302
        return
    assert response.status_code == 302, f"{name} answered {response.status_code}"
    assert response["Location"].startswith(reverse("accounts:login")), name


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(PUBLIC - TOKEN_PAGES))
def test_public_pages_open_without_sign_in(client, name):
    assert client.get(url_for(name)).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("name", STAFF_URLS + sorted(STAFF_ACCOUNT))
def test_client_gets_404_on_every_staff_url(client, name, client_record):
    sign_in(client, client_record.user)
    response = client.get(url_for(name, client_id=client_record.pk))
    assert response.status_code == 404, f"{name} answered {response.status_code} to a client"


@pytest.mark.django_db
@pytest.mark.parametrize("name", PORTAL_URLS)
@pytest.mark.parametrize("role", ["therapist", "admin"])
def test_staff_get_404_on_portal_urls(client, name, role, therapist, admin_user, client_record):
    sign_in(client, therapist if role == "therapist" else admin_user)
    assert client.get(url_for(name, client_id=client_record.pk)).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("name", names_with_client_id())
def test_other_therapist_gets_404_for_a_client_not_theirs(
    client, name, other_therapist, client_record
):
    sign_in(client, other_therapist)
    url = url_for(name, client_id=client_record.pk)
    assert client.post(url).status_code == 404, name
    # A POST-only page may answer 405 to a GET whatever the client: that tells nothing.
    assert client.get(url).status_code in (404, 405), name


@pytest.mark.django_db
@pytest.mark.parametrize("name", names_with_client_id())
def test_owner_and_admin_open_client_urls(client, name, therapist, admin_user, client_record):
    if _other_params(name):
        return  # needs a real id of another object: covered by that page's own tests
    for user in (therapist, admin_user):
        client.logout()
        sign_in(client, user)
        status = client.get(url_for(name, client_id=client_record.pk)).status_code
        assert status in (200, 302, 405), f"{name} answered {status} to {user.role}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", [n for n in STAFF_URLS + sorted(EVERYONE - NEEDS_POST) if n not in TWO_FACTOR_OPEN_URLS]
)
def test_unverified_staff_reach_only_two_factor_pages(client, name, therapist, client_record):
    sign_in(client, therapist, verified=False)
    response = client.get(url_for(name, client_id=client_record.pk))
    assert response.status_code == 302, name
    assert response["Location"].startswith(reverse("accounts:two_factor_setup")), name


@pytest.mark.django_db
@pytest.mark.parametrize("name", ADMIN_ONLY)
def test_admin_pages_are_404_for_therapists(client, name, therapist, admin_user):
    assert len(ADMIN_ONLY) >= 4
    sign_in(client, therapist)
    assert client.get(url_for(name)).status_code == 404
    assert client.post(url_for(name)).status_code == 404


# --- Headers on every signed-in response (R22) ---------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", [n for n in STAFF_URLS + sorted(EVERYONE - NEEDS_POST) if not _other_params(n)]
)
def test_every_signed_in_page_is_never_cached_and_carries_the_policies(
    client, name, admin_user, client_record
):
    # Whatever the answer (a page, a redirect, a 405 for a POST-only URL, an export).
    sign_in(client, admin_user)
    response = client.get(url_for(name, client_id=client_record.pk))
    assert response["Cache-Control"] == "no-store", name
    assert "camera=()" in response["Permissions-Policy"], name
    if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy, name
        assert "unsafe-inline" not in policy, name


@pytest.mark.django_db
@pytest.mark.parametrize("name", [n for n in PORTAL_URLS if not _other_params(n)])
def test_every_portal_page_is_never_cached(client, name, client_record):
    sign_in(client, client_record.user)
    response = client.get(url_for(name, client_id=client_record.pk))
    assert response["Cache-Control"] == "no-store", name


@pytest.mark.django_db
def test_a_signed_out_page_may_be_cached_but_keeps_the_permissions_policy(client):
    response = client.get(reverse("accounts:login"))
    assert response.get("Cache-Control") != "no-store"
    assert "geolocation=()" in response["Permissions-Policy"]


# --- Every page that shows client data records who looked (R22) -------------------------------

# The signed-in pages that show no client's data, each with the reason. Every other page a staff
# member can open (the URL conf decides, so a new page is covered) must write an access row.
NO_CLIENT_DATA = {
    "accounts:account": "the user's own account",
    "accounts:password_change": "the user's own account",
    "accounts:password_change_done": "the user's own account",
    "home": "a redirect to the user's home page",
    "help": "help text for the user's role",
    "calendar:feed": "the feed's address, no sessions",
    "calendar:feed_create": "POST only",
    "calendar:feed_revoke": "POST only",
    "clinic:settings": "clinic settings",
    "staff:add": "staff accounts",
    "staff:list": "staff accounts",
    "prescribers:prescriber_create": "prescribers",
    "prescribers:prescriber_list": "prescribers",
    "patients:client_create": "an empty form",
    "audit:audit_log": "unfiltered, the trail of who looked (a client filter is a view)",
    "calendar:new": "the booking form; the client is chosen on it",
}


@pytest.fixture
def clinic_with_data(client_record, therapist):
    """Something of ``client_record`` on every list: an active course with a session this week,
    an open safety alert (R20), a reminder (R8)."""
    planned_dose(client_record)
    SessionFactory(client=client_record, kind="preparation", starts_at=timezone.now())
    submit(client_record, "phq9", PHQ9_ITEM9)
    return client_record


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    [
        n
        for n in STAFF_URLS + sorted(EVERYONE - NEEDS_POST)
        if not _other_params(n) and n not in NO_CLIENT_DATA
    ],
)
def test_every_page_with_client_data_records_the_view(client, name, admin_user, clinic_with_data):
    sign_in(client, admin_user)
    before = AccessEvent.objects.filter(user=admin_user).count()
    response = client.get(url_for(name, client_id=clinic_with_data.pk))
    if hasattr(response, "streaming_content"):
        b"".join(response.streaming_content)  # an export records as it streams
    assert response.status_code in (200, 405), f"{name} answered {response.status_code}"
    if response.status_code == 405:
        return  # POST only: nothing is shown
    assert AccessEvent.objects.filter(user=admin_user, client=clinic_with_data).count() > before, (
        f"{name} shows client data and wrote no access row"
    )


@pytest.mark.django_db
def test_the_feed_records_the_therapist_s_view(client, therapist, clinic_with_data):
    _feed, token = feed_create(therapist=therapist, by=therapist)
    response = client.get(reverse("calendar:feed_ics", kwargs={"token": token}))
    assert response.status_code == 200
    assert AccessEvent.objects.filter(user=therapist, page="Calendar feed").exists()
