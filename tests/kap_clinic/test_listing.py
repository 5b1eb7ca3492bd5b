"""kap_clinic.listing: keyset pages walk a list in any mix of sort directions, forward and back,
without repeating or skipping a row; a hand-edited cursor starts again; capped counts stop at the
cap in one query."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kap_clinic.listing import capped_counts, count_label, keyset_page
from patients.models import Client
from tests import factories

pytestmark = pytest.mark.django_db

# Mixed directions, a non-unique leading field and a unique last one: the hard case.
ORDER = ("last_name", "-id")


@pytest.fixture
def clients():
    therapist = factories.TherapistFactory()
    for n in range(23):
        factories.ClientFactory(last_name=f"Name{n % 4}", primary_therapist=therapist)
    everyone = list(Client.objects.order_by("last_name", "-id"))
    assert len(everyone) == 23
    return everyone


def test_forward_then_back_visits_every_row_once_in_order(clients):
    queryset = Client.objects.all()
    seen, pages, after = [], [], None
    while True:
        page = keyset_page(queryset, order=ORDER, after=after, size=5)
        pages.append(page)
        seen.extend(page.rows)
        if page.older is None:
            break
        after = page.older
    assert seen == clients
    assert [len(p.rows) for p in pages] == [5, 5, 5, 5, 3]
    assert pages[0].first
    assert not pages[1].first
    # Back from the last page, one page at a time, gives the same pages.
    back = pages[-1]
    for expected in reversed(pages[:-1]):
        back = keyset_page(queryset, order=ORDER, before=back.newer, size=5)
        assert back.rows == expected.rows
    assert back.newer is None


def test_one_query_per_page(clients):
    page = keyset_page(Client.objects.all(), order=ORDER, size=5)
    with CaptureQueriesContext(connection) as queries:
        keyset_page(Client.objects.all(), order=ORDER, after=page.older, size=5)
    assert len(queries) == 1


@pytest.mark.parametrize(
    "cursor",
    ["not-a-cursor", "%%%", "W10", "WyJhIiwgImIiXQ", "WzEsIDJd", "W251bGwsIDFd", "x" * 5000],
)
def test_a_cursor_edited_by_hand_starts_the_list_again(clients, cursor):
    page = keyset_page(Client.objects.all(), order=ORDER, after=cursor, size=5)
    assert page.rows == clients[:5]
    assert keyset_page(Client.objects.all(), order=ORDER, before=cursor, size=5).rows == clients[:5]


def test_capped_counts_in_one_query(clients):
    with CaptureQueriesContext(connection) as queries:
        counts = capped_counts(
            {
                "all": Client.objects.all(),
                "name0": Client.objects.filter(last_name="Name0"),
                "none": Client.objects.none().filter(pk=-1),
            },
            cap=10,
        )
    assert len(queries) == 1
    assert counts == {"all": 11, "name0": 6, "none": 0}
    assert count_label(counts["all"], cap=10) == "10+"
    assert count_label(counts["name0"], cap=10) == "6"
    assert count_label(12_345, cap=20_000) == "12,345"
