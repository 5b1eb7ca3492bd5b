"""What a reminder says, decided at send time (R8) and free of clinical detail (R25): book one
(with the therapist's first name and how to reach the clinic, or the self-booking link) or the
booked session's day and time in the client's own zone; HTML and text; the clinic's signature;
the row's fixed Message-ID. And the therapist's check at 24 hours: an e-mail and an open alert."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
import time_machine

from integration.dispatch import dispatch_due
from integration.models import ReminderStatus
from integration.tasks import dispatch_due_reminders
from tests.integration.reminder_helpers import (
    CLINIC_TZ,
    DOSE_DAY,
    GIVEN_AT,
    book_integration,
    client_rows,
    record_dose,
    therapist_row,
)
from tests.outbox_helpers import send_outbox

pytestmark = pytest.mark.django_db

DAY1 = datetime(2025, 3, 13, 10, 1, tzinfo=CLINIC_TZ)
# R25: none of these may reach a reminder (the referral in the fixtures says "Treatment-resistant
# depression").
CLINICAL = re.compile(
    r"ketamine|dose|dosing|prescri|depress|anxiety|ptsd|diagnos|psychedelic|troche|lozenge",
    re.IGNORECASE,
)


@pytest.fixture
def dose(client_record):
    """Maya Patel (therapist Sam Rivera) dosed on Wednesday, March 12, 2025 at 9:20."""
    return record_dose(client_record)


def send(moment: datetime):
    with time_machine.travel(moment, tick=False):
        return dispatch_due(now=moment)


def client_mails(mailoutbox, client) -> list:
    """The client's e-mails (the therapist's check, due at 9:20 on day 1, goes out too)."""
    return [email for email in mailoutbox if email.to == [client.email]]


def parts(email) -> tuple[str, str]:
    html = [content for content, mimetype in email.alternatives if mimetype == "text/html"]
    assert len(html) == 1, "an HTML part next to the text"
    return email.body, html[0]


def assert_discreet(email, client) -> None:
    text, html = parts(email)
    for part in (email.subject, text, html):
        assert not CLINICAL.search(part), CLINICAL.search(part)
        assert client.last_name not in part
        assert client.first_name in part or client.first_name not in email.subject


def test_not_booked_asks_to_book_with_the_therapist_and_the_clinic_phone(
    dose, client_record, mailoutbox, settings
):
    settings.CLINIC_PHONE = "(555) 010-2000"
    settings.SELF_BOOKING_URL = ""
    settings.REMINDER_SIGNATURE = "Warmly, the Riverside team"
    assert send(DAY1).sent == 2  # the reminder, and the therapist's check
    (email,) = client_mails(mailoutbox, client_record)
    text, html = parts(email)
    assert "please book" in email.subject.lower()
    for part in (text, html):
        assert "Hi May," in part  # the preferred name from her intake, first name only
        assert "book your integration session with Sam" in part
        assert "(555) 010-2000" in part
        assert "Warmly, the Riverside team" in part
        assert "Rivera" not in part  # the therapist's first name only
    assert_discreet(email, client_record)
    row = client_rows(dose).first()
    assert row.status == ReminderStatus.SENT
    assert (row.variant, row.sent_to) == ("not_booked", client_record.email)
    assert row.sent_at == DAY1


def test_not_booked_gives_the_booking_link_when_the_clinic_allows_self_booking(
    dose, client_record, mailoutbox, settings
):
    settings.CLINIC_PHONE = "(555) 010-2000"
    settings.SELF_BOOKING_URL = "https://book.example.org/riverside"
    send(DAY1)
    (email,) = client_mails(mailoutbox, client_record)
    text, html = parts(email)
    assert "Book a time here: https://book.example.org/riverside" in text
    assert '<a href="https://book.example.org/riverside">' in html
    assert "(555) 010-2000" not in text
    assert_discreet(email, client_record)


def test_the_preferred_name_is_used_and_else_the_first_name(dose, client_record, mailoutbox):
    client_record.preferred_name = "Mo"
    client_record.save()
    send(DAY1)
    (email,) = client_mails(mailoutbox, client_record)
    text, html = parts(email)
    assert "Hi Mo," in text
    assert "Hi Mo," in html
    assert "May" not in text
    client_record.preferred_name = ""
    client_record.save()
    send(DAY1 + timedelta(days=1))
    assert "Hi Maya," in client_mails(mailoutbox, client_record)[1].body


def test_booked_gives_the_day_and_time_in_the_clients_zone(dose, client_record, mailoutbox):
    """Booked for Friday 3:00 PM in New York; the client lives in Los Angeles: 12:00 PM there."""
    client_record.time_zone = "America/Los_Angeles"
    client_record.save()
    book_integration(dose, starts_at=datetime(2025, 3, 14, 15, 0, tzinfo=CLINIC_TZ))
    # Day 1 for this client: Thursday 10:00 Los Angeles time (13:00 in New York).
    moment = datetime(2025, 3, 13, 13, 1, tzinfo=CLINIC_TZ)
    assert send(moment - timedelta(hours=3, minutes=2)).sent == 0  # 9:59 there: not yet
    assert send(moment).sent == 1
    (email,) = client_mails(mailoutbox, client_record)
    text, html = parts(email)
    assert "Friday, March 14 at 12:00 PM" in text
    assert "Friday, March 14 at 12:00 PM" in html
    assert "3:00 PM" not in text
    assert "(Room 2)" in text
    assert "please book" not in email.subject.lower()
    assert_discreet(email, client_record)
    assert client_rows(dose).first().variant == "booked"


def test_the_message_id_header_is_the_rows(dose, client_record, mailoutbox):
    send(DAY1)
    row = client_rows(dose).first()
    (email,) = client_mails(mailoutbox, client_record)
    assert email.message()["Message-ID"] == row.message_id


def test_each_day_sends_its_own_reminder_once(dose, mailoutbox):
    for day in (1, 2, 3):
        moment = DAY1 + timedelta(days=day - 1)
        assert send(moment).sent == (1 if day > 1 else 2)  # day 1 with the therapist's check
        assert send(moment + timedelta(minutes=1)).sent == 0
    mails = client_mails(mailoutbox, dose.session.client)
    assert len(mails) == 3
    ids = {email.message()["Message-ID"] for email in mails}
    assert ids == set(client_rows(dose).values_list("message_id", flat=True))


def test_nothing_is_sent_before_it_is_due(dose, client_record, mailoutbox):
    send(DAY1 - timedelta(minutes=2))  # 9:59: only the therapist's check (due 9:20) goes
    assert client_mails(mailoutbox, client_record) == []
    assert [row.status for row in client_rows(dose)] == ["pending"] * 3


# --- The therapist's check --------------------------------------------------------------------


def test_no_session_booked_24_hours_after_the_dose_alerts_the_therapist(
    dose, client_record, mailoutbox, settings
):
    settings.CLINIC_NAME = "Riverside Practice"
    assert send(GIVEN_AT + timedelta(hours=24) - timedelta(minutes=1)).claimed == 0
    assert send(GIVEN_AT + timedelta(hours=24)).sent == 1
    (email,) = mailoutbox
    therapist = client_record.primary_therapist
    assert email.to == [therapist.email]
    text, html = parts(email)
    assert "Hi Sam," in text
    # The beat has no request to take the site's address from: it says where to look instead of
    # giving a bare path.
    assert "Please sign in to Riverside Practice and open Reminders" in text
    assert "/reminders/" not in text
    assert 'href="/' not in html
    for part in (email.subject, text, html):
        assert not CLINICAL.search(part)
        assert "Maya" not in part
        assert "Patel" not in part
    assert "integration" not in email.subject.lower()
    check = therapist_row(dose)
    assert check.status == ReminderStatus.SENT
    assert check.variant == "alert"
    assert check.is_open_alert
    assert email.message()["Message-ID"] == check.message_id


def test_the_check_keeps_quiet_once_a_session_is_booked(dose, mailoutbox):
    book_integration(dose, starts_at=DOSE_DAY + timedelta(days=2, hours=6))
    send(GIVEN_AT + timedelta(hours=24))
    assert all(email.to != [dose.session.therapist.email] for email in mailoutbox)
    assert therapist_row(dose).status == ReminderStatus.CANCELLED


def test_the_alert_links_to_the_reminders_page_when_the_sites_address_is_known(dose, mailoutbox):
    moment = GIVEN_AT + timedelta(hours=24)
    with time_machine.travel(moment, tick=False):
        dispatch_due(now=moment, base_url="https://clinic.example.org")
    text, html = parts(mailoutbox[0])
    assert "https://clinic.example.org/reminders/" in text
    assert '<a href="https://clinic.example.org/reminders/">sign in</a>' in html


def test_the_alert_stays_open_when_its_e_mail_cannot_be_sent(dose, client_record, mailoutbox):
    """R8: the in-app alert does not depend on the e-mail (here: no address on file)."""
    type(client_record.primary_therapist).objects.filter(
        pk=client_record.primary_therapist_id
    ).update(email="")
    assert send(GIVEN_AT + timedelta(hours=24)).failed == 1
    check = therapist_row(dose)
    assert check.status == ReminderStatus.FAILED
    assert check.last_error == "No e-mail address on file."
    assert check.is_open_alert
    assert mailoutbox == []


def test_the_beat_task_links_the_alert_to_the_sites_address(dose, mailoutbox, settings):
    """The worker has no request: SITE_URL gives the e-mail its link."""
    settings.SITE_URL = "https://clinic.example.org"
    with time_machine.travel(dose.given_at + timedelta(hours=24, minutes=1), tick=False):
        dispatch_due_reminders()  # the beat's plan step: into the outbox
        send_outbox()  # the beat's outbox step
    [alert] = [m for m in mailoutbox if m.to == [dose.session.course.therapist.email]]
    assert "https://clinic.example.org/reminders/" in alert.body
