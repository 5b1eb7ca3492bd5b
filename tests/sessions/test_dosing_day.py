"""The client's dosing day in the portal (sessions.dosing.day, R15): the clinic's checklist and
the chaperone; the chart starts from it and the therapist sees whether it was confirmed."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from auditlog.models import LogEntry
from django.urls import reverse

from patients.clients.validators import format_phone
from patients.models import Client
from sessions.dosing import day
from sessions.dosing.services import chart_open
from sessions.models import DosingDayConfirmation, SessionKind
from sessions.scheduling.services import session_reschedule, session_schedule
from tests.conftest import sign_in
from tests.factories import AdminFactory
from tests.factories_sessions import dosing_ready_session

pytestmark = pytest.mark.django_db
NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=NEW_YORK)
STARTS = datetime(2026, 3, 5, 10, 0, tzinfo=NEW_YORK)


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def dosing():
    return dosing_ready_session(starts_at=STARTS)


def page(session) -> str:
    return reverse("portal:dosing_day:confirm", kwargs={"session_id": session.pk})


def good(**changes) -> dict:
    return {
        "checklist_read": "on",
        "name": "Ravi Patel",
        "phone": "(555) 555-0199",
        "pickup": "13:15",
        **changes,
    }


def test_the_portal_home_offers_the_dosing_day_and_the_page_shows_the_clinics_list(
    client, dosing, settings
):
    settings.DOSING_DAY_CHECKLIST = "Bring your tablets.\nWear something comfortable."
    sign_in(client, dosing.client.user)
    home = client.get(reverse("portal:home")).content.decode()
    assert "Get ready for your dosing day" in home
    assert page(dosing) in home
    response = client.get(page(dosing))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<li>Bring your tablets.</li>" in html
    assert "<li>Wear something comfortable.</li>" in html
    # Pre-filled with the client's default chaperone and the session's end.
    on_file = Client.objects.get(pk=dosing.client_id)  # the intake set the default chaperone
    assert f'value="{on_file.chaperone_name}"' in html
    assert f'value="{format_phone(on_file.chaperone_phone)}"' in html
    assert 'value="13:00"' in html
    assert "no-store" in response["Cache-Control"]


def test_confirming_records_the_chaperone_and_the_therapist_sees_it(client, dosing):
    sign_in(client, dosing.client.user)
    response = client.post(page(dosing), good())
    assert response.status_code == 302
    row = DosingDayConfirmation.objects.get(session=dosing)
    assert (row.chaperone_name, row.chaperone_phone) == ("Ravi Patel", "+15555550199")
    assert row.pickup_at == datetime(2026, 3, 5, 13, 15, tzinfo=NEW_YORK)
    assert row.checklist_read_at == NOW
    assert "Bring the tablets" in row.checklist  # the list as it was read
    assert LogEntry.objects.get_for_object(row).exists()  # R22
    home = client.get(reverse("portal:home")).content.decode()
    assert "Your dosing day is prepared" in home

    sign_in(client, dosing.therapist)
    week = client.get(reverse("calendar:week") + "?date=2026-03-05").content.decode()
    assert "Chaperone confirmed" in week
    chart = client.get(
        reverse(
            "patients:sessions:dosing_chart",
            kwargs={"client_id": dosing.client_id, "session_id": dosing.pk},
        )
    ).content.decode()
    assert "Chaperone confirmed by the client" in chart
    assert "pickup at 1:15 PM" in chart


def test_the_calendar_says_when_it_is_not_confirmed(client, dosing):
    sign_in(client, dosing.therapist)
    week = client.get(reverse("calendar:week") + "?date=2026-03-05").content.decode()
    assert "Chaperone not confirmed" in week


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"checklist_read": ""}, "checklist_read", "Tick the box once you have read the list."),
        ({"name": "   "}, "name", "Enter the name of the person taking you home."),
        ({"phone": "12"}, "phone", "Enter a phone number we can call"),
        ({"phone": ""}, "phone", "Enter a phone number for them."),
        ({"pickup": "12:15"}, "pickup", "choose a pickup time from 12:30 PM"),
        ({"pickup": "25:99"}, "pickup", "Enter a time such as 2:30 PM."),
        ({"name": "x" * 5000}, "name", "at most 150 characters"),
        ({"name": "Ravi\x00\x07 Patel", "pickup": "09:00"}, "pickup", "pickup time from"),
    ],
)
def test_a_wrong_answer_says_what_to_fix_and_keeps_what_was_typed(
    client, dosing, changes, field, message
):
    sign_in(client, dosing.client.user)
    data = good(**changes)
    response = client.post(page(dosing), data)
    assert response.status_code == 200
    form = response.context["form"]
    assert any(message in error for error in form.errors[field]), form.errors
    html = response.content.decode()
    if field != "name":
        assert 'value="Ravi Patel"' in html  # what was typed is still there
    if field != "pickup":
        assert f'value="{data["pickup"]}"' in html
    assert not DosingDayConfirmation.objects.filter(session=dosing).exists()


def test_changing_it_later_keeps_one_row(client, dosing):
    sign_in(client, dosing.client.user)
    client.post(page(dosing), good())
    client.post(page(dosing), good(name="Anita Patel", pickup="14:00"))
    (row,) = DosingDayConfirmation.objects.filter(session=dosing)
    assert row.chaperone_name == "Anita Patel"
    assert row.pickup_at.astimezone(NEW_YORK).time() == time(14, 0)


def test_the_chart_starts_from_the_confirmed_chaperone(client, dosing):
    sign_in(client, dosing.client.user)
    client.post(page(dosing), good(name="Anita Patel", phone="555-555-0100"))
    with time_machine.travel(STARTS + timedelta(minutes=5), tick=False):
        chart = chart_open(session=dosing, by=dosing.therapist)
    assert (chart.chaperone_name, chart.chaperone_phone) == ("Anita Patel", "+15555550100")
    assert chart.pickup_expected_at == datetime(2026, 3, 5, 13, 15, tzinfo=NEW_YORK)


def test_after_the_start_nothing_changes_from_the_portal(client, dosing):
    with time_machine.travel(STARTS + timedelta(minutes=1), tick=False):
        sign_in(client, dosing.client.user)
        assert client.get(page(dosing)).status_code == 404
        with pytest.raises(day.DosingDayError, match="has started"):
            day.dosing_day_confirm(
                session=dosing,
                by=dosing.client.user,
                checklist_read=True,
                chaperone_name="Ravi",
                chaperone_phone="5555550199",
                pickup=time(13, 0),
            )


@pytest.mark.parametrize("who", ["anonymous", "other_client", "therapist", "admin"])
def test_only_the_client_opens_their_dosing_day(client, dosing, other_client_record, who):
    user = {
        "anonymous": None,
        "other_client": other_client_record.user,
        "therapist": dosing.therapist,
        "admin": AdminFactory(),
    }[who]
    if user is not None:
        sign_in(client, user)
    response = client.get(page(dosing))
    assert response.status_code in (302, 403, 404)
    response = client.post(page(dosing), good())
    assert response.status_code in (302, 403, 404)
    assert not DosingDayConfirmation.objects.filter(session=dosing).exists()


def test_a_session_that_is_not_a_dosing_session_has_no_such_page(client, dosing):
    other = session_schedule(
        client=dosing.client,
        kind=SessionKind.INTEGRATION,
        starts_at=STARTS + timedelta(days=1),
        by=dosing.therapist,
    )
    sign_in(client, dosing.client.user)
    assert client.get(page(other)).status_code == 404
    with pytest.raises(day.DosingDayError, match="not a dosing session"):
        day.dosing_day_confirm(
            session=other,
            by=dosing.client.user,
            checklist_read=True,
            chaperone_name="Ravi",
            chaperone_phone="5555550199",
            pickup=time(13, 0),
        )


def test_the_page_runs_the_same_queries_as_the_record_grows(
    client, dosing, django_assert_num_queries
):
    """The session and user, the client and its access row (R22), the client's dosing days."""
    sign_in(client, dosing.client.user)
    with django_assert_num_queries(5):
        assert client.get(page(dosing)).status_code == 200
    # More of everything around it: other clients' dosing days confirmed, the client's own
    # other sessions, a confirmation of this day.
    for n in range(3):
        other = dosing_ready_session(starts_at=STARTS + timedelta(hours=4 + n))
        sign_in(client, other.client.user)
        client.post(page(other), good())
    for n in range(3):
        session_schedule(
            client=dosing.client,
            kind=SessionKind.INTEGRATION,
            starts_at=STARTS + timedelta(days=1 + n),
            by=dosing.therapist,
        )
    sign_in(client, dosing.client.user)
    client.post(page(dosing), good())
    with django_assert_num_queries(5):
        assert client.get(page(dosing)).status_code == 200


def test_moving_the_session_asks_for_the_chaperone_again(client, dosing):
    sign_in(client, dosing.client.user)
    client.post(page(dosing), good())
    session_reschedule(session=dosing, starts_at=STARTS + timedelta(days=2), by=dosing.therapist)
    row = DosingDayConfirmation.objects.get(session=dosing)
    assert (row.chaperone_confirmed, row.pickup_at) == (False, None)
    latest = LogEntry.objects.get_for_object(row).order_by("-timestamp", "-id").first()
    assert latest.changes_dict["chaperone_confirmed_at"][1] == "None"  # R22: audited
    html = client.get(page(dosing)).content.decode()
    assert 'value="Ravi Patel"' in html  # to start from
    assert "You are all set" not in html
