"""The dosing chart of a held dosing session (R10-R16), timed as the chart is kept: opened at the
start, preparation done at 5 minutes, the pre-dose blood pressure at 10, the dose a few minutes
after an in-range reading (R11: within 30 minutes, which the database's dose gate checks), a
recheck after a high first reading (R12), deferrals for readings that stay high or reach the hard
stop (R13, with the prescriber to be told), post-dose vitals at 40 minutes (R14), now and then an
adverse event, and discharge to the chaperone after the minimum observation (R15)."""

from __future__ import annotations

from demo.scale.context import DAY, HOUR, MINUTE, Context
from demo.scale.records import Chart, Prescription, Reading, Session

ADVERSE = (
    ("nausea", "mild", "Brief nausea; settled with rest.", ""),
    ("nausea", "moderate", "Nausea for about 20 minutes.", "Ondansetron 4 mg ODT"),
    ("dizziness", "mild", "Light-headed on standing; sat down again.", ""),
    ("anxiety", "mild", "Anxious at onset; grounding helped.", ""),
    ("anxiety", "moderate", "Tearful and anxious; reassured, music changed.", ""),
    ("vomiting", "mild", "Vomited once near the end of the hold.", ""),
    ("elevated_bp", "mild", "Post-dose reading above the defer threshold; repeat was lower.", ""),
    ("other", "mild", "Headache afterwards; water and rest.", ""),
)
OTHER_DEFERRALS = (
    "Client arrived unwell (fever); rebooked for next week.",
    "Chaperone could not come; rebooked.",
    "Client had eaten an hour before; rebooked (fasting).",
    "Client decided not to go ahead today.",
)
RETURN_NOTES = (
    "Processed imagery of a closed door; light snack; steady on standing.",
    "Spoke about grief for her father; calm and oriented at discharge.",
    "Felt spacious and quiet; journaled for 20 minutes before pickup.",
    "Some anxiety at onset, then ease; talked through the intention again.",
    "Vivid colours, memories of childhood summers; grounded, walked steadily.",
)


def _in_range(ctx: Context) -> tuple[int, int]:
    t = ctx.thresholds
    systolic = ctx.rng.randint(104, t.defer_systolic - 4)
    diastolic = ctx.rng.randint(62, min(t.defer_diastolic - 3, systolic - 25))
    return systolic, diastolic


def _high(ctx: Context) -> tuple[int, int]:
    t = ctx.thresholds
    if ctx.chance(0.6):
        return ctx.rng.randint(t.defer_systolic, t.hard_stop_systolic - 6), ctx.rng.randint(
            80, t.defer_diastolic - 1
        )
    return ctx.rng.randint(128, t.defer_systolic - 1), ctx.rng.randint(
        t.defer_diastolic, t.hard_stop_diastolic - 2
    )


def _hard_stop(ctx: Context) -> tuple[int, int]:
    t = ctx.thresholds
    return ctx.rng.randint(t.hard_stop_systolic, t.hard_stop_systolic + 14), ctx.rng.randint(
        92, t.hard_stop_diastolic + 6
    )


def _reading(ctx: Context, moment: str, numbers: tuple[int, int], taken: int) -> Reading:
    systolic, diastolic = numbers
    t = ctx.thresholds
    if systolic >= t.hard_stop_systolic or diastolic >= t.hard_stop_diastolic:
        result = "hard_stop"
    elif systolic >= t.defer_systolic or diastolic >= t.defer_diastolic:
        result = "high"
    else:
        result = "in_range"
    return Reading(moment, systolic, diastolic, ctx.rng.randint(58, 96), taken, result)


def chart(ctx: Context, session: Session, prescription: Prescription) -> Chart:
    """The chart of a dosing session that ended before now: discharged after a dose, or deferred
    (blood pressure high after the rechecks, a hard stop, or another reason)."""
    rng = ctx.rng
    t = ctx.thresholds
    start = session.start
    first = start + 10 * MINUTE
    wait = int(t.recheck_wait.total_seconds())
    roll = rng.random()
    record = Chart(prescription=prescription, opened=start + 2 * MINUTE, readings=[], outcome="")
    if roll < 0.02:
        record.outcome = "deferred"
        record.deferral_reason = "other"
        record.deferral_note = ctx.pick(OTHER_DEFERRALS)
        record.deferred = start + 8 * MINUTE
        return record
    if roll < 0.05:
        reading = _reading(ctx, "pre_dose", _hard_stop(ctx), first)
        record.readings.append(reading)
        record.outcome = "deferred"
        record.deferral_reason = "bp_hard_stop"
        record.deferral_note = (
            f"Blood pressure {reading.systolic}/{reading.diastolic} is at or above the hard stop "
            f"({t.hard_stop_systolic}/{t.hard_stop_diastolic}). The dose is deferred for today "
            "and the prescriber should be informed."
        )
        record.deferred = first
        if session.end + 3 * HOUR <= ctx.now and ctx.chance(0.9):
            record.notice_done = min(start + rng.randrange(3, 48) * HOUR, ctx.now)
        return record
    if roll < 0.08:
        taken = first
        for _ in range(t.rechecks + 1):
            record.readings.append(_reading(ctx, "pre_dose", _high(ctx), taken))
            taken += wait + rng.randrange(0, 3) * MINUTE
        last = record.readings[-1]
        record.outcome = "deferred"
        record.deferral_reason = "bp_high"
        record.deferral_note = (
            f"Blood pressure stayed at or above {t.defer_systolic}/{t.defer_diastolic} after "
            f"{t.rechecks} recheck{'s' if t.rechecks != 1 else ''} ({last.systolic}/"
            f"{last.diastolic}). The dose is deferred for today."
        )
        record.deferred = last.taken
        return record
    taken = first
    if roll < 0.22:  # a high first reading, in range at the recheck (R12)
        record.readings.append(_reading(ctx, "pre_dose", _high(ctx), taken))
        taken += wait + rng.randrange(0, 4) * MINUTE
    record.readings.append(_reading(ctx, "pre_dose", _in_range(ctx), taken))
    record.pre_dose = len(record.readings) - 1
    given = taken + rng.randrange(3, 12) * MINUTE
    record.given = given
    post = _in_range(ctx) if ctx.chance(0.92) else _high(ctx)
    record.readings.append(_reading(ctx, "post_dose", post, given + 40 * MINUTE))
    if ctx.chance(0.3):
        record.readings.append(
            _reading(ctx, "discharge", _in_range(ctx), given + rng.randrange(110, 130) * MINUTE)
        )
    if ctx.chance(0.2):
        kind, severity, text, rescue = ctx.pick(ADVERSE)
        record.adverse.append((kind, severity, text, rescue))
    observation = int(t.min_observation.total_seconds())
    record.pickup = given + observation + rng.randrange(10, 35) * MINUTE
    record.discharged = record.pickup + rng.randrange(0, 10) * MINUTE
    record.outcome = "discharged"
    # The session ends when the client leaves (R9's 180 minutes are the booking).
    return record


def return_notes(ctx: Context) -> str:
    return ctx.pick(RETURN_NOTES)


def days(n: int) -> int:
    return n * DAY
