"""``manage.py reminders_send_due``: what is due now anywhere; fast-forward (--at, --days-ahead)
only in demo mode, walking through each due time so no reminder is cancelled as late (R8)."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from integration.models import IntegrationReminder, ReminderStatus
from tests.integration.reminder_helpers import CLINIC_TZ, GIVEN_AT, client_rows, record_dose

pytestmark = pytest.mark.django_db

# An hour after the dose (Wednesday, March 12, 2025, 9:20 New York time).
AFTER_DOSE = GIVEN_AT + timedelta(hours=1)


@pytest.fixture
def dose(client_record):
    return record_dose(client_record)


def run(*args, at=AFTER_DOSE) -> str:
    out = StringIO()
    with time_machine.travel(at, tick=False):
        call_command("reminders_send_due", *args, stdout=out)
    return out.getvalue()


def statuses(dose) -> list[str]:
    return list(client_rows(dose).values_list("status", flat=True))


def test_without_options_it_sends_what_is_due_now_even_in_production(
    dose, client_record, mailoutbox, settings
):
    settings.DEBUG = False
    assert run() == "Reminders due by Wed Mar 12, 2025 10:20 EDT: 0 sent, 0 cancelled, 0 failed.\n"
    out = run(at=datetime(2025, 3, 13, 10, 2, tzinfo=CLINIC_TZ))
    assert "2 sent, 0 cancelled, 0 failed." in out  # day 1 and the therapist's check
    assert statuses(dose) == ["sent", "pending", "pending"]
    assert {tuple(email.to) for email in mailoutbox} == {
        (client_record.email,),
        (client_record.primary_therapist.email,),
    }


@pytest.mark.parametrize("args", [("--at", "2025-03-13 10:05"), ("--days-ahead", "1")])
def test_fast_forward_is_refused_outside_demo_mode(dose, mailoutbox, settings, args):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="demo"):
        run(*args)
    assert mailoutbox == []
    assert not IntegrationReminder.objects.exclude(status=ReminderStatus.PENDING).exists()


def test_days_ahead_1_sends_tomorrows_day_1_reminder(dose, client_record, mailoutbox, settings):
    settings.DEBUG = True
    out = run("--days-ahead", "1")
    assert out.startswith("Reminders due by Thu Mar 13, 2025 23:59 EDT: 2 sent, 0 cancelled")
    assert statuses(dose) == ["sent", "pending", "pending"]
    (reminder,) = [email for email in mailoutbox if email.to == [client_record.email]]
    assert "please book" in reminder.subject.lower()
    # Sent as of its own due time, not as of the target: its row says so through the variant.
    assert client_rows(dose).first().variant == "not_booked"


def test_days_ahead_3_sends_every_day_at_its_own_time_none_cancelled_as_late(
    dose, client_record, mailoutbox, settings
):
    """Jumping straight to day 3 would find days 1 and 2 more than REMINDER_STALE_HOURS late;
    the walk through each due time sends them as the beat would have."""
    settings.DEBUG = True
    out = run("--days-ahead", "3")
    assert "4 sent, 0 cancelled, 0 failed." in out
    assert statuses(dose) == ["sent", "sent", "sent"]
    assert len([email for email in mailoutbox if email.to == [client_record.email]]) == 3
    # Nothing is sent twice by running it again.
    assert "0 sent, 0 cancelled, 0 failed." in run("--days-ahead", "3")
    assert len(mailoutbox) == 4


def test_at_reads_a_naive_time_in_the_clinics_zone(dose, settings):
    settings.DEBUG = True
    out = run("--at", "2025-03-13 09:59")
    assert "Thu Mar 13, 2025 09:59 EDT: 1 sent" in out  # the therapist's check (9:20) only
    assert statuses(dose) == ["pending", "pending", "pending"]
    assert "1 sent" in run("--at", "2025-03-13T10:00")
    assert statuses(dose) == ["sent", "pending", "pending"]


def test_at_with_an_offset(dose, settings):
    settings.DEBUG = True
    out = run("--at", "2025-03-13T14:00:00+00:00")  # 10:00 in New York
    assert "Thu Mar 13, 2025 10:00 EDT: 2 sent" in out


def test_at_in_the_past_is_one_dispatch_as_of_then(dose, settings):
    settings.DEBUG = True
    assert "0 sent" in run("--at", "2025-03-12 08:00")
    assert statuses(dose) == ["pending", "pending", "pending"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--at", "tomorrow"), "give a date and time"),
        (("--days-ahead", "31"), "0 to 30 days"),
        (("--days-ahead", "-1"), "0 to 30 days"),
        (("--at", "2025-03-13 10:00", "--days-ahead", "1"), "not allowed with"),
    ],
)
def test_bad_options_are_refused_clearly(dose, settings, args, message):
    settings.DEBUG = True
    with pytest.raises(CommandError, match=message):
        run(*args)
