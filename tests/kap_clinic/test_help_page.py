"""The help page: open to every signed-in role, each shown its own part; never cached (R22); and
no queries of its own, because the page benchmark (benchmarks/pages.py) measures every page as a
ratio to it: a query added here would lower every ratio without any page getting faster."""

from __future__ import annotations

import pytest
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponse
from django.template import engines
from django.test.utils import CaptureQueriesContext
from django.urls import path, reverse

from kap_clinic.urls import urlpatterns as app_urlpatterns
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


@login_required
def bare_layout(request):
    """The base layout with nothing in it: what the help page is measured against."""
    template = engines["django"].from_string('{% extends "base.html" %}')
    return HttpResponse(template.render({}, request))


# The app's URL conf plus the bare layout (this module is the ROOT_URLCONF of the count test).
urlpatterns = [*app_urlpatterns, path("test-bare-layout/", bare_layout, name="test_bare_layout")]


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(reverse("help"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next=/help/"


def test_a_client_sees_the_portal_help_and_the_crisis_line(client, client_record, settings):
    settings.CRISIS_LINE = "call the test crisis line"
    response = sign_in(client, client_record.user).get(reverse("help"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Your portal" in page
    assert "call the test crisis line" in page
    assert "Where things are" not in page
    assert "backup codes" not in page


def test_a_therapist_sees_the_staff_help_without_the_admin_part(client, therapist):
    response = sign_in(client, therapist).get(reverse("help"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Where things are" in page
    assert "calendar feed" in page  # the therapist's own feed
    assert "backup codes" in page
    assert "Running the clinic" not in page
    assert "Your portal" not in page


def test_an_admin_sees_the_clinic_pages(client, admin_user):
    response = sign_in(client, admin_user).get(reverse("help"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Running the clinic" in page
    assert "Audit trail" in page
    assert "calendar feed" not in page  # admins have no feed of their own


def test_staff_who_have_not_passed_two_factor_are_sent_to_it(client, therapist):
    response = sign_in(client, therapist, verified=False).get(reverse("help"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:two_factor_setup"))


def test_the_idle_sign_out_shown_is_the_clinic_s(client, client_record, settings):
    settings.IDLE_TIMEOUT_SECONDS = 7 * 60
    response = sign_in(client, client_record.user).get(reverse("help"))
    assert "signed out after 7 minutes without activity" in response.content.decode()


@pytest.mark.parametrize("role", ["client", "therapist", "admin"])
def test_never_cached_and_carries_the_policies(client, role, client_record, therapist, admin_user):
    user = {"client": client_record.user, "therapist": therapist, "admin": admin_user}[role]
    response = sign_in(client, user).get(reverse("help"))
    assert response["Cache-Control"] == "no-store"
    assert "camera=()" in response["Permissions-Policy"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]


def test_every_signed_in_page_links_to_help(client, therapist):
    response = sign_in(client, therapist).get(reverse("accounts:account"))
    assert f'href="{reverse("help")}"' in response.content.decode()


def _queries(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    # The savepoints are the test's transaction around the session save, not statements a
    # request in production (autocommit) sends.
    return [
        query["sql"]
        for query in queries.captured_queries
        if not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


@pytest.mark.parametrize("role", ["client", "therapist", "admin"])
def test_the_help_page_runs_the_base_layout_s_queries_and_no_more(
    client, settings, role, client_record, therapist, admin_user
):
    settings.ROOT_URLCONF = __name__
    user = {"client": client_record.user, "therapist": therapist, "admin": admin_user}[role]
    sign_in(client, user)
    client.get(reverse("help"))  # the first request of a session may differ (its key, the clock)
    bare = _queries(client, reverse("test_bare_layout"))
    help_page = _queries(client, reverse("help"))
    # The layout's own (the session, the user; staff: the navbar's counts) are there to compare.
    assert any("django_session" in query for query in bare), bare
    assert len(help_page) == len(bare), help_page
