"""Writing the calendar and what hangs off it: sessions (ids in the order they were booked, as a
clinic's grow), progress notes, dosing charts with their readings, doses, adverse events and
prescriber notices, and each dose's integration reminder plan (R8) in every status, with the
outbox messages of those that went out.

Order matters to one trigger only: the dose gate (R6, R11-R13) reads the session and its
readings when a dose row arrives, so sessions and readings are written before the doses."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.conf import settings

from demo.scale import dosing
from demo.scale.context import DAY, HOUR, MINUTE, Context
from demo.scale.people import chaperone_of
from demo.scale.pgcopy import Writer, ts_of
from demo.scale.records import Session
from demo.scale.scores import Safety
from demo.scale.write_records import OUTBOX_FIELDS
from integration import rules as reminder_rules
from integration.models import IntegrationReminder
from outbox.models import OutboxMessage
from outbox.services import message_id_for
from sessions.models import (
    AdverseEvent,
    BloodPressureReading,
    DoseAdministration,
    DosingChart,
    PrescriberNotice,
    ProgressNote,
)
from sessions.models import Session as SessionModel
from sessions.notes.schema import field_names

NOTE_TEXT = (
    "Explored the week's low moods and what helped; practised the grounding exercise.",
    "Worked on the conflict with her manager; role-played the conversation.",
    "Reviewed sleep diary; agreed on a wind-down routine.",
    "Processed the dosing session's imagery; linked it to the intention set in preparation.",
    "Talked through fears about the dosing day; explained fasting and the chaperone.",
)
INTENTION = "To meet the part of me that feels stuck with curiosity instead of judgement."


def number(ctx: Context) -> None:
    """Session ids in the order the sessions were booked, as a clinic's table grows (before any
    writing: the audit trail names them too)."""
    ctx.sessions.sort(key=lambda s: (s.created, s.start))
    for session in ctx.sessions:
        session.id = ctx.ids.take(SessionModel)


def sessions(ctx: Context, writer: Writer) -> None:
    table = writer.table(
        SessionModel,
        (
            "id",
            "client_id",
            "course_id",
            "therapist_id",
            "kind",
            "starts_at",
            "ends_at",
            "location",
            "telehealth_url",
            "status",
            "status_changed_at",
            "status_changed_by_id",
            "cancel_reason",
            "follows_dose_id",
            "created_by_id",
            "created_at",
            "updated_at",
        ),
    )
    for s in ctx.sessions:
        table.add(
            s.id,
            s.client.id,
            s.course.id if s.course else None,
            s.therapist.id,
            s.kind,
            s.start,
            s.end,
            s.location,
            s.telehealth,
            s.status,
            s.changed,
            s.therapist.id if s.changed else None,
            s.cancel_reason,
            s.follows.id if s.follows else None,
            s.created_by.id,
            s.created,
            s.changed or s.created,
        )
    table.flush()
    # Statistics for the dose gate's lookups of a client's sessions (see charts).
    writer.execute(f"ANALYZE {SessionModel._meta.db_table}")
    _notes(ctx, writer)


def _notes(ctx: Context, writer: Writer) -> None:
    """A progress note for each held KAP session, and for the psychotherapy of the last three
    months (older notes are the same rows, many more of them); most signed within a day."""
    rng = ctx.rng
    contents = {
        kind: [json.dumps(dict.fromkeys(field_names(kind), text)) for text in NOTE_TEXT]
        for kind in ("preparation", "dosing", "integration", "general")
    }
    recent = ctx.now - 90 * DAY
    notes = writer.table(
        ProgressNote,
        (
            "id",
            "session_id",
            "content",
            "created_by_id",
            "created_at",
            "updated_at",
            "signed_at",
            "signed_by_id",
        ),
    )
    for s in ctx.sessions:
        if s.status != "completed" or (s.kind == "general" and s.start < recent):
            continue
        written = s.end + rng.randrange(5, 240) * MINUTE
        if written > ctx.now:
            continue
        signed = written + rng.randrange(1, 20) * HOUR
        if signed > ctx.now or ctx.chance(0.08):
            signed = None
        notes.add(
            ctx.ids.take(ProgressNote),
            s.id,
            ctx.pick(contents[s.kind]),
            s.therapist.id,
            written,
            signed or written,
            signed,
            s.therapist.id if signed else None,
        )
    notes.flush()


def charts(ctx: Context, writer: Writer, safety: Safety) -> list[Session]:
    """The dosing charts and their readings, then the doses (the gate reads the readings).
    Returns the dosing sessions with a dose, for the reminder plans."""
    rng = ctx.rng
    t = ctx.thresholds
    hold = ctx.values.dose_hold_minutes
    table = writer.table(
        DosingChart,
        (
            "id",
            "session_id",
            "prescription_id",
            "check_in",
            "intention",
            "fasting_confirmed",
            "chaperone_confirmed",
            "safety_alert_acknowledged_at",
            "safety_alert_acknowledged_by_id",
            "preparation_done_at",
            "outcome",
            "deferred_at",
            "deferral_reason",
            "deferral_note",
            "return_notes",
            "chaperone_name",
            "chaperone_phone",
            "pickup_expected_at",
            "pickup_at",
            "discharged_at",
            "discharged_by_id",
            "created_by_id",
            "created_at",
            "updated_at",
        ),
    )
    readings = writer.table(
        BloodPressureReading,
        (
            "id",
            "session_id",
            "moment",
            "systolic",
            "diastolic",
            "pulse",
            "taken_at",
            "result",
            "defer_systolic",
            "defer_diastolic",
            "hard_stop_systolic",
            "hard_stop_diastolic",
            "recorded_by_id",
            "recorded_at",
        ),
    )
    events = writer.table(
        AdverseEvent,
        (
            "id",
            "session_id",
            "kind",
            "severity",
            "noticed_at",
            "description",
            "rescue_medication",
            "recorded_by_id",
            "recorded_at",
        ),
    )
    notices = writer.table(
        PrescriberNotice,
        ("id", "session_id", "reason", "created_at", "done_at", "done_by_id", "done_note"),
    )
    dosed = []
    for s in ctx.sessions:
        c = s.chart
        if c is None:
            continue
        who = s.therapist.id
        start = s.start
        positive = safety.positive_before(s.client.id, start)
        discharged = c.outcome == "discharged"
        table.add(
            ctx.ids.take(DosingChart),
            s.id,
            c.prescription.id,
            "Slept well; some nerves about the session.",
            INTENTION,
            True,
            True,
            start + 4 * MINUTE if positive else None,
            who if positive else None,
            start + 5 * MINUTE,
            "discharged" if discharged else "deferred",
            c.deferred,
            c.deferral_reason,
            c.deferral_note,
            dosing.return_notes(ctx) if discharged else "",
            chaperone_of(s.client),
            "+15552019999",
            c.pickup - 5 * MINUTE if discharged and ctx.chance(0.7) else None,
            c.pickup,
            c.discharged,
            who if discharged else None,
            who,
            c.opened,
            c.discharged or c.deferred,
        )
        for r in c.readings:
            reading_id = ctx.ids.take(BloodPressureReading)
            c.reading_ids.append(reading_id)
            readings.add(
                reading_id,
                s.id,
                r.moment,
                r.systolic,
                r.diastolic,
                r.pulse,
                r.taken,
                r.result,
                t.defer_systolic,
                t.defer_diastolic,
                t.hard_stop_systolic,
                t.hard_stop_diastolic,
                who,
                r.taken + 40,
            )
        for kind, severity, text, rescue in c.adverse:
            noticed = c.given + rng.randrange(20, 60) * MINUTE
            events.add(
                ctx.ids.take(AdverseEvent),
                s.id,
                kind,
                severity,
                noticed,
                text,
                rescue,
                who,
                noticed + 5 * MINUTE,
            )
        if c.deferral_reason == "bp_hard_stop":
            worst = c.readings[0]
            notices.add(
                ctx.ids.take(PrescriberNotice),
                s.id,
                f"Inform the prescriber: pre-dose blood pressure {worst.systolic}/"
                f"{worst.diastolic} was at or above the hard stop; the dose was deferred.",
                c.deferred,
                c.notice_done,
                who if c.notice_done else None,
                "Phoned the prescribing service; BP follow-up with the primary care doctor."
                if c.notice_done
                else "",
            )
        if c.given is not None:
            dosed.append(s)
    notices.flush()
    # The dose gate's R6 query (migration 0004) finds the client's other doses through their
    # sessions. Its plan is made once, while the dose table is near empty: then a hash join that
    # reads every dose for each new one looks cheapest, quadratic in the doses (minutes at
    # N=10). With the sessions' statistics (above) and nested loops only, it takes the client's
    # ~20 sessions and the doses' index. The trigger runs on every row all the same; the
    # settings end with the doses.
    writer.execute("SET LOCAL enable_hashjoin = off")
    writer.execute("SET LOCAL enable_mergejoin = off")
    doses = writer.table(
        DoseAdministration,
        (
            "id",
            "session_id",
            "prescription_id",
            "pre_dose_reading_id",
            "given_at",
            "dose_mg",
            "tablets",
            "hold_minutes",
            "spat_at",
            "swallowed",
            "eye_mask",
            "music",
            "recorded_by_id",
            "recorded_at",
        ),
    )
    for s in dosed:
        c = s.chart
        c.dose_id = ctx.ids.take(DoseAdministration)
        p = c.prescription
        doses.add(
            c.dose_id,
            s.id,
            p.id,
            c.reading_ids[c.pre_dose],
            c.given,
            p.dose_mg,
            p.tablets,
            hold,
            c.given + hold * MINUTE,
            ctx.chance(0.1),
            ctx.chance(0.85),
            ctx.chance(0.9),
            s.therapist.id,
            c.given + 30,
        )
    doses.flush()
    writer.execute("SET LOCAL enable_hashjoin TO DEFAULT")
    writer.execute("SET LOCAL enable_mergejoin TO DEFAULT")
    return dosed


def reminders(ctx: Context, writer: Writer, dosed: list[Session]) -> None:
    """R8: each dose's plan (the client's reminders on the reminder days, the therapist's check
    a day after), in the status the dispatcher would have left it: cancelled once the
    integration session took place or was booked in time (or the course was discontinued),
    sent (with its outbox message) or, now and then, failed or still in the outbox; pending
    when still to come. A check that found nothing booked raised an alert, acknowledged later
    or, for a few recent doses, still open."""
    rng = ctx.rng
    values = ctx.values
    domain = message_id_for("x").rsplit("@", 1)[1]
    clinic = settings.CLINIC_NAME
    outbox = writer.table(OutboxMessage, OUTBOX_FIELDS)
    rows = []
    zones: dict[str, ZoneInfo] = {}
    for s in dosed:
        c = s.chart
        client = s.client
        course = s.course
        stopped = course.closed if course.phase == "discontinued" else None
        zone = zones.setdefault(client.zone, ZoneInfo(client.zone or settings.TIME_ZONE))
        dose_day = datetime.fromtimestamp(c.given, tz=UTC).astimezone(zone).date()
        plan = [
            (
                "client",
                day,
                ts_of(
                    reminder_rules.due_at(
                        dose_day=dose_day,
                        day=day,
                        zone=zone,
                        send_hour=values.reminder_send_hour,
                        quiet_start=values.quiet_hours_start,
                        quiet_end=values.quiet_hours_end,
                    )
                ),
            )
            for day in values.reminder_days
        ]
        plan.append(("therapist", 0, c.given + ctx.alert_hours * HOUR))
        for kind, day, due in plan:
            row = _reminder(ctx, s, kind, day, due, stopped)
            row["message_id"] = f"<{kind}-reminder-{rng.getrandbits(128):032x}@{domain}>"
            if row["status"] in ("sent", "failed", "sending"):
                row["message"] = ctx.ids.take(OutboxMessage)
                _message(ctx, outbox, s, row, clinic)
            rows.append(row)
    outbox.flush()
    table = writer.table(
        IntegrationReminder,
        (
            "id",
            "dose_id",
            "client_id",
            "course_id",
            "kind",
            "day",
            "due_at",
            "not_before",
            "status",
            "outbox_message_id",
            "last_error",
            "sent_at",
            "variant",
            "sent_to",
            "message_id",
            "cancelled_reason",
            "acknowledged_at",
            "acknowledged_by_id",
            "created_at",
            "updated_at",
        ),
    )
    for row in rows:
        s = row["session"]
        table.add(
            ctx.ids.take(IntegrationReminder),
            s.chart.dose_id,
            s.client.id,
            s.course.id,
            row["kind"],
            row["day"],
            row["due"],
            row["not_before"],
            row["status"],
            row.get("message"),
            row["error"],
            row["sent"],
            row["variant"],
            row["to"],
            row["message_id"],
            row["reason"],
            row["ack"],
            row["ack_by"],
            s.chart.given,
            row["updated"],
        )
    table.flush()


def _reminder(ctx: Context, s: Session, kind: str, day: int, due: int, stopped) -> dict:
    """One plan row as the dispatcher would have left it by now (``stopped``: when the course
    was discontinued, if it was)."""
    row = {
        "session": s,
        "kind": kind,
        "day": day,
        "due": due,
        "not_before": due,
        "status": "pending",
        "error": "",
        "sent": None,
        "variant": "",
        "to": "",
        "reason": "",
        "ack": None,
        "ack_by": None,
        "updated": s.chart.given,
    }
    integration = s.chart.integration
    if kind == "therapist" and integration is not None and integration.created <= due:
        return _cancel(row, "An integration session was booked in time.", integration.created)
    if stopped is not None and stopped <= due:
        return _cancel(row, "The course was discontinued.", stopped)
    if due > ctx.now:
        return row
    if kind == "therapist":
        return _alert(ctx, s, row)
    if integration is not None and integration.status == "completed" and integration.end <= due:
        return _cancel(row, "The integration session took place.", integration.changed or due)
    return _sent(ctx, s, row)


def _cancel(row: dict, reason: str, at: int) -> dict:
    row.update(status="cancelled", reason=reason, updated=max(at, row["updated"]))
    return row


def _alert(ctx: Context, s: Session, row: dict) -> dict:
    """R8: nothing booked a day after the dose: the therapist's alert (and its e-mail), closed
    by a booking made since, acknowledged by the therapist, or (a few recent ones) open."""
    rng = ctx.rng
    due = row["due"]
    integration = s.chart.integration
    row.update(status="sent", variant="alert", to=s.therapist.email)
    row["sent"] = row["updated"] = due + rng.randrange(5, 90)
    if integration is not None:
        row.update(ack=integration.created, ack_by=integration.created_by.id)
    else:
        ack = due + rng.randrange(2, 30) * HOUR
        if ack < ctx.now and not (due > ctx.now - 5 * DAY and ctx.chance(0.7)):
            row.update(ack=ack, ack_by=s.therapist.id)
    if row["ack"]:
        row["updated"] = row["ack"]
    return row


def _sent(ctx: Context, s: Session, row: dict) -> dict:
    """A client reminder handed to the outbox: sent (booked or not-booked wording), now and
    then failed for a bad address, or (due in the last hours) still being retried."""
    rng = ctx.rng
    due = row["due"]
    integration = s.chart.integration
    booked = integration is not None and integration.created <= due and integration.start >= due
    row.update(variant="booked" if booked else "not_booked", to=s.client.email)
    roll = rng.random()
    if roll < 0.015:
        row.update(status="failed", error="550 5.1.1 Recipient address rejected: user unknown")
        row["updated"] = due + rng.randrange(5, 90)
    elif due > ctx.now - ctx.stale_hours * HOUR and roll < 0.2:
        row.update(status="sending", updated=due + 60)
    else:
        row.update(status="sent", sent=due + rng.randrange(5, 120))
        row["updated"] = row["sent"]
    return row


def _message(ctx: Context, outbox, s: Session, row: dict, clinic: str) -> None:
    """The e-mail of a reminder or check that went to the outbox (R25: nothing clinical)."""
    client_kind = row["kind"] == "client"
    if client_kind:
        subject = (
            f"{clinic}: your next session"
            if row["variant"] == "booked"
            else f"{clinic}: please book your next session"
        )
        text = f"Hi {s.client.first},\n\nThis is a friendly reminder from {clinic}.\n"
        expires = row["due"] + ctx.stale_hours * HOUR
    else:
        subject = f"{clinic}: something needs your attention"
        text = f"Hi {s.therapist.first},\n\nSomething in {clinic} needs your attention.\n"
        expires = row["due"] + settings.OUTBOX_ALERT_HOURS * HOUR
    status = row["status"]
    due = row["due"]
    if status == "sending":
        # Still in the outbox: the mail server asked to try again later (greylisting).
        retry = min(due + 15 * MINUTE, ctx.now + 10 * MINUTE)
        values = ("pending", retry, expires, 1, None, "421 4.7.0 Try again later", None)
    elif status == "failed":
        values = ("failed", due, expires, 1, due + 1, row["error"], None)
    else:
        values = ("sent", due, expires, 1, row["sent"] - 1, "", row["sent"])
    state, not_before, expires_at, attempts, claimed, error, sent = values
    outbox.add(
        row["message"],
        "integration_reminder" if client_kind else "integration_check",
        s.client.id,
        row["to"],
        subject,
        text,
        False,
        row["message_id"],  # the reminder's own (integration.models)
        state,
        not_before,
        expires_at,
        attempts,
        claimed,
        error,
        sent,
        None,
        due,
        row["updated"],
    )
