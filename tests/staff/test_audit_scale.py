"""The audit trail at any size (issue 13): keyset pages instead of OFFSET and COUNT(*), typed
search instead of a dropdown of everyone, the same queries however long the trail grows; who may
use the search, and what it records (R22)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import time_machine
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from audit.models import AccessEvent
from patients.models import Client
from staff.audit.selectors import PAGE_SIZE, TrailPage
from tests import factories
from tests.conftest import sign_in
from tests.factories_referrals import PrescriberFactory

pytestmark = pytest.mark.django_db

URL = reverse("audit:audit_log")
SUGGEST_PEOPLE = reverse("audit:suggest", kwargs={"kind": "people"})
SUGGEST_CLIENTS = reverse("audit:suggest", kwargs={"kind": "clients"})
START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def _views(user, client, count: int, *, at: datetime = START, step=timedelta(minutes=1)):
    """``count`` access rows of ``user`` viewing ``client``, one every ``step`` from ``at`` (with
    a zero step, all at one instant: the order is then the id's)."""
    if not step:
        with time_machine.travel(at, tick=False):
            AccessEvent.objects.bulk_create(
                AccessEvent(
                    user=user, client=client, page="Client record", path="/x/", method="GET"
                )
                for _ in range(count)
            )
        return
    for n in range(count):
        with time_machine.travel(at + step * n, tick=False):
            AccessEvent.objects.create(
                user=user, client=client, page="Client record", path="/x/", method="GET"
            )


def _changes(actor, client, count: int, *, at: datetime = START):
    kind = ContentType.objects.get_for_model(Client)
    LogEntry.objects.bulk_create(
        LogEntry(
            content_type=kind,
            object_pk=str(client.pk),
            object_id=client.pk,
            object_repr=client.full_name,
            action=LogEntry.Action.UPDATE,
            changes={"phone": ["+1 555 0100", f"+1 555 01{n:02d}"]},
            actor=actor,
            timestamp=at + timedelta(minutes=n),
            additional_data={"client_id": client.pk},
        )
        for n in range(count)
    )


def _changes_naming_records(actor, client, prescriber, *, at: datetime = START):
    """Changes whose foreign keys point at a person (a therapist, a client, a prescriber: shown
    by name, one query per kind for the page) and at other records (a course: no query)."""
    from patients.models import ClientShare, Referral  # noqa: PLC0415 (beside its only use)
    from sessions.models import Session  # noqa: PLC0415

    rows = [
        (Client, {"primary_therapist": ["None", str(actor.pk)]}),
        (ClientShare, {"client": ["None", str(client.pk)]}),
        (Referral, {"prescriber": ["None", str(prescriber.pk)]}),
        (Session, {"course": ["None", "12"]}),
    ]
    LogEntry.objects.bulk_create(
        LogEntry(
            content_type=ContentType.objects.get_for_model(model),
            object_pk=str(client.pk),
            object_id=client.pk,
            object_repr=client.full_name,
            action=LogEntry.Action.UPDATE,
            changes=changes,
            actor=actor,
            timestamp=at + timedelta(hours=1, minutes=n),
            additional_data={"client_id": client.pk},
        )
        for n, (model, changes) in enumerate(rows)
    )


def _link(response, name: str) -> dict[str, str]:
    """The query of the page's link whose words are ``name`` ("Older entries", ...)."""
    body = response.content.decode()
    marker = body.index(name)
    start = body.rindex('href="', 0, marker) + len('href="')
    href = body[start : body.index('"', start)].replace("&amp;", "&")
    return {key: values[0] for key, values in parse_qs(urlparse(href).query).items()}


def _rows(response):
    return response.context["trail"].page.rows


# --- Who may use it ---------------------------------------------------------------------------


@pytest.mark.parametrize("url", [URL, SUGGEST_CLIENTS + "?client_name=Maya"])
def test_anonymous_is_sent_to_sign_in(client, url, client_record):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("role", ["therapist", "client"])
@pytest.mark.parametrize(
    "url", [URL, SUGGEST_CLIENTS + "?client_name=Alvarez", SUGGEST_PEOPLE + "?who=Alvarez"]
)
def test_only_admins_find_the_trail_or_its_search(client, role, url, therapist, client_record):
    # The therapist's own client, searched by name: still a 404, naming nobody.
    factories.ClientFactory(
        primary_therapist=therapist,
        first_name="Ruth",
        last_name="Alvarez",
        user=factories.ClientUserFactory(first_name="Ruth", last_name="Alvarez"),
    )
    sign_in(client, therapist if role == "therapist" else client_record.user)
    response = client.get(url)
    assert response.status_code == 404
    assert "Alvarez" not in response.content.decode()
    assert not AccessEvent.objects.exists()


def test_admin_search_suggests_a_few_names_never_cached(client, admin_user, client_record):
    sign_in(client, admin_user)
    response = client.get(SUGGEST_CLIENTS, {"client_name": "pat  MAYA"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.content.decode()
    assert f'data-pick-id="{client_record.pk}"' in body
    assert 'data-pick-label="Maya Patel"' in body
    assert "1 match: press the down arrow to choose." in body


def test_suggestions_stop_at_ten_and_say_more_match(client, admin_user, therapist):
    factories.ClientFactory.create_batch(12, primary_therapist=therapist, last_name="Okafor")
    sign_in(client, admin_user)
    body = client.get(SUGGEST_CLIENTS, {"client_name": "okafor"}).content.decode()
    assert body.count("data-pick-id=") == 10
    assert "More match: type more of the name." in body


def test_a_client_named_in_suggestions_is_recorded_as_seen(client, admin_user, client_record):
    """R22: a list of client names is a view of each, as on the client list; staff names are
    not client data."""
    other = factories.ClientFactory(primary_therapist=client_record.primary_therapist)
    sign_in(client, admin_user)
    client.get(SUGGEST_CLIENTS, {"client_name": "Maya"})

    def seen():
        return [(e.client, e.page) for e in AccessEvent.objects.filter(user=admin_user)]

    assert seen() == [(client_record, "Audit trail search")]
    client.get(SUGGEST_PEOPLE, {"who": "Rivera"})  # the therapist: no client named
    assert len(seen()) == 1
    client.get(SUGGEST_PEOPLE, {"who": "Maya"})  # Maya's portal sign-in names her record
    assert seen() == [(client_record, "Audit trail search")] * 2
    assert other not in {record for record, _ in seen()}


@pytest.mark.parametrize("typed", ["", "   ", "ma", "a b"])
def test_too_little_typed_searches_nothing(client, admin_user, client_record, typed):
    sign_in(client, admin_user)
    body = client.get(SUGGEST_CLIENTS, {"client_name": typed}).content.decode()
    assert "data-pick-id" not in body
    assert ("Type at least 3 letters." in body) == bool(typed.strip())
    assert not AccessEvent.objects.exists()


def test_people_search_finds_staff_and_clients_by_name_or_address(
    client, admin_user, therapist, client_record
):
    sign_in(client, admin_user)
    body = client.get(SUGGEST_PEOPLE, {"who": therapist.email.split("@")[0]}).content.decode()
    assert 'data-pick-label="Sam Rivera"' in body
    assert "Therapist · " in body
    body = client.get(SUGGEST_PEOPLE, {"who": "patel"}).content.decode()
    assert 'data-pick-label="Maya Patel"' in body
    assert "Client · " in body


def test_unknown_search_kind_is_a_404(client, admin_user):
    sign_in(client, admin_user)
    assert client.get(reverse("audit:suggest", kwargs={"kind": "x"})).status_code == 404


# --- Typing a name without JavaScript ----------------------------------------------------------


def test_a_typed_name_that_fits_one_client_filters_by_them(client, admin_user, client_record):
    other = factories.ClientFactory(primary_therapist=client_record.primary_therapist)
    _views(client_record.primary_therapist, client_record, 2)
    _views(client_record.primary_therapist, other, 2)
    sign_in(client, admin_user)
    response = client.get(URL, {"who": "", "user": "", "client_name": "maya pat", "client": ""})
    assert {e.client for e in _rows(response)} == {client_record}
    body = response.content.decode()
    assert 'value="Maya Patel"' in body  # the field reads whom it found
    assert f'name="client" value="{client_record.pk}"' in body


def test_a_typed_name_that_fits_several_lists_them_to_pick(client, admin_user, therapist):
    first, second = (
        factories.ClientFactory(primary_therapist=therapist, first_name="Ruth", last_name=last)
        for last in ("Alvarez", "Alvarado")
    )
    _views(therapist, first, 2)
    _views(therapist, second, 3)
    sign_in(client, admin_user)
    response = client.get(URL, {"client_name": "ruth alva", "client": "", "kind": "views"})
    body = response.content.decode()
    assert "2 clients match “ruth alva”: pick one below." in body
    assert response.context["trail"] is None  # no entries until the filter is known
    assert "Correct the filters above to see entries." in body
    # The list of names is a view of each client (R22).
    assert set(
        AccessEvent.objects.filter(user__role="admin", page="Audit trail search").values_list(
            "client", flat=True
        )
    ) == {first.pk, second.pk}
    # Picking one is a link: the page then shows that client's trail.
    picked = _link(response, "Ruth Alvarado")
    assert picked["client"] == str(second.pk)
    response = client.get(URL, picked)
    assert [(e.client, e.page) for e in _rows(response)] == [
        (second, "Audit trail search"),  # the list of matches just shown
        *[(second, "Client record")] * 3,
    ]


def test_no_match_and_too_short_say_so(client, admin_user, client_record):
    sign_in(client, admin_user)
    body = client.get(URL, {"client_name": "Zebediah"}).content.decode()
    assert "No client&#x27;s name or e-mail address matches “Zebediah”." in body
    body = client.get(URL, {"who": "al"}).content.decode()
    assert "Type at least 3 letters of a name or e-mail address." in body


def test_a_pick_counts_until_the_text_is_changed(client, admin_user, therapist, client_record):
    other = factories.ClientFactory(primary_therapist=therapist, first_name="Hana", last_name="Kim")
    _views(therapist, client_record, 1)
    _views(therapist, other, 1)
    sign_in(client, admin_user)
    # Two clients share a name: the picked id decides while the text still reads that name.
    twin = factories.ClientFactory(
        primary_therapist=therapist, first_name="Maya", last_name="Patel"
    )
    _views(therapist, twin, 1)
    response = client.get(URL, {"client_name": "Maya Patel", "client": twin.pk})
    assert [e.client for e in _rows(response)] == [twin]
    # The text changed after the pick (no JavaScript to clear the id): the text decides.
    response = client.get(URL, {"client_name": "Hana Kim", "client": twin.pk})
    assert [e.client for e in _rows(response)] == [other]
    # Emptied: any client, whatever id is left behind.
    response = client.get(URL, {"client_name": "", "client": twin.pk})
    assert {e.client for e in _rows(response) if e.page == "Client record"} == {
        client_record,
        other,
        twin,
    }


# --- Keyset pages --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["views", "changes"])
def test_older_and_newer_pages_keep_the_filters_and_never_repeat(
    client, admin_user, therapist, client_record, kind
):
    other = factories.ClientFactory(primary_therapist=therapist)
    # Two pages and some: half a minute apart, then all at one instant (ordered by id).
    if kind == "views":
        _views(therapist, client_record, PAGE_SIZE)
        _views(
            therapist,
            client_record,
            PAGE_SIZE + 10,
            at=START + timedelta(hours=2),
            step=timedelta(0),
        )
        _views(therapist, other, 30, at=START + timedelta(minutes=10))
    else:
        _changes(therapist, client_record, 2 * PAGE_SIZE + 10)
        _changes(therapist, other, 30)
    sign_in(client, admin_user)
    if kind == "views":
        expected = list(AccessEvent.objects.filter(client=client_record).order_by("-at", "-id"))
    else:  # and the client's own creation
        expected = list(
            LogEntry.objects.filter(additional_data__client_id=client_record.pk).order_by(
                "-timestamp", "-id"
            )
        )
    filters = {"kind": kind, "client_name": "Maya Patel", "client": client_record.pk}
    first = client.get(URL, filters)
    assert first.context["trail"].count == len(expected)
    pages = [_rows(first)]
    assert first.context["trail"].page.newer is None  # the newest page
    query = _link(first, "Older entries")
    assert query["client"] == str(client_record.pk)
    assert query["client_name"] == "Maya Patel"
    assert query["kind"] == kind
    # Rows written meanwhile (the trail grows as people work) do not shift the next page.
    if kind == "views":
        _views(therapist, client_record, 3, at=START + timedelta(days=1))
    second = client.get(URL, query)
    pages.append(_rows(second))
    third = client.get(URL, _link(second, "Older entries"))
    pages.append(_rows(third))
    assert [len(p) for p in pages] == [PAGE_SIZE, PAGE_SIZE, len(expected) - 2 * PAGE_SIZE]
    assert third.context["trail"].page.older is None  # the oldest page
    # Each row once, newest first (ties in time by id), only the client's, as read before the
    # rows written meanwhile.
    assert [row.pk for page in pages for row in page] == [row.pk for row in expected]
    back = client.get(URL, _link(third, "Newer entries"))
    assert [row.pk for row in _rows(back)] == [row.pk for row in pages[1]]


def test_no_count_of_the_whole_trail_past_ten_thousand():
    assert TrailPage(page=None, count=10_001).count_text == "More than 10,000 entries"
    assert TrailPage(page=None, count=1).count_text == "1 entry"
    assert TrailPage(page=None, count=1234).count_text == "1,234 entries"


# --- Hostile input -------------------------------------------------------------------------------


def _cursor(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


HOSTILE_CURSORS = [
    "!!!",
    "x" * 5000,
    _cursor(["2026-02-30T00:00:00", 1]),
    _cursor(["0000-01-01T00:00:00", 1]),
    _cursor(["2026-01-01T00:00:00+99:00", 1]),
    _cursor(["2026-01-01T00:00:00", 10**30]),
    _cursor(["2026-01-01T00:00:00+00:00", "1; DROP TABLE x"]),
    _cursor({"at": 1}),
    _cursor([None, None]),
    "eyJ",
]


@pytest.mark.parametrize("cursor", HOSTILE_CURSORS)
@pytest.mark.parametrize("param", ["after", "before"])
@pytest.mark.parametrize("kind", ["views", "changes"])
def test_a_damaged_page_link_shows_a_page_never_an_error(
    client, admin_user, client_record, cursor, param, kind
):
    _views(client_record.primary_therapist, client_record, 3)
    sign_in(client, admin_user)
    response = client.get(URL, {"kind": kind, param: cursor})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {"who": "x" * 20_000},
        {"client_name": "%"},
        {"client_name": "___"},
        {"client_name": "\\\\\\"},
        {"client_name": "Ma\x00ya Pa\x1btel"},
        {"client_name": "' OR 1=1 --"},
        {"client_name": "Мая Патель 山田"},
        {"client": "abc", "client_name": "Maya"},
        {"client": "-1"},
        {"client": "9" * 40},
        {"user": "1e3", "who": ""},
        {"user": "٣"},
        {"date_from": "2026-13-45"},
    ],
)
def test_hostile_filters_are_a_message_or_a_page(client, admin_user, client_record, params):
    sign_in(client, admin_user)
    assert client.get(URL, params).status_code == 200
    text = params.get("client_name", params.get("who", "Maya"))
    assert client.get(SUGGEST_CLIENTS, {"client_name": text}).status_code == 200
    assert client.get(SUGGEST_PEOPLE, {"who": text}).status_code == 200


def test_wildcards_typed_are_letters_not_patterns(client, admin_user, client_record):
    sign_in(client, admin_user)
    body = client.get(SUGGEST_CLIENTS, {"client_name": "%%%"}).content.decode()
    assert "data-pick-id" not in body


# --- Queries: the same at two sizes, at most 12 --------------------------------------------------


def _grow(therapist, client_record, size: int):
    clients = factories.ClientFactory.create_batch(size, primary_therapist=therapist)
    prescriber = PrescriberFactory()
    for n, record in enumerate([client_record, *clients]):
        _views(therapist, record, 20, at=START + timedelta(minutes=n), step=timedelta(0))
        _changes(therapist, record, 20)
        _changes_naming_records(therapist, record, prescriber, at=START + timedelta(minutes=n))
    factories.TherapistFactory.create_batch(size)
    # The newest changes of all (the unfiltered page's first rows) point at people too.
    _changes_naming_records(
        therapist, client_record, prescriber, at=datetime(2030, 1, 1, tzinfo=UTC)
    )


# (kind, filters, exact queries). The signed-in floor is 3 (session, user, the navbar's two
# alert counts in one statement); the page adds its rows and their capped count. Filters by
# person and client each add the lookup of the picked id, and a client filter the access row it
# writes (R22).
# Changes add the names of the people their foreign keys point at: one query each for users,
# clients and prescribers, whatever else the page's changes point at (selectors.NAMED_MODELS).
BUDGETS = [
    ("views", {}, 5),
    ("changes", {}, 8),
    ("views", {"user": "picked", "client": "picked", "dates": True}, 8),
    ("changes", {"user": "picked", "client": "picked", "dates": True}, 11),
    ("views", {"older": True}, 5),
]


@pytest.mark.parametrize(("kind", "shape", "expected"), BUDGETS)
def test_the_same_queries_however_long_the_trail(
    client, admin_user, therapist, client_record, django_assert_num_queries, kind, shape, expected
):
    sign_in(client, admin_user)

    def params():
        query = {"kind": kind}
        if shape.get("user"):
            query.update(who=therapist.get_full_name(), user=therapist.pk)
        if shape.get("client"):
            query.update(client_name=client_record.full_name, client=client_record.pk)
        if shape.get("dates"):
            query.update(date_from="2026-03-01", date_to="2026-03-31")
        if shape.get("older"):
            first = client.get(URL, query)
            query["after"] = first.context["trail"].page.older or ""
        return query

    assert expected <= 12
    for size in (2, 60):
        _grow(therapist, client_record, size)
        query = params()
        with django_assert_num_queries(expected):
            response = client.get(URL, query)
        assert response.status_code == 200
        assert _rows(response)
