"""Issue 14 in a browser: what the clinic asks the client before a session, and how the answers
reach the therapist.

1. On a phone, a portal client with a dosing session in three days follows "Prepare" on their
   portal home, ticks the checklist, names their chaperone, phone and pickup time and confirms; a
   pickup before the end of the observation time is then refused beside the field, keeping what
   was typed. The therapist sees "Chaperone confirmed" on the calendar and the panel on the
   dosing chart's start card (before the day the chart shows only that card).
2. An anonymous visitor opens an appointment reminder's reply link, answers "I need another
   time", and the page then shows the answer without the buttons; the therapist's session page
   and calendar show the request to reschedule.
3. The one-click stop link: the page asks, the button turns reminders off; the client record
   shows E-mail reminders Off.

Screenshots for people to look at: /tmp/shots/*.png."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from patients.clients.reminder_choice import stop_token
from patients.models import Client, ReminderChoiceVia
from sessions.models import ClientReply, DosingDayConfirmation
from sessions.scheduling import replies
from tests import factories
from tests.e2e.conftest import submit_password
from tests.factories_sessions import SessionFactory, dosing_ready_session

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots")


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True, animations="disabled")


def _at(day, hour: int, minute: int = 0) -> datetime:
    """``hour`` on ``day`` in the clinic's time zone (the client's too: they set none)."""
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _people():
    therapist = factories.TherapistFactory(first_name="Sam", last_name="Rivera")
    maya = factories.ClientFactory(
        primary_therapist=therapist,
        first_name="Maya",
        last_name="Patel",
        user=factories.ClientUserFactory(first_name="Maya", last_name="Patel"),
    )
    return therapist, maya


def test_client_prepares_the_dosing_day_on_a_phone_and_the_therapist_sees_it(
    phone_page: Page, page: Page, verified_staff
):
    therapist, maya = _people()
    day = timezone.localdate() + timedelta(days=3)
    dosing = dosing_ready_session(maya, starts_at=_at(day, 10))  # 10 AM to 1 PM
    # Another client of Sam's answered "Yes" from their reminder: a second note on the calendar.
    lee = factories.ClientFactory(primary_therapist=therapist, first_name="Lee", last_name="Wong")
    general = SessionFactory(client=lee, kind="general", starts_at=_at(day, 15))
    replies.session_reply(token=replies.reply_token(general), answer=ClientReply.CONFIRMED)

    phone = phone_page
    phone.goto("/accounts/login/")
    submit_password(phone, maya.user.email)
    expect(phone.get_by_role("heading", name=re.compile(r"^Hello, "))).to_be_visible()
    todo = phone.get_by_role("region", name="To do")
    expect(todo.get_by_role("heading", name="Get ready for your dosing day")).to_be_visible()
    _shot(phone, "portal-home-phone")
    todo.get_by_role("link", name="Prepare").click()

    expect(phone.get_by_role("heading", name="Your dosing day")).to_be_visible()
    expect(phone.get_by_role("region", name="Before you come")).to_contain_text(
        "Bring the tablets your prescriber prescribed for this session."
    )
    # The client's default chaperone and the session's end are filled in already.
    name = phone.get_by_label("Their name")
    number = phone.get_by_label("Their phone number")
    pickup = phone.get_by_label("Pickup time")
    maya.refresh_from_db()  # the intake brought the chaperone on file
    expect(name).to_have_value(maya.chaperone_name)
    expect(pickup).to_have_value("13:00")
    _shot(phone, "dosing-day-phone")

    phone.get_by_label("I have read the list above").check()
    name.fill("Priya Shah")
    number.fill("(555) 555-0199")
    pickup.fill("13:30")
    phone.get_by_role("button", name="Confirm").click()
    expect(
        phone.get_by_text("Thank you. Your therapist can see who is picking you up.")
    ).to_be_visible()
    done = phone.get_by_role("status").filter(has_text="You are all set.")
    expect(done).to_contain_text("Priya Shah")
    expect(done).to_contain_text("1:30 PM")
    expect(phone.get_by_label("I have read the list above")).to_be_checked()
    _shot(phone, "dosing-day-phone-confirmed")

    # A pickup before the end of the observation time (start + 30 min + 2 hours) is refused by the
    # field; what was typed stays, and nothing is saved.
    name.fill("Priya Shah-Khan")
    pickup.fill("11:00")
    phone.get_by_role("button", name="Save changes").click()
    expect(phone.get_by_role("alert").filter(has_text="Please correct")).to_be_visible()
    expect(
        phone.get_by_text(
            "You stay at the clinic for a while after the dose: choose a pickup time from 12:30 PM."
        ).last
    ).to_be_visible()
    expect(name).to_have_value("Priya Shah-Khan")
    expect(pickup).to_have_value("11:00")
    expect(number).to_have_value(re.compile(r"555.*0199"))
    _shot(phone, "dosing-day-phone-error")
    saved = DosingDayConfirmation.objects.get(session=dosing)
    assert saved.chaperone_name == "Priya Shah"
    assert saved.pickup_at == _at(day, 13, 30)

    # No name: refused with its own message, the rest kept.
    name.fill("")
    pickup.fill("13:30")
    phone.get_by_role("button", name="Save changes").click()
    expect(phone.get_by_text("Enter the name of the person taking you home.").last).to_be_visible()
    expect(pickup).to_have_value("13:30")

    phone.get_by_role("link", name="My care").click()
    card = phone.locator(f".dosing-day-todo[data-session='{dosing.pk}']")
    expect(card.get_by_role("heading", name="Your dosing day is prepared")).to_be_visible()
    expect(card.get_by_role("link", name="View or change")).to_be_visible()

    # The therapist: the calendar week of the session, then the dosing chart before the day.
    verified_staff(therapist)
    page.goto(f"/calendar/?date={day.isoformat()}")
    grid = page.locator("#calendar")
    entry = grid.get_by_role("link").filter(has_text="Maya Patel")
    expect(entry).to_contain_text("Chaperone confirmed")
    expect(grid.get_by_role("link").filter(has_text="Lee Wong")).to_contain_text("Client confirmed")
    _shot(page, "calendar-notes")
    entry.click()
    expect(page.get_by_role("heading", name=re.compile("Maya Patel"))).to_be_visible()

    page.goto(f"/clients/{maya.pk}/sessions/{dosing.pk}/dosing/")
    start = page.get_by_role("region", name="Start the dosing chart")
    expect(start).to_contain_text("Chaperone confirmed by the client")
    expect(start).to_contain_text("Priya Shah")
    expect(start).to_contain_text("pickup at 1:30 PM")
    expect(start).to_contain_text("Read the dosing-day checklist.")
    expect(start).to_contain_text(f"A chart is started on the day of the session ({day:%a %b}")
    _shot(page, "chart-panel")


def test_client_asks_for_another_time_from_the_reminder_link(
    phone_page: Page, page: Page, verified_staff
):
    therapist = factories.TherapistFactory(first_name="Sam", last_name="Rivera")
    lee = factories.ClientFactory(primary_therapist=therapist, first_name="Lee", last_name="Wong")
    day = timezone.localdate() + timedelta(days=2)
    session = SessionFactory(client=lee, kind="general", starts_at=_at(day, 15))
    link = urlsplit(replies.reply_url(session)).path

    phone = phone_page  # nobody signed in
    phone.goto(link)
    expect(phone.get_by_role("heading", name="Your appointment")).to_be_visible()
    expect(phone.get_by_text("Hi Lee. Your appointment with Sam is on")).to_contain_text("3:00 PM")
    _shot(phone, "reply-question")
    phone.get_by_role("button", name="I need another time").click()
    thanks = phone.get_by_role("status")
    expect(thanks).to_contain_text("Thank you: we have told Sam you need another time.")
    _shot(phone, "reply-answered")

    phone.reload()
    expect(thanks).to_contain_text("we have told Sam you need another time")
    expect(phone.get_by_role("main").get_by_role("button")).to_have_count(0)
    session.refresh_from_db()
    assert session.client_reply == ClientReply.RESCHEDULE

    verified_staff(therapist)
    page.goto(f"/clients/{lee.pk}/sessions/{session.pk}/")
    expect(
        page.get_by_role("status").filter(has_text="The client asked to reschedule")
    ).to_contain_text("Agree a new time with them, then use Reschedule on this page.")
    _shot(page, "session-reschedule")
    page.goto(f"/calendar/?date={day.isoformat()}")
    expect(
        page.locator("#calendar").get_by_role("link").filter(has_text="Lee Wong")
    ).to_contain_text("Client asked to reschedule")


def test_one_click_stop_turns_reminders_off(new_browser, page: Page, verified_staff):
    therapist = factories.TherapistFactory(first_name="Sam", last_name="Rivera")
    lee = factories.ClientFactory(primary_therapist=therapist, first_name="Lee", last_name="Wong")

    stranger = new_browser()  # nobody signed in
    stranger.goto(f"/email/stop/{stop_token(lee)}/")
    expect(stranger.get_by_role("heading", name="Stop e-mail reminders?")).to_be_visible()
    _shot(stranger, "stop-question")
    assert Client.objects.get(pk=lee.pk).reminders_wanted  # opening the link changes nothing
    stranger.get_by_role("button", name="Stop reminders").click()
    expect(stranger.get_by_role("heading", name="Reminders are off")).to_be_visible()
    _shot(stranger, "stop-done")
    lee.refresh_from_db()
    assert not lee.reminders_wanted
    assert lee.reminders_changed_via == ReminderChoiceVia.EMAIL

    verified_staff(therapist)
    page.goto(f"/clients/{lee.pk}/")
    card = page.get_by_role("region", name="Care team and portal")
    expect(card.get_by_role("term").filter(has_text="E-mail reminders")).to_be_visible()
    setting = card.get_by_role("definition").filter(has_text=re.compile(r"^Off"))
    expect(setting).to_contain_text("turned off")
    expect(setting).to_contain_text("from a reminder e-mail's link")
    expect(card.get_by_role("button", name="Turn reminders on")).to_be_visible()
    _shot(page, "client-record-reminders")
