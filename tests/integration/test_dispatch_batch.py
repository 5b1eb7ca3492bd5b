"""Reminder dispatch a batch at a time (issue 13): the plan step reads a batch and everything its
decisions need in a fixed number of queries, and writes it in a fixed number of statements; the
outbox step adds one statement per message (the mark, with the reminder's copy of it) to a fixed
few for the batch. Counted at two sizes, and held to the same answers as the one-row code."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinic import settings_reader
from integration import dispatch
from integration.models import IntegrationReminder, ReminderKind, ReminderStatus
from outbox import bookkeeping
from outbox import dispatch as outbox_dispatch
from outbox.models import MessageStatus, OutboxMessage
from outbox.services import message_queue
from patients.models import Phase, TreatmentCourse
from sessions.models import Session, SessionKind, SessionStatus
from sessions.scheduling.selectors import integrations_after_dose
from tests.integration.delivery_helpers import due_reminders

pytestmark = pytest.mark.django_db

# queue_due: SAVEPOINT, the claim (rows with client, course, therapist, dose, next dosing
# session), the batch's integration sessions, SAVEPOINT, the messages' INSERT, their audit
# INSERT, RELEASE, the plan rows' UPDATE, their audit INSERT, RELEASE.
PLAN_STATEMENTS = 10
# dispatch_due: SAVEPOINT, the claim's SELECT ... FOR UPDATE (whole rows) and UPDATE, RELEASE;
# then one statement per message (PostgreSQL: the mark and the reminder's copy in one WITH).
OUTBOX_STATEMENTS = 4
# Messages queued more than a minute ago are asked again: the plan rows and their sessions.
STILL_WANTED_STATEMENTS = 2


def warm_caches() -> None:
    """The clinic settings and the content types are cached per process after the first batch;
    the counts are the steady state's."""
    settings_reader.current()
    ContentType.objects.get_for_models(OutboxMessage, IntegrationReminder)


def plan_statements(count: int) -> int:
    now = timezone.now()
    due_reminders(count, now=now, per_dose=1, clients=2)
    warm_caches()
    with CaptureQueriesContext(connection) as queries:
        result = dispatch.queue_due(now=now, limit=500)
    assert (result.claimed, result.cancelled) == (count, 0)
    return len(queries)


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite (make run) splits an INSERT at its limit of 999 parameters (47 messages)",
)
def test_the_plan_step_runs_the_same_statements_for_5_and_50_reminders():
    assert plan_statements(5) == PLAN_STATEMENTS
    assert plan_statements(50) == PLAN_STATEMENTS
    rows = IntegrationReminder.objects.all()
    assert rows.count() == 55
    assert set(rows.values_list("status", flat=True)) == {ReminderStatus.SENDING}
    # Each row handed to its own message, with its own Message-ID and address.
    for row in rows.select_related("outbox_message", "client"):
        assert row.outbox_message.message_id == row.message_id
        assert row.sent_to == row.outbox_message.to == row.client.email
        assert row.variant == "not_booked"


def test_cancelled_and_queued_rows_in_one_batch_are_written_in_the_same_statements():
    now = timezone.now()
    ids = due_reminders(8, now=now, per_dose=1, clients=2)
    warm_caches()
    rows = IntegrationReminder.objects.filter(pk__in=ids)
    stopped = rows.first().course
    TreatmentCourse.objects.filter(pk=stopped.pk).update(
        phase=Phase.DISCONTINUED, closed_at=timezone.now()
    )
    with CaptureQueriesContext(connection) as queries:
        result = dispatch.queue_due(now=now)
    assert len(queries) == PLAN_STATEMENTS
    assert (result.claimed, result.cancelled) == (8, 4)
    cancelled = rows.filter(course=stopped)
    assert {row.status for row in cancelled} == {ReminderStatus.CANCELLED}
    assert {row.cancelled_reason for row in cancelled} == {"The course was discontinued."}
    assert not cancelled.filter(outbox_message__isnull=False).exists()
    assert {row.status for row in rows.exclude(course=stopped)} == {ReminderStatus.SENDING}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the one-statement mark")
def test_the_outbox_step_grows_only_by_the_mark_of_each_message(mailoutbox):
    now = timezone.now()
    due_reminders(55, now=now, per_dose=1, clients=2)
    dispatch.queue_due(now=now)
    for size in (5, 50):
        with CaptureQueriesContext(connection) as queries:
            assert outbox_dispatch.dispatch_due(now=now, limit=size).sent == size
        assert len(queries) == OUTBOX_STATEMENTS + size
    assert len(mailoutbox) == 55
    # The reminder's copy of the outcome came in the mark's own statement.
    sent = IntegrationReminder.objects.filter(status=ReminderStatus.SENT)
    assert sent.count() == 55
    for row in sent.select_related("outbox_message"):
        assert row.sent_at == row.outbox_message.sent_at
        assert row.outbox_message.status == MessageStatus.SENT


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the one-statement mark")
def test_asking_again_whether_reminders_are_wanted_is_two_queries_for_the_batch(mailoutbox):
    """Messages queued more than a minute ago (a retry through an outage, a slow queue) are
    checked again before they go: two queries for the batch, not two per message."""
    now = timezone.now()
    ids = due_reminders(30, now=now, per_dose=1, clients=3)
    dispatch.queue_due(now=now)
    stopped = IntegrationReminder.objects.get(pk=ids[0]).course
    later = now + timedelta(minutes=2)
    with time_machine.travel(later, tick=False):
        # Discontinued since they were queued (the course's receiver cancels pending rows only:
        # these are in the outbox already).
        TreatmentCourse.objects.filter(pk=stopped.pk).update(
            phase=Phase.DISCONTINUED, closed_at=timezone.now()
        )
        for size in (5, 25):
            with CaptureQueriesContext(connection) as queries:
                result = outbox_dispatch.dispatch_due(now=later, limit=size)
            assert result.claimed == size
            assert len(queries) == OUTBOX_STATEMENTS + STILL_WANTED_STATEMENTS + size
    rows = IntegrationReminder.objects.filter(pk__in=ids)
    assert {row.status for row in rows.filter(course=stopped)} == {ReminderStatus.CANCELLED}
    assert {row.cancelled_reason for row in rows.filter(course=stopped)} == {
        "The course was discontinued."
    }
    assert {row.status for row in rows.exclude(course=stopped)} == {ReminderStatus.SENT}
    assert len(mailoutbox) == rows.exclude(course=stopped).count() == 20


# --- The batch's integration sessions: the same answers as the one-dose selector ------------


def integration(course, *, at, status=SessionStatus.SCHEDULED, follows=None, kind=None):
    session = Session.objects.create(
        client=course.client,
        course=course,
        therapist=course.therapist,
        kind=kind or SessionKind.INTEGRATION,
        starts_at=at,
        ends_at=at + timedelta(minutes=50),
        location="Room 2",
        status=status,
        cancel_reason="Client unwell" if status == SessionStatus.CANCELLED else "",
        follows_dose=follows,
        created_by=course.therapist,
    )
    return session


def test_the_batch_finds_the_integration_sessions_the_one_dose_selector_finds():
    """Every way a session comes to follow a dose (linked, booked before the dosing session,
    linked to another dosing session, after a cancelled or an empty dosing session), for two
    courses at once, each dose's list as integrations_after_dose gives it."""
    now = timezone.now()
    ids = due_reminders(16, now=now, per_dose=2, clients=2)
    rows = list(dispatch.for_deciding().filter(pk__in=ids).order_by("dose__given_at"))
    courses = {row.dose.session.course_id: row.dose.session.course for row in rows}
    first, second = courses.values()
    doses = sorted(
        {row.dose for row in rows if row.dose.session.course_id == first.pk},
        key=lambda dose: dose.given_at,
    )
    oldest, older, newer, newest = doses
    day = timedelta(days=1)
    integration(first, at=oldest.given_at + 2 * day, follows=oldest.session)
    # Linked to the oldest dose's session, but held after the next dose: both lists have it.
    integration(first, at=older.given_at + 3 * day, follows=oldest.session)
    integration(first, at=older.given_at + 4 * day, status=SessionStatus.COMPLETED)
    integration(first, at=older.given_at + 5 * day, status=SessionStatus.CANCELLED)
    # A cancelled dosing session does not end a dose's window; an empty scheduled one does.
    integration(
        first,
        at=newer.given_at + 2 * day,
        status=SessionStatus.CANCELLED,
        kind=SessionKind.DOSING,
    )
    integration(first, at=newer.given_at + 4 * day)
    integration(first, at=newest.given_at + 5 * day, kind=SessionKind.DOSING)
    integration(first, at=newest.given_at + 6 * day)  # after that dosing session: no dose's
    integration(second, at=newest.given_at + 2 * day)  # the other course's
    rows = list(dispatch.for_deciding().filter(pk__in=ids))
    found = dispatch.integrations_for(rows)
    for row in rows:
        assert found[row.pk] == list(integrations_after_dose(dose=row.dose)), row
    lists = {row.dose_id: [session.starts_at for session in found[row.pk]] for row in rows}
    assert lists[oldest.pk] == [oldest.given_at + 2 * day, older.given_at + 3 * day]
    assert len(lists[older.pk]) == 3
    assert len(lists[newer.pk]) == 1
    assert lists[newest.pk] == []


def test_the_batch_reads_the_integration_sessions_in_one_query():
    now = timezone.now()
    ids = due_reminders(12, now=now, per_dose=3, clients=2)
    rows = list(dispatch.for_deciding().filter(pk__in=ids))
    with CaptureQueriesContext(connection) as queries:
        found = dispatch.integrations_for(rows)
    assert len(queries) == 1
    assert set(found) == set(ids)


# --- The audit trail (R22): what save() recorded, in one INSERT per batch -----------------


def latest_entry(instance) -> LogEntry:
    return LogEntry.objects.get_for_object(instance).latest("timestamp")


def test_the_batch_leaves_the_audit_entries_save_left():
    now = timezone.now()
    ids = due_reminders(2, now=now, per_dose=2, clients=1)
    batched, by_hand = IntegrationReminder.objects.filter(pk__in=ids).order_by("id")
    # The reference: what the one-row code wrote, through save() and auditlog's signals.
    message = message_queue(
        kind="integration_reminder",
        to=by_hand.client.email,
        subject="Your integration session",
        text="Hi",
        expires_at=now + timedelta(hours=1),
        client=by_hand.client,
        message_id=f"<by-hand-{by_hand.pk}@localhost>",
        to_client=True,
        kick=False,
    )
    by_hand.status = ReminderStatus.SENDING
    by_hand.variant = "not_booked"
    by_hand.sent_to = by_hand.client.email
    by_hand.outbox_message = message
    by_hand.save(update_fields=["status", "variant", "sent_to", "outbox_message", "updated_at"])

    dispatch.queue_due(now=now, limit=1)
    batched.refresh_from_db()
    assert batched.status == ReminderStatus.SENDING
    for ours, theirs in ((batched, by_hand), (batched.outbox_message, message)):
        entry, reference = latest_entry(ours), latest_entry(theirs)
        assert entry.action == reference.action
        assert set(entry.changes) == set(reference.changes)
        assert entry.object_repr == str(ours)
        assert entry.additional_data == {"client_id": ours.client_id}
        assert entry.content_type == reference.content_type
    changes = latest_entry(batched).changes
    assert changes["status"] == ["pending", "sending"]
    assert changes["outbox_message"] == ["None", str(batched.outbox_message_id)]
    assert "text" not in latest_entry(batched.outbox_message).changes  # R25: excluded as before


def test_a_cancelled_row_is_audited_with_its_reason():
    now = timezone.now()
    [pk] = due_reminders(1, now=now, per_dose=1, clients=1)
    row = IntegrationReminder.objects.get(pk=pk)
    TreatmentCourse.objects.filter(pk=row.course_id).update(
        phase=Phase.DISCONTINUED, closed_at=timezone.now()
    )
    dispatch.queue_due(now=now)
    changes = latest_entry(row).changes
    assert changes["status"] == ["pending", "cancelled"]
    assert changes["cancelled_reason"] == ["", "The course was discontinued."]
    assert "outbox_message" not in changes


def test_a_therapist_check_is_queued_in_the_same_batch_as_client_reminders():
    now = timezone.now()
    ids = due_reminders(3, now=now, per_dose=1, clients=1)
    IntegrationReminder.objects.filter(pk=ids[0]).update(kind=ReminderKind.THERAPIST, day=0)
    dispatch.queue_due(now=now, base_url="https://clinic.example.org")
    rows = IntegrationReminder.objects.filter(pk__in=ids).select_related("course__therapist")
    check = rows.get(pk=ids[0])
    assert (check.variant, check.sent_to) == ("alert", check.course.therapist.email)
    assert check.outbox_message.kind == "integration_check"
    assert check.outbox_message.headers == {}  # a therapist's reply goes to the sender
    assert {row.variant for row in rows.exclude(pk=ids[0])} == {"not_booked"}


def test_a_mark_without_the_claim_leaves_the_message_and_its_reminder_alone():
    """The outcome and the reminder's copy are one statement: when the claim is no longer this
    call's (another worker took the row over after the lease), neither is written."""
    now = timezone.now()
    [pk] = due_reminders(1, now=now, per_dose=1, clients=1)
    dispatch.queue_due(now=now)
    token, [message] = bookkeeping.claim_rows(now=now, limit=1)
    sent = {"status": MessageStatus.SENT, "sent_at": timezone.now(), "last_error": ""}
    assert bookkeeping.record_outcome(message, "another worker's token", **sent) is False
    row = IntegrationReminder.objects.select_related("outbox_message").get(pk=pk)
    assert (row.status, row.outbox_message.status) == ("sending", "sending")
    assert bookkeeping.record_outcome(message, token, **sent) is True
    row = IntegrationReminder.objects.select_related("outbox_message").get(pk=pk)
    assert (row.status, row.outbox_message.status) == ("sent", "sent")
    assert row.sent_at == row.outbox_message.sent_at == message.sent_at
