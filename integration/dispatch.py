"""From the reminder plan to the outbox (R8). A plan row is due at its time; then it is decided:
cancelled (a discontinued course, an integration session already held or booked, far past its
day) or composed and put in the outbox (outbox.models.OutboxMessage) with the row's fixed
Message-ID, in one transaction. The outbox's dispatcher sends it, with the retries, lease and
crash rules every message shares; its outcome is copied to the plan row in the statement that
records it (the plan row is the message's mirror, registered in integration.receivers).

Queueing is pure database work (no SMTP), claimed with SELECT ... FOR UPDATE SKIP LOCKED, so two
workers never queue one row twice; the unique Message-ID is the second guard. It is done a
batch at a time in a fixed number of statements, whatever the batch's size: the claim reads the
rows with everything the decision and the message need (client, course, therapist, dose, the
course's next dosing session), one query reads the integration sessions of the whole batch, and
the messages, the plan rows and their audit entries are written in one statement each."""

from __future__ import annotations

import copy
import logging
from collections import defaultdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypedDict

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, F, Field, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils import timezone

from clinic import settings_reader
from integration import messages
from integration.models import IntegrationReminder, ReminderKind, ReminderStatus
from outbox import dispatch as outbox_dispatch
from outbox.bulk_audit import entries_record
from outbox.dispatch import DispatchResult
from outbox.models import MessageKind, OutboxMessage
from outbox.services import Draft, messages_queue
from outbox.tasks import dispatch_due as dispatch_outbox
from patients.clients import reminder_choice
from patients.models import Phase
from sessions.models import Session, SessionKind, SessionStatus
from sessions.scheduling.selectors import integrations_after_dose

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

logger = logging.getLogger(__name__)

__all__ = ["DispatchResult", "dispatch_all_due", "dispatch_due", "queue_all_due", "queue_due"]
# Plan rows decided about per transaction: the statements are the same for 5 rows or 500, so a
# batch is as large as one transaction comfortably holds (measured in docs/benchmarks.md).
BATCH = 500
# The fields a decision writes on a plan row (cancelled: the first three; queued: all), as
# save(update_fields=...) would have named them for the audit trail.
DECIDED = ["status", "cancelled_reason", "updated_at", "variant", "sent_to", "outbox_message"]


class DoseBounds(TypedDict):
    """What for_deciding() adds to each plan row: the course of the dose's session, and the start
    of that course's next dosing session (None: there is none)."""

    dose_course_id: int
    next_dosing_at: datetime | None


if TYPE_CHECKING:
    Deciding = WithAnnotations[IntegrationReminder, DoseBounds]


def integrations_of(reminder: IntegrationReminder) -> list[Session]:
    """The integration sessions that follow this reminder's dose, for one reminder: not only
    those whose ``follows_dose`` names the dose: a session booked before its dosing session, or
    linked to one since cancelled or deferred, is after the dose all the same
    (scheduling.selectors.integrations_after_dose). One query. A batch uses integrations_for."""
    return list(integrations_after_dose(dose=reminder.dose))


def for_deciding() -> QuerySet[Deciding]:
    """Plan rows with everything deciding about them and composing their message reads, in the
    one query: the client, the course and its therapist, the dose, and the start of the next
    dosing session of the dose's course (``next_dosing_at``), which bounds the integration
    sessions that follow the dose (integrations_for)."""
    next_dosing = (
        Session.objects.filter(
            course_id=OuterRef("dose__session__course_id"),
            kind=SessionKind.DOSING,
            starts_at__gt=OuterRef("dose__given_at"),
        )
        .exclude(pk=OuterRef("dose__session_id"))
        .filter(Q(status=SessionStatus.SCHEDULED) | Q(dose__isnull=False))
        .order_by("starts_at", "id")
        .values("starts_at")[:1]
    )
    return IntegrationReminder.objects.select_related(
        "client", "course", "course__therapist", "dose"
    ).annotate(dose_course_id=F("dose__session__course_id"), next_dosing_at=Subquery(next_dosing))


def integrations_for(reminders: list[Deciding]) -> dict[int, list[Session]]:
    """{reminder pk: the integration sessions that follow its dose, soonest first}, for a batch
    read with for_deciding(), in one query. The rule is integrations_after_dose's (R7, R8),
    applied here to the batch's candidates: the sessions linked to the dose's session, and every
    integration session of the dose's course from the dose until the course's next dosing
    session that is scheduled or holds a dose (``next_dosing_at``), whatever it was linked to.
    tests/integration/test_dispatch_batch.py holds the two to the same answers."""
    if not reminders:
        return {}
    candidates = Session.objects.filter(kind=SessionKind.INTEGRATION).filter(
        Q(follows_dose_id__in={reminder.dose.session_id for reminder in reminders})
        | Q(
            course_id__in={reminder.dose_course_id for reminder in reminders},
            starts_at__gte=min(reminder.dose.given_at for reminder in reminders),
        )
    )
    linked: dict[int, list[Session]] = defaultdict(list)
    of_course: dict[int, list[Session]] = defaultdict(list)
    for session in candidates.order_by("starts_at", "id"):
        if session.follows_dose_id is not None:
            linked[session.follows_dose_id].append(session)
        if session.course_id is not None:
            of_course[session.course_id].append(session)
    found = {}
    for reminder in reminders:
        dose, until = reminder.dose, reminder.next_dosing_at
        sessions = {session.pk: session for session in linked[dose.session_id]}
        for session in of_course[reminder.dose_course_id]:
            if session.starts_at >= dose.given_at and (until is None or session.starts_at < until):
                sessions[session.pk] = session
        found[reminder.pk] = sorted(sessions.values(), key=lambda s: (s.starts_at, s.pk))
    return found


def why_not(reminder: IntegrationReminder, now: datetime, integrations: list[Session]) -> str:
    """A reason not to send this reminder at all, or "". Asked when it is due, and again by the
    outbox before a later try (a retry through a mail outage)."""
    course = reminder.course
    if course.phase == Phase.DISCONTINUED:
        return "The course was discontinued."
    if reminder.client.archived_at is not None:
        return "The client's record is archived."
    if now - reminder.due_at > timedelta(hours=settings.REMINDER_STALE_HOURS):
        return "Not sent in time (the sending was delayed): it would arrive on the wrong day."
    statuses = {session.status for session in integrations}
    if reminder.kind == ReminderKind.CLIENT:
        if not reminder.client.reminders_wanted:
            return reminder_choice.TURNED_OFF
        if SessionStatus.COMPLETED in statuses:
            return "The integration session took place."
    elif statuses - {SessionStatus.CANCELLED}:
        return "An integration session was booked in time."
    return ""


def _draft(
    reminder: IntegrationReminder,
    *,
    now: datetime,
    integrations: list[Session],
    values: settings_reader.Effective,
    base_url: str,
) -> tuple[messages.Message, Draft]:
    if reminder.kind == ReminderKind.CLIENT:
        text = messages.client_message(reminder, now=now, integrations=integrations, values=values)
        kind = MessageKind.INTEGRATION_REMINDER
        # R8: a day-N reminder is of no use the next day.
        expires_at = reminder.due_at + timedelta(hours=settings.REMINDER_STALE_HOURS)
    else:
        # R8: the in-app alert exists from now on, whatever happens to its e-mail.
        text = messages.therapist_message(reminder, base_url=base_url)
        kind = MessageKind.INTEGRATION_CHECK
        expires_at = now + timedelta(hours=settings.OUTBOX_ALERT_HOURS)
    draft = Draft(
        kind=kind,
        to=text.to,
        subject=text.subject,
        text=text.text,
        html=text.html,
        client=reminder.client,
        not_before=now,
        expires_at=expires_at,
        message_id=reminder.message_id,
        to_client=reminder.kind == ReminderKind.CLIENT,
        # RFC 8058: the client's reminders carry the one-click link that stops them.
        headers=reminder_choice.stop_headers(reminder.client)
        if reminder.kind == ReminderKind.CLIENT
        else None,
    )
    return text, draft


def _record_decisions(rows: list[Deciding], *, changed_at: datetime) -> int:
    """Write the batch's decisions in one UPDATE. Each value is chosen by a list of ids (one per
    reason or variant, a handful whatever the batch's size: bulk_update's one CASE branch per row
    and field took longer than the decisions); a queued row takes its message's id and address
    from the outbox row with its own Message-ID."""
    groups: dict[str, dict[str, list[int]]] = {"cancelled_reason": {}, "variant": {}}
    queued = []
    for row in rows:
        if row.status == ReminderStatus.CANCELLED:
            groups["cancelled_reason"].setdefault(row.cancelled_reason, []).append(row.pk)
        else:
            groups["variant"].setdefault(row.variant, []).append(row.pk)
            queued.append(row.pk)
    message = OutboxMessage.objects.filter(message_id=OuterRef("message_id"))

    def by_row(field: str, value) -> Case:
        output = IntegrationReminder._meta.get_field(field)
        assert isinstance(output, Field)
        return Case(When(pk__in=queued, then=value), default=F(field), output_field=output)

    def chosen(field: str) -> Case:
        whens = [When(pk__in=ids, then=Value(value)) for value, ids in groups[field].items()]
        return Case(*whens, default=F(field))

    return IntegrationReminder.objects.filter(pk__in=[row.pk for row in rows]).update(
        status=Case(
            When(pk__in=queued, then=Value(ReminderStatus.SENDING)),
            default=Value(ReminderStatus.CANCELLED),
        ),
        outbox_message=by_row("outbox_message", Subquery(message.values("pk")[:1])),
        sent_to=by_row("sent_to", Subquery(message.values("to")[:1])),
        cancelled_reason=chosen("cancelled_reason"),
        variant=chosen("variant"),
        updated_at=changed_at,
    )


def queue_due(
    *, now: datetime | None = None, limit: int = BATCH, base_url: str = ""
) -> DispatchResult:
    """Decide about up to ``limit`` due plan rows: cancel or hand to the outbox. One transaction
    of a fixed number of statements; rows another worker is deciding about are skipped."""
    now = now or timezone.now()
    result = DispatchResult()
    with transaction.atomic():
        due = for_deciding().filter(status=ReminderStatus.PENDING, not_before__lte=now)
        due = due.order_by("not_before", "id")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",))
        rows = list(due[:limit])
        result.claimed = len(rows)
        if not rows:
            return result
        integrations = integrations_for(rows)
        values = settings_reader.current()
        before = [copy.copy(reminder) for reminder in rows]
        changed_at = timezone.now()
        queued: list[Deciding] = []
        drafts: list[Draft] = []
        for reminder in rows:
            reminder.updated_at = changed_at
            reason = why_not(reminder, now, integrations[reminder.pk])
            if reason:
                reminder.status = ReminderStatus.CANCELLED
                reminder.cancelled_reason = reason
                result.cancelled += 1
                continue
            text, draft = _draft(
                reminder,
                now=now,
                integrations=integrations[reminder.pk],
                values=values,
                base_url=base_url,
            )
            reminder.status = ReminderStatus.SENDING
            reminder.variant = text.variant
            reminder.sent_to = text.to
            queued.append(reminder)
            drafts.append(draft)
        # queue_due kicks the dispatcher once for the batch, after the commit.
        for reminder, message in zip(queued, messages_queue(drafts, kick=False), strict=True):
            reminder.outbox_message = message
        _record_decisions(rows, changed_at=changed_at)
        # R22: what save() would have recorded, row by row, in one INSERT.
        entries_record(
            (old, new, DECIDED if new.status == ReminderStatus.SENDING else DECIDED[:3])
            for old, new in zip(before, rows, strict=True)
        )
        if queued:
            transaction.on_commit(dispatch_outbox.delay, robust=True)
    return result


def queue_all_due(
    *, now: datetime | None = None, batch: int = BATCH, base_url: str = ""
) -> DispatchResult:
    """Every due plan row decided about, a batch per transaction. ``claimed``: rows taken;
    ``cancelled``: of those, the ones not to send."""
    total = DispatchResult()
    while True:
        queued = queue_due(now=now, limit=batch, base_url=base_url)
        total.claimed += queued.claimed
        total.cancelled += queued.cancelled
        if queued.claimed < batch:
            return total


def dispatch_due(*, now: datetime | None = None, limit: int = BATCH, base_url: str = ""):
    """Queue what is due, then send one batch of the outbox. For tests and the demo command;
    the beat runs the two as separate tasks. ``claimed`` counts the outbox's batch."""
    queued = queue_due(now=now, limit=limit, base_url=base_url)
    sent = outbox_dispatch.dispatch_due(now=now, limit=limit)
    sent.cancelled += queued.cancelled
    return sent


def dispatch_all_due(
    *,
    now: datetime | None = None,
    batch: int = BATCH,
    budget_seconds: float = 50.0,
    base_url: str = "",
) -> DispatchResult:
    """Everything due, queued and sent, within the time budget."""
    queued = queue_all_due(now=now, batch=batch, base_url=base_url)
    sent = outbox_dispatch.dispatch_all_due(now=now, batch=batch, budget_seconds=budget_seconds)
    sent.cancelled += queued.cancelled
    return sent
