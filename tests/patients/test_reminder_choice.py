"""A client's e-mail reminders on or off (patients.clients.reminder_choice): in the portal, on
the record by staff, and by the one-click link every reminder carries (RFC 8058); what it stops
and what it does not."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.test import Client as Browser
from django.urls import reverse

from patients.clients import reminder_choice
from patients.models import Client, ReminderChoiceVia
from tests.conftest import sign_in
from tests.factories import AdminFactory

pytestmark = pytest.mark.django_db


def stop_link(client_record) -> str:
    return reverse("reminders_stop", kwargs={"token": reminder_choice.stop_token(client_record)})


def fresh(client_record) -> Client:
    return Client.objects.get(pk=client_record.pk)


def test_the_one_click_post_turns_them_off_without_a_cookie_or_csrf(client_record):
    mail_program = Browser(enforce_csrf_checks=True)
    response = mail_program.post(
        stop_link(client_record),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    record = fresh(client_record)
    assert not record.reminders_wanted
    assert record.reminders_changed_via == ReminderChoiceVia.EMAIL
    assert record.reminders_changed_by is None
    assert LogEntry.objects.get_for_object(record).filter(changes_text__contains="").exists()


def test_opening_the_link_asks_first(client, client_record):
    response = client.get(stop_link(client_record))
    page = response.content.decode()
    assert "Stop e-mail reminders?" in page
    assert "Patel" not in page.split("<main", 1)[-1]
    assert "no-store" in response["Cache-Control"]
    assert fresh(client_record).reminders_wanted
    response = client.post(stop_link(client_record))
    assert "Reminders are off" in response.content.decode()
    assert not fresh(client_record).reminders_wanted
    # Used again: still off, and the first choice's time is kept.
    first = fresh(client_record).reminders_changed_at
    client.post(stop_link(client_record))
    assert fresh(client_record).reminders_changed_at == first


def test_a_bad_link_changes_nothing(client, client_record):
    response = client.post(stop_link(client_record)[:-4] + "xyz/")
    assert response.status_code == 404
    assert fresh(client_record).reminders_wanted


def test_the_client_turns_them_off_and_on_in_the_portal(client, client_record):
    sign_in(client, client_record.user)
    assert "Turn reminders off" in client.get(reverse("portal:home")).content.decode()
    client.post(reverse("portal:reminders_set"), {"wanted": "no"})
    record = fresh(client_record)
    assert (record.reminders_wanted, record.reminders_changed_via) == (False, "portal")
    assert record.reminders_changed_by == client_record.user
    assert "Turn reminders on" in client.get(reverse("portal:home")).content.decode()
    client.post(reverse("portal:reminders_set"), {"wanted": "yes"})
    assert fresh(client_record).reminders_wanted


def test_staff_change_it_on_the_record_and_the_record_says_who_and_when(
    client, client_record, therapist
):
    sign_in(client, therapist)
    url = reverse("patients:reminders_set", kwargs={"client_id": client_record.pk})
    client.post(url, {"wanted": "no"})
    record = fresh(client_record)
    assert (record.reminders_wanted, record.reminders_changed_via) == (False, "staff")
    page = client.get(client_record.get_absolute_url()).content.decode()
    assert 'data-reminders="off"' in page
    assert "by staff (Sam Rivera)" in page


@pytest.mark.parametrize("who", ["anonymous", "other_therapist", "client"])
def test_no_one_else_changes_it_on_the_record(client, client_record, other_therapist, who):
    if who == "other_therapist":
        sign_in(client, other_therapist)
    elif who == "client":
        sign_in(client, client_record.user)
    url = reverse("patients:reminders_set", kwargs={"client_id": client_record.pk})
    response = client.post(url, {"wanted": "no"})
    assert response.status_code in (302, 403, 404)
    assert fresh(client_record).reminders_wanted


def test_an_admin_may_change_it(client, client_record):
    sign_in(client, AdminFactory())
    client.post(
        reverse("patients:reminders_set", kwargs={"client_id": client_record.pk}),
        {"wanted": "no"},
    )
    assert not fresh(client_record).reminders_wanted


def test_the_service_refuses_the_wrong_way_in(client_record, other_client_record):
    with pytest.raises(reminder_choice.ReminderChoiceError):
        reminder_choice.reminders_set(
            client=client_record,
            wanted=False,
            via=ReminderChoiceVia.PORTAL,
            by=other_client_record.user,
        )
    with pytest.raises(reminder_choice.ReminderChoiceError):  # the link only turns them off
        reminder_choice.reminders_set(
            client=client_record, wanted=True, via=ReminderChoiceVia.EMAIL
        )
    assert fresh(client_record).reminders_wanted


def test_no_headers_without_the_sites_address(client_record, settings):
    settings.SITE_URL = ""
    assert reminder_choice.stop_headers(client_record) == {}
    settings.SITE_URL = "https://clinic.example.org"
    headers = reminder_choice.stop_headers(client_record)
    assert headers["List-Unsubscribe"].startswith("<https://clinic.example.org/email/stop/")


def test_staff_turn_back_on_a_clients_own_choice_only_when_the_client_asked(
    client, client_record, therapist
):
    reminder_choice.reminders_set(client=client_record, wanted=False, via=ReminderChoiceVia.EMAIL)
    sign_in(client, therapist)
    url = reverse("patients:reminders_set", kwargs={"client_id": client_record.pk})
    page = client.get(client_record.get_absolute_url()).content.decode()
    assert "The client asked to get reminders again" in page
    response = client.post(url, {"wanted": "yes"}, follow=True)
    assert "turned reminders off themself" in response.content.decode()
    assert not fresh(client_record).reminders_wanted
    client.post(url, {"wanted": "yes", "client_asked": "on"})
    record = fresh(client_record)
    assert record.reminders_wanted
    assert (record.reminders_changed_via, record.reminders_changed_by) == ("staff", therapist)
