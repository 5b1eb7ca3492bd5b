"""Hostile input on every form of the app is a field error, never a server error.

Generated, like the URL x role test: every page of the URL conf that shows a POST form (opened
as an admin for staff pages, as the client for portal pages) has that form posted back with the
names of its own fields and values hypothesis draws from what an outside probe sent: control
characters, huge and negative numbers, digits of other scripts, dates out of range, very long
text, markup. A new form is covered without anyone remembering to add it."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from patients.intake.schema import STEPS
from patients.referrals.selectors import current_prescription
from tests.conftest import sign_in
from tests.factories_intake import consent
from tests.factories_sessions import dosing_ready_session
from tests.patients.questionnaire_helpers import PHQ9_CALM, submit
from tests.sessions.dosing_helpers import prepare
from tests.test_urls_by_role import (
    PORTAL_URLS,
    PUBLIC,
    STAFF_URLS,
    TOKEN_PAGES,
    _other_params,
    names_with_client_id,
    url_for,
)

HOSTILE = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=20),
    st.sampled_from(
        [
            "",
            "\x00",
            "a\x00b",
            "\x1b[31m",
            "9" * 40,
            "-1",
            "0",
            "1e9",
            "١٢٠",
            "１２０",
            "9999-12-31",
            "0001-01-01",
            "2026-02-30",
            "25:61",
            "%d%s%n",
            "{0}",
            '=HYPERLINK("http://x")',
            "<script>alert(1)</script>",
            "x" * 20_000,
            "on",
            "true",
        ]
    ),
)


# Drawn up front, the same whatever the page shows (its forms change as the database does).
VALUES = 40
# Random examples per page, on top of the explicit ones (a NUL, a huge number in every field; the
# intake also a NUL inside text): enough to vary the mix each run and keep the suite in minutes.
EXAMPLES = 2


def _payload(fields: list[str], values: list[str]) -> dict[str, str]:
    return {field: values[index % VALUES] for index, field in enumerate(fields)}


class _PostForms(HTMLParser):
    """The page's POST forms: where each posts to and the names of its fields."""

    def __init__(self):
        super().__init__()
        self.current: tuple[str, set[str]] | None = None
        self.forms: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form" and (attributes.get("method") or "").lower() == "post":
            self.current = (attributes.get("action") or "", set())
        elif self.current is not None and tag in ("input", "select", "textarea", "button"):
            name = attributes.get("name")
            if name and name != "csrfmiddlewaretoken":
                self.current[1].add(name)

    def handle_endtag(self, tag):
        if tag == "form" and self.current is not None:
            if self.current[1]:
                self.forms.append((self.current[0], sorted(self.current[1])))
            self.current = None


def post_forms(html: str) -> list[tuple[str, list[str]]]:
    parser = _PostForms()
    parser.feed(html)
    return parser.forms


def _fields(html: str) -> list[str]:
    return sorted({name for _action, names in post_forms(html) for name in names})


# Forms on the public pages (sign-in, password reset) are Django's own, tested as such.
PAGES = [
    n
    for n in STAFF_URLS + PORTAL_URLS
    if not _other_params(n) and n not in PUBLIC and n not in TOKEN_PAGES
]


@pytest.fixture
def signed_in(client, admin_user, client_record, request):
    def open_as(name: str):
        client.logout()
        sign_in(client, client_record.user if name.startswith("portal:") else admin_user)
        return client

    return open_as


@pytest.mark.django_db
@pytest.mark.parametrize("name", PAGES)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(values=st.lists(HOSTILE, min_size=VALUES, max_size=VALUES))
@example(values=["\x00"] * VALUES)
@example(values=["9" * 40] * VALUES)
def test_hostile_input_is_never_a_server_error(signed_in, client_record, name, values):
    web = signed_in(name)
    web.raise_request_exception = False
    url = url_for(name, client_id=client_record.pk)
    page = web.get(url)
    html = page.content.decode() if page.status_code == 200 and not page.streaming else ""
    fields = _fields(html)
    if not fields:
        return  # no form on this page (a list, a redirect, a POST-only action)
    payload = _payload(fields, values)
    response = web.post(url, payload)
    assert response.status_code < 500, f"{name} answered {response.status_code} to {payload!r}"


@pytest.mark.django_db
def test_the_fuzzer_sees_the_fields_of_the_app_s_forms(signed_in, client_record):
    # Guards the generator on real pages: a page with a form yields its field names.
    pages_with_forms = 0
    for name in PAGES:
        page = signed_in(name).get(url_for(name, client_id=client_record.pk))
        if page.status_code == 200 and not page.streaming and _fields(page.content.decode()):
            pages_with_forms += 1
    assert pages_with_forms >= 10
    page = signed_in("clinic:settings").get(url_for("clinic:settings"))
    assert "bp_defer_systolic" in _fields(page.content.decode())


def test_the_fuzzer_finds_the_forms():
    # Guards the generator: it must see the forms it is meant to post.
    html = (
        '<form method="post"><input name="csrfmiddlewaretoken"><input name="systolic">'
        '<select name="kind"></select></form><form method="get"><input name="q"></form>'
    )
    assert _fields(html) == ["kind", "systolic"]
    assert "patients:client_create" in PAGES
    assert "portal:intake:start" in PAGES or any(p.startswith("portal:") for p in PAGES)


# --- The pages of one client's course: sessions, the dosing chart, notes, referral, prescription


@pytest.fixture
def world(client_record):
    """A client in the middle of a course: intake submitted, referral approved with a
    prescription, three preparation sessions, a dosing session today with its chart prepared, a
    PHQ-9 on file. The ids every page of the course needs."""
    session = dosing_ready_session(client_record)
    prepare(session, now=timezone.now())
    prescription = current_prescription(client=client_record)
    response = submit(client_record, "phq9", PHQ9_CALM)
    return {
        "session_id": session.pk,
        "course_id": session.course_id,
        "referral_id": prescription.referral_id,
        "prescription_id": prescription.pk,
        "prescriber_id": prescription.prescriber_id,
        "intake_id": client_record.intakes.get().pk,
        "response_id": response.pk,
        "user_id": session.therapist_id,
        "instrument": "phq9",
        "step": "about",
    }


WORLD_PARAMS = {
    "session_id",
    "course_id",
    "referral_id",
    "prescription_id",
    "prescriber_id",
    "intake_id",
    "response_id",
    "user_id",
    "instrument",
    "step",
}
WITH_CLIENT_ID = set(names_with_client_id())
OBJECT_PAGES = [
    n
    for n in STAFF_URLS + PORTAL_URLS
    if _other_params(n) and set(_other_params(n)) <= WORLD_PARAMS and n not in PUBLIC
]


@pytest.mark.django_db
@pytest.mark.parametrize("name", OBJECT_PAGES)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(values=st.lists(HOSTILE, min_size=VALUES, max_size=VALUES))
@example(values=["\x00"] * VALUES)
@example(values=["9" * 40] * VALUES)
def test_hostile_input_on_the_pages_of_a_course_is_never_a_server_error(
    signed_in, client_record, world, name, values
):
    web = signed_in(name)
    web.raise_request_exception = False
    kwargs = {p: world[p] for p in _other_params(name)}
    if name in WITH_CLIENT_ID:
        kwargs["client_id"] = client_record.pk
    url = reverse(name, kwargs=kwargs)
    page = web.get(url)
    if page.status_code != 200 or page.streaming:
        return
    for action, fields in post_forms(page.content.decode()):
        payload = _payload(fields, values)
        response = web.post(action or url, payload)
        assert response.status_code < 500, (
            f"{name}: {action or url} answered {response.status_code} to {payload!r}"
        )


# --- The client's intake draft: every step and its autosave (R17: nothing lost, never a 500) --


@pytest.mark.django_db
@pytest.mark.parametrize("step", [step.slug for step in STEPS])
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(values=st.lists(HOSTILE, min_size=VALUES, max_size=VALUES))
@example(values=["\x00"] * VALUES)
@example(values=["a\x00b"] * VALUES)
def test_hostile_intake_answers_are_never_a_server_error(client, client_record, step, values):
    consent()
    sign_in(client, client_record.user)
    client.raise_request_exception = False
    client.post(reverse("portal:intake:start"))
    url = reverse("portal:intake:step", kwargs={"step": step})
    page = client.get(url)
    assert page.status_code == 200
    for action, fields in post_forms(page.content.decode()):
        payload = _payload(fields, values)
        for target in (action or url, reverse("portal:intake:autosave", kwargs={"step": step})):
            response = client.post(target, payload, HTTP_HX_REQUEST="true")
            assert response.status_code < 500, f"{target} answered {response.status_code}"
