"""The scheduling and dosing rules (R2, R3, R4, R6, R7, R9, R11-R16) as pure functions: the
selectors gather the facts, the services and the pages ask these, so a page and a crafted POST
get the same answer. No database access; times are aware datetimes, dates are the clinic's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from django.utils import timezone

from clinic import settings_reader
from kap_clinic import formats
from patients.models.referrals import OFFICE_ROUTES, Prescription

if TYPE_CHECKING:
    from sessions.models import BloodPressureReading

# R11: the administration needs a reading from the last 30 minutes (not configurable).
READING_FRESH = timedelta(minutes=30)
# R16: physiological limits for any reading (data entry, not clinical).
SYSTOLIC_RANGE = (60, 260)
DIASTOLIC_RANGE = (30, 160)
PULSE_RANGE = (30, 220)


@dataclass(frozen=True)
class Thresholds:
    """R12, R13 (and the waits of R12, R14, R15) in force now. Each reading stores the four
    blood-pressure numbers it was judged against."""

    defer_systolic: int
    defer_diastolic: int
    hard_stop_systolic: int
    hard_stop_diastolic: int
    recheck_wait: timedelta
    rechecks: int
    post_dose_vitals_after: timedelta
    min_observation: timedelta

    @classmethod
    def current(cls) -> Thresholds:
        """The clinic's saved settings, else the server configuration (R12-R15)."""

        values = settings_reader.current()
        return cls(
            defer_systolic=values.bp_defer_systolic,
            defer_diastolic=values.bp_defer_diastolic,
            hard_stop_systolic=values.bp_hard_stop_systolic,
            hard_stop_diastolic=values.bp_hard_stop_diastolic,
            recheck_wait=timedelta(minutes=values.bp_recheck_wait_minutes),
            rechecks=values.bp_rechecks,
            post_dose_vitals_after=timedelta(minutes=values.post_dose_vitals_minutes),
            min_observation=timedelta(minutes=values.min_observation_minutes),
        )


def default_minutes(kind: str) -> int:
    """R9: a dosing session is scheduled for 180 minutes; others for the clinic's default."""

    values = settings_reader.current()
    return values.dosing_session_minutes if kind == "dosing" else values.session_minutes


# --- Blood pressure (R11-R13, R16) ---------------------------------------------------------------


def reading_problems(systolic: int, diastolic: int, pulse: int | None) -> list[str]:
    """R16: what is wrong with the numbers as typed (physiologically impossible), or []."""
    problems = []
    low, high = SYSTOLIC_RANGE
    if not low <= systolic <= high:
        problems.append(f"Systolic must be between {low} and {high} mmHg (you entered {systolic}).")
    low, high = DIASTOLIC_RANGE
    if not low <= diastolic <= high:
        problems.append(
            f"Diastolic must be between {low} and {high} mmHg (you entered {diastolic})."
        )
    if pulse is not None:
        low, high = PULSE_RANGE
        if not low <= pulse <= high:
            problems.append(
                f"Pulse must be between {low} and {high} beats per minute (you entered {pulse})."
            )
    if not problems and diastolic >= systolic:
        problems.append(
            f"Diastolic ({diastolic}) must be lower than systolic ({systolic}). Check that the two "
            "numbers are not swapped."
        )
    return problems


def classify(systolic: int, diastolic: int, thresholds: Thresholds) -> str:
    """R12, R13: "hard_stop", "high" (defer threshold) or "in_range". At or above counts."""
    if systolic >= thresholds.hard_stop_systolic or diastolic >= thresholds.hard_stop_diastolic:
        return "hard_stop"
    if systolic >= thresholds.defer_systolic or diastolic >= thresholds.defer_diastolic:
        return "high"
    return "in_range"


@dataclass(frozen=True)
class BpGate:
    """Where the pre-dose blood-pressure check stands.

    state: "needs_reading" (none yet, or the last in-range one is older than 30 minutes),
    "recheck" (high: rest, then measure again from ``next_reading_at``), "open" (an in-range
    reading, fresh until ``open_until``), "deferred" (high after every recheck, or a hard stop)."""

    state: str
    message: str
    reading: BloodPressureReading | None = None
    next_reading_at: datetime | None = None
    open_until: datetime | None = None
    rechecks_left: int = 0
    hard_stop: bool = False


def bp_gate(
    readings: list[BloodPressureReading], *, now: datetime, thresholds: Thresholds
) -> BpGate:
    """R11-R13 over the session's pre-dose readings (oldest first). Every reading counts: a hard
    stop at any point defers the dose for the day (R13); more high readings than the first plus
    the allowed rechecks defer it (R12); the administration opens only on the latest reading
    being in range and at most 30 minutes old (R11)."""
    pre = [r for r in readings if r.moment == "pre_dose"]
    if any(r.result == "hard_stop" for r in pre):
        worst = next(r for r in pre if r.result == "hard_stop")
        return BpGate(
            state="deferred",
            hard_stop=True,
            reading=worst,
            message=(
                f"Blood pressure {worst.systolic}/{worst.diastolic} is at or above the hard stop "
                f"({worst.hard_stop_systolic}/{worst.hard_stop_diastolic}). The dose is deferred "
                "for today and the prescriber should be informed."
            ),
        )
    if not pre:
        return BpGate(
            state="needs_reading",
            message="Take the pre-dose blood pressure. The dose step unlocks with a reading in "
            "range.",
            rechecks_left=thresholds.rechecks,
        )
    latest = pre[-1]
    highs = [r for r in pre if r.result == "high"]
    # The first high reading is not a recheck; each later one is.
    rechecks_left = max(thresholds.rechecks - max(len(highs) - 1, 0), 0)
    if latest.result == "in_range":
        if now - latest.taken_at <= READING_FRESH:
            return BpGate(
                state="open",
                reading=latest,
                open_until=latest.taken_at + READING_FRESH,
                rechecks_left=rechecks_left,
                message=(
                    f"Blood pressure {latest.systolic}/{latest.diastolic} is in range. The dose "
                    "may be given while this reading is under 30 minutes old."
                ),
            )
        return BpGate(
            state="needs_reading",
            reading=latest,
            rechecks_left=rechecks_left,
            message=(
                f"The last reading ({latest.systolic}/{latest.diastolic}) is more than 30 minutes "
                "old. Take a new reading before the dose."
            ),
        )
    # latest is high
    if len(highs) > thresholds.rechecks:
        return BpGate(
            state="deferred",
            reading=latest,
            message=(
                f"Blood pressure stayed at or above {latest.defer_systolic}/"
                f"{latest.defer_diastolic} after {thresholds.rechecks} recheck"
                f"{'s' if thresholds.rechecks != 1 else ''} ({latest.systolic}/"
                f"{latest.diastolic}). The dose is deferred for today."
            ),
        )
    return BpGate(
        state="recheck",
        reading=latest,
        next_reading_at=latest.taken_at + thresholds.recheck_wait,
        rechecks_left=rechecks_left,
        message=(
            f"Blood pressure {latest.systolic}/{latest.diastolic} is at or above "
            f"{latest.defer_systolic}/{latest.defer_diastolic}. Do not give the dose. Let the "
            f"client rest for {int(thresholds.recheck_wait.total_seconds() // 60)} minutes, then "
            f"recheck ({rechecks_left} recheck{'s' if rechecks_left != 1 else ''} left)."
        ),
    )


# --- Scheduling a dose (R2, R3, R6, R7) ----------------------------------------------------------


def interval_blocker(*, last_dose_on: date | None, min_days: int | None, on: date) -> str | None:
    """R6: the next dose at least the prescription's minimum interval after the previous one."""
    if last_dose_on is None or min_days is None:
        return None
    earliest = last_dose_on + timedelta(days=min_days)
    if on >= earliest:
        return None
    return (
        f"The prescription allows a dose every {min_days} days at the most often. The last dose "
        f"was on {formats.day(last_dose_on)}, so the next one can "
        f"be on {formats.day(earliest)} or later."
    )


def dose_gap_blocker(*, on: date, other_on: date, min_days: int) -> str | None:
    """R6 both ways: a dose booked before another one already on the calendar keeps the interval
    to it too."""
    if abs((on - other_on).days) >= min_days:
        return None
    if other_on <= on:
        return interval_blocker(last_dose_on=other_on, min_days=min_days, on=on)
    latest = other_on - timedelta(days=min_days)
    return (
        f"Another dosing session is booked on {formats.day(other_on)}. Doses must be at least "
        f"{min_days} days apart, so this one must be on {formats.day(latest)} or earlier."
    )


def integration_warning(*, last_dose_on: date | None, integration_done: bool) -> str | None:
    """R7: a new dose before an integration session for the previous one is a warning the
    therapist must acknowledge (it is recorded with who and when), not a block."""
    if last_dose_on is None or integration_done:
        return None
    return (
        f"The client has not had an integration session since the last dose "
        f"({formats.day(last_dose_on)}). At least one integration "
        "session after each dose is expected before the next dosing session."
    )


# --- Discharge (R14, R15) ------------------------------------------------------------------------


def discharge_blockers(
    *,
    given_at: datetime | None,
    deferred: bool,
    chaperone_name: str,
    discharge_at: datetime,
    thresholds: Thresholds,
) -> list[str]:
    """R15: not before a chaperone is recorded, and not before the minimum observation time after
    the dose. A deferred session (no dose given) needs neither: the client was not dosed. When
    the chaperone arrived is asked at discharge itself (pickup_problems)."""
    problems = []
    if given_at is not None:
        if not chaperone_name.strip():
            problems.append(
                "Record the chaperone's name before discharge: the client must not leave alone "
                "or drive after a dose."
            )
        earliest = given_at + thresholds.min_observation
        if discharge_at < earliest:
            minutes = int(thresholds.min_observation.total_seconds() // 60)
            problems.append(
                f"The client must be observed for at least {minutes // 60} h"
                f"{f' {minutes % 60} min' if minutes % 60 else ''} after the dose: discharge from "
                f"{_clock(earliest)} at the earliest."
            )
    elif not deferred:
        problems.append("The dose has not been given or deferred yet.")
    return problems


def pickup_problems(*, pickup_at: datetime | None, discharge_at: datetime) -> list[str]:
    """R15: the client is discharged into the care of a chaperone who is present, so the time
    the chaperone arrived is recorded, and the discharge is not before it."""
    if pickup_at is None:
        return ["Enter the time the chaperone arrived to take the client home."]
    if discharge_at < pickup_at:
        return [
            f"The chaperone arrived at {_clock(pickup_at)}, after the discharge time "
            f"({_clock(discharge_at)}): discharge the client once the chaperone is here."
        ]
    return []


# --- Route (R4) ----------------------------------------------------------------------------------


def route_blocker(route: str) -> str | None:
    """R4: the chart records a dose the client self-administers by mouth (sublingual, buccal or
    oral); an IM, IV or intranasal prescription is given by the prescriber, not charted here."""
    if route in OFFICE_ROUTES:
        return None
    label = dict(Prescription.Route.choices).get(route, route)
    label = label[:1].lower() + label[1:]  # "intramuscular (IM)"
    return (
        f"The prescription's route is {label}: the dosing chart records only a dose the client "
        "takes by mouth (sublingual, buccal or oral). An intramuscular, intravenous or "
        "intranasal dose is given by the prescriber's service, not charted here."
    )


def _clock(moment: datetime) -> str:

    local = timezone.localtime(moment)
    return f"{local:%-I:%M %p}"
