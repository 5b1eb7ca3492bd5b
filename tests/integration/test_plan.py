"""The reminder plan of a dose (R8), made by the real dosing service in its own transaction, and
everything that cancels it: the integration session held, the course discontinued, a booking (the
therapist's check), a reminder too late to send, an archived client."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import transaction

from integration.dispatch import dispatch_due
from integration.models import IntegrationReminder, ReminderStatus
from integration.services import reminder_plan_create
from patients.clients import reminder_choice
from patients.clients.services import client_archive
from patients.courses.services import course_advance
from patients.models import Phase, ReminderChoiceVia
from sessions import signals
from sessions.dosing.services import DosingError, bp_record, dose_record
from sessions.models import DoseAdministration, Session, SessionKind, SessionStatus
from sessions.scheduling.services import session_mark, session_schedule
from tests.factories_integration import dose_for
from tests.factories_sessions import dosing_ready_session
from tests.integration.delivery_helpers import free_port
from tests.integration.reminder_helpers import (
    CLINIC_TZ,
    DOSE_DAY,
    GIVEN_AT,
    UTC,
    book_integration,
    client_rows,
    record_dose,
    therapist_row,
)
from tests.sessions.dosing_helpers import give_dose, prepare

pytestmark = pytest.mark.django_db


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """``day`` days after the dose day, at ``hour``:``minute`` clinic time."""
    return datetime.combine(
        DOSE_DAY.date() + timedelta(days=day), datetime.min.time(), tzinfo=CLINIC_TZ
    ).replace(hour=hour, minute=minute)


def dispatch(moment: datetime):
    with time_machine.travel(moment, tick=False):
        return dispatch_due(now=moment)


# --- The plan ---------------------------------------------------------------------------------


def test_a_dose_makes_three_client_reminders_and_one_therapist_check(client_record):
    dose = record_dose(client_record)
    rows = list(client_rows(dose))
    assert [row.day for row in rows] == [1, 2, 3]
    # R8: 10:00 in the client's zone (here the clinic's) on days 1-3 after the dose.
    assert [row.due_at for row in rows] == [at(1, 10), at(2, 10), at(3, 10)]
    assert all(row.not_before == row.due_at for row in rows)
    assert all(row.status == ReminderStatus.PENDING for row in rows)
    assert all(row.client == client_record for row in rows)
    assert all(row.course_id == dose.session.course_id for row in rows)
    check = therapist_row(dose)
    assert check.due_at == GIVEN_AT + timedelta(hours=24)
    assert check.status == ReminderStatus.PENDING
    # One fixed Message-ID per row, made with it (the idempotency key of the e-mail).
    ids = [row.message_id for row in [*rows, check]]
    assert len(set(ids)) == 4
    assert all(value.startswith("<") for value in ids)


def test_the_plan_is_written_in_the_doses_transaction(client_record):
    """Without on_commit firing (the test's transaction never commits), the rows exist as soon as
    dose_record returns; and rolling the dose back takes its plan with it."""
    dose = record_dose(client_record)
    assert IntegrationReminder.objects.filter(dose=dose).count() == 4

    with time_machine.travel(DOSE_DAY, tick=False):
        other = dosing_ready_session(starts_at=DOSE_DAY)
    given = DOSE_DAY + timedelta(minutes=20)
    with time_machine.travel(given, tick=False):
        prepare(other, now=given - timedelta(minutes=15))
        bp_record(
            session=other,
            by=other.therapist,
            moment="pre_dose",
            systolic=120,
            diastolic=80,
            pulse=70,
            taken_at=given - timedelta(minutes=5),
            now=given - timedelta(minutes=5),
        )

        class Abandon(Exception):
            pass

        def dose_then_roll_back():
            with transaction.atomic():
                dose_record(
                    session=other,
                    by=other.therapist,
                    given_at=given,
                    now=given,
                    dose_mg=100,
                    tablets=1,
                )
                assert IntegrationReminder.objects.filter(dose__session=other).count() == 4
                raise Abandon

        with pytest.raises(Abandon):
            dose_then_roll_back()
    assert not DoseAdministration.objects.filter(session=other).exists()
    assert not IntegrationReminder.objects.filter(client=other.client).exists()


def test_a_refused_dose_leaves_no_reminders(client_record):
    with time_machine.travel(DOSE_DAY, tick=False):
        session = dosing_ready_session(client_record, starts_at=DOSE_DAY)
    given = DOSE_DAY + timedelta(minutes=20)
    with time_machine.travel(given, tick=False):
        prepare(session, now=given - timedelta(minutes=15))
        # No pre-dose reading at all (R11): the dose is refused.
        with pytest.raises(DosingError):
            dose_record(
                session=session,
                by=session.therapist,
                given_at=given,
                now=given,
                dose_mg=100,
                tablets=1,
            )
    assert not IntegrationReminder.objects.exists()


def test_replaying_the_dose_signal_does_not_double_the_plan(client_record):
    dose = record_dose(client_record)
    before = list(IntegrationReminder.objects.filter(dose=dose).values_list("id", "message_id"))
    signals.dose_recorded.send(sender=DoseAdministration, dose=dose)
    signals.dose_recorded.send(sender=DoseAdministration, dose=dose)
    after = list(IntegrationReminder.objects.filter(dose=dose).values_list("id", "message_id"))
    assert sorted(after) == sorted(before)
    assert len(after) == 4


def test_the_clinic_chooses_the_reminder_days(client_record, settings):
    settings.REMINDER_DAYS = [1, 3]
    dose = record_dose(client_record)
    assert [row.day for row in client_rows(dose)] == [1, 3]
    assert [row.due_at for row in client_rows(dose)] == [at(1, 10), at(3, 10)]


def test_the_plan_follows_the_clients_zone_across_the_dst_change(client_record):
    """A client in Los Angeles dosed on Friday Oct 30, 2026 (9:00 New York): 10:00 Los Angeles
    time is 17:00 UTC on Saturday, and 18:00 UTC from Sunday Nov 1 (the end of daylight time)."""
    client_record.time_zone = "America/Los_Angeles"
    client_record.save()
    dose = record_dose(client_record, start=datetime(2026, 10, 30, 9, 0, tzinfo=CLINIC_TZ))
    assert [row.due_at.astimezone(UTC) for row in client_rows(dose)] == [
        datetime(2026, 10, 31, 17, 0, tzinfo=UTC),
        datetime(2026, 11, 1, 18, 0, tzinfo=UTC),
        datetime(2026, 11, 2, 18, 0, tzinfo=UTC),
    ]


def test_the_plan_counts_days_from_the_clients_own_date(client_record):
    """A dose at 21:20 in New York is already the next day in London: day 1 is the day after
    that, at 10:00 London time."""
    client_record.time_zone = "Europe/London"
    client_record.save()
    dose = record_dose(client_record, start=datetime(2025, 6, 10, 21, 0, tzinfo=CLINIC_TZ))
    first = client_rows(dose).first()
    assert first.due_at.astimezone(UTC) == datetime(2025, 6, 12, 9, 0, tzinfo=UTC)  # 10:00 BST


# --- Cancellation -------------------------------------------------------------------------------


def test_the_integration_session_held_cancels_the_remaining_reminders(client_record, mailoutbox):
    dose = record_dose(client_record)
    integration = book_integration(dose, starts_at=at(1, 15))
    assert integration.follows_dose_id == dose.session_id
    assert dispatch(at(1, 10, 1)).sent == 1  # day 1: "see you at 3:00 PM"
    with time_machine.travel(at(1, 16), tick=False):
        session_mark(session=integration, status=SessionStatus.COMPLETED, by=integration.therapist)
    rows = list(client_rows(dose))
    assert [row.status for row in rows] == ["sent", "cancelled", "cancelled"]
    assert rows[1].cancelled_reason == "The integration session took place."
    dispatch(at(2, 10, 1))
    dispatch(at(3, 10, 1))
    assert len(mailoutbox) == 1
    assert [row.status for row in client_rows(dose)] == ["sent", "cancelled", "cancelled"]


def test_a_held_session_missed_by_the_receiver_is_still_caught_at_send_time(
    client_record, mailoutbox, settings
):
    # Only the integration reminder is counted here (no appointment reminder of the session).
    settings.APPOINTMENT_REMINDERS = False
    dose = record_dose(client_record)
    integration = book_integration(dose, starts_at=at(1, 9))
    # A bulk update sends no post_save: the dispatcher's own check must stop the reminder.
    Session.objects.filter(pk=integration.pk).update(status=SessionStatus.COMPLETED)
    result = dispatch(at(1, 10, 1))
    assert (result.sent, result.cancelled) == (0, 1)
    assert mailoutbox == []
    assert client_rows(dose).first().cancelled_reason == "The integration session took place."


def test_discontinuing_the_course_cancels_every_reminder_and_check(client_record, mailoutbox):
    dose = record_dose(client_record)
    with time_machine.travel(GIVEN_AT + timedelta(hours=3), tick=False):
        course_advance(
            course=dose.session.course,
            to_phase=Phase.DISCONTINUED,
            by=client_record.primary_therapist,
            reason="The client chose to stop.",
        )
    rows = IntegrationReminder.objects.filter(dose=dose)
    assert set(rows.values_list("status", flat=True)) == {"cancelled"}
    assert set(rows.values_list("cancelled_reason", flat=True)) == {"The course was discontinued."}
    for day in (1, 2, 3):
        dispatch(at(day, 10, 1))
    assert mailoutbox == []


def test_booking_the_integration_session_cancels_the_therapists_check(client_record, mailoutbox):
    dose = record_dose(client_record)
    book_integration(dose, starts_at=at(2, 15))
    check = therapist_row(dose)
    assert check.status == ReminderStatus.CANCELLED
    assert check.cancelled_reason == "An integration session was booked in time."
    assert dispatch(GIVEN_AT + timedelta(hours=24, minutes=1)).sent == 0
    assert mailoutbox == []
    # The client's reminders go on: the booked one is reminded of on day 1.
    assert [row.status for row in client_rows(dose)] == ["pending"] * 3


def test_booking_after_the_alert_resolves_it(client_record, mailoutbox):
    dose = record_dose(client_record)
    dispatch(GIVEN_AT + timedelta(hours=24, minutes=1))
    alert = therapist_row(dose)
    assert alert.is_open_alert
    integration = book_integration(dose, starts_at=at(2, 15))
    alert.refresh_from_db()
    assert not alert.is_open_alert
    assert alert.acknowledged_by == integration.created_by
    assert alert.status == ReminderStatus.SENT  # its e-mail went out; it stays on record


def test_a_reminder_more_than_the_stale_hours_late_is_cancelled_not_sent(
    client_record, mailoutbox, settings
):
    settings.REMINDER_STALE_HOURS = 12
    dose = record_dose(client_record)
    book_integration(dose, starts_at=at(3, 15))  # no therapist e-mail in the way
    _, day2, _ = client_rows(dose)
    # Day 1 is looked at exactly 12 hours late: still sent. Day 2 one minute later than that.
    assert dispatch(at(1, 22)).sent == 1
    result = dispatch(at(2, 22, 1))
    assert (result.sent, result.cancelled) == (0, 1)
    day2.refresh_from_db()
    assert day2.status == ReminderStatus.CANCELLED
    assert "wrong day" in day2.cancelled_reason
    assert len(mailoutbox) == 1


def test_an_archived_clients_reminders_are_cancelled_at_send_time(client_record, mailoutbox):
    dose = record_dose(client_record)
    with time_machine.travel(at(0, 18), tick=False):
        client_archive(
            by=client_record.primary_therapist, client=client_record, reason="Moved away"
        )
    result = dispatch(at(1, 10, 1))
    assert result.sent == 0
    assert result.cancelled == 2  # day 1 and the therapist's check
    assert mailoutbox == []
    assert set(
        IntegrationReminder.objects.filter(dose=dose, status="cancelled").values_list(
            "cancelled_reason", flat=True
        )
    ) == {"The client's record is archived."}


def test_an_integration_session_booked_before_the_dosing_day_counts_as_booked(
    client_record, mailoutbox
):
    """R7, R8: clinics book the integration session ahead; it follows the planned dosing
    session, so after the dose the reminders name it and the therapist is not alerted."""
    with time_machine.travel(DOSE_DAY - timedelta(days=2), tick=False):
        dosing = dosing_ready_session(client_record, starts_at=DOSE_DAY)
        integration = session_schedule(
            client=client_record,
            kind=SessionKind.INTEGRATION,
            starts_at=DOSE_DAY + timedelta(days=1, hours=5),
            by=dosing.therapist,
        )
    assert integration.follows_dose == dosing
    with time_machine.travel(GIVEN_AT, tick=False):
        dose = give_dose(dosing, at=GIVEN_AT)
    dispatch(DOSE_DAY + timedelta(days=1, hours=1, minutes=1))
    day_one = client_rows(dose).get(day=1)
    assert (day_one.status, day_one.variant) == (ReminderStatus.SENT, "booked")
    check = therapist_row(dose)
    assert check.status == ReminderStatus.CANCELLED


@pytest.mark.parametrize(
    "given_at",
    [
        # The evening before each of New York's 2025 clock changes, and one across midnight.
        datetime(2025, 3, 8, 20, 30),
        datetime(2025, 3, 9, 1, 30),
        datetime(2025, 11, 1, 20, 30),
        datetime(2025, 11, 2, 0, 45),
    ],
)
def test_the_therapists_check_is_24_real_hours_after_the_dose_across_dst(client_record, given_at):
    """The check was 23 or 25 hours after the dose across a DST change: 24 h were added to a
    wall-clock time in the clinic's zone. Now in UTC."""
    dose = dose_for(client_record, given_at=given_at.replace(tzinfo=CLINIC_TZ))
    dose.given_at = given_at.replace(tzinfo=CLINIC_TZ)  # as the dosing service holds it
    reminder_plan_create(dose=dose)
    check = therapist_row(dose)
    assert (check.due_at - dose.given_at).total_seconds() == 24 * 3600


def test_a_reminder_retried_after_the_course_was_discontinued_is_cancelled(
    client_record, mailoutbox, settings
):
    """The reminder was handed to the outbox, the mail server refused it for now, and before the
    retry the course was discontinued: the outbox asks the plan again and does not send it."""
    dose = record_dose(client_record)
    book_integration(dose, starts_at=at(3, 15))  # no therapist e-mail in the way
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    assert dispatch(at(1, 10, 1)).retried == 1
    day1 = client_rows(dose).first()
    assert day1.status == ReminderStatus.SENDING
    with time_machine.travel(at(1, 10, 2), tick=False):
        course_advance(
            course=dose.session.course,
            to_phase=Phase.DISCONTINUED,
            by=client_record.primary_therapist,
            reason="The client chose to stop.",
        )
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert dispatch(day1.outbox_message.not_before).cancelled == 1
    day1.refresh_from_db()
    assert (day1.status, day1.cancelled_reason) == ("cancelled", "The course was discontinued.")
    assert day1.outbox_message.status == "cancelled"
    assert mailoutbox == []


def test_a_client_who_turned_reminders_off_gets_no_integration_reminder(
    client_record, mailoutbox, settings
):
    """The client's choice (patients.clients.reminder_choice) stops their reminders; the
    therapist's check and alert go on (R8), and the sent reminders carry the one-click link."""
    settings.SITE_URL = "https://clinic.example.org"
    dose = record_dose(client_record)
    result = dispatch(at(1, 10, 1))
    (email,) = [m for m in mailoutbox if m.to == [client_record.email]]
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert reminder_choice.stop_url(client_record) in email.body
    mailoutbox.clear()
    reminder_choice.reminders_set(client=client_record, wanted=False, via=ReminderChoiceVia.EMAIL)
    result = dispatch(at(2, 10, 1))
    assert result.sent == 0
    assert mailoutbox == []
    day_2 = IntegrationReminder.objects.get(dose=dose, kind="client", day=2)
    assert day_2.cancelled_reason == reminder_choice.TURNED_OFF
    assert therapist_row(dose).status != ReminderStatus.CANCELLED
