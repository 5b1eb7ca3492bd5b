"""The scheduling and dosing rules as pure functions, at their boundaries (R6, R7, R11-R13, R15,
R16). No database: readings are unsaved ``BloodPressureReading`` instances."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from sessions.dosing import rules
from sessions.models import BloodPressureReading

NOW = datetime(2025, 3, 10, 15, 0, tzinfo=UTC)
DEFAULTS = rules.Thresholds(
    defer_systolic=140,
    defer_diastolic=90,
    hard_stop_systolic=180,
    hard_stop_diastolic=100,
    recheck_wait=timedelta(minutes=5),
    rechecks=2,
    post_dose_vitals_after=timedelta(minutes=40),
    min_observation=timedelta(minutes=120),
)


def reading(systolic: int, diastolic: int, *, at: datetime, moment: str = "pre_dose"):
    """An unsaved reading judged against the default thresholds, as bp_record stores it."""
    return BloodPressureReading(
        moment=moment,
        systolic=systolic,
        diastolic=diastolic,
        taken_at=at,
        result=rules.classify(systolic, diastolic, DEFAULTS),
        defer_systolic=140,
        defer_diastolic=90,
        hard_stop_systolic=180,
        hard_stop_diastolic=100,
    )


def test_thresholds_current_reads_the_clinic_settings(settings):
    settings.BP_DEFER_SYSTOLIC, settings.BP_RECHECKS = 150, 1
    current = rules.Thresholds.current()
    assert (current.defer_systolic, current.rechecks) == (150, 1)
    assert current.min_observation == timedelta(minutes=settings.MIN_OBSERVATION_MINUTES)


def test_r9_dosing_sessions_default_to_180_minutes(settings):
    assert rules.default_minutes("dosing") == 180
    assert rules.default_minutes("integration") == settings.SESSION_MINUTES


# --- R12, R13: classify at the thresholds (at or above counts) -----------------------------------


@pytest.mark.parametrize(
    ("systolic", "diastolic", "result"),
    [
        (139, 89, "in_range"),  # R12: just below both defer numbers
        (140, 89, "high"),  # R12: systolic at the defer threshold
        (139, 90, "high"),  # R12: diastolic at the defer threshold
        (179, 99, "high"),  # R12/R13: just below both hard-stop numbers
        (180, 99, "hard_stop"),  # R13: systolic at the hard stop
        (179, 100, "hard_stop"),  # R13: diastolic at the hard stop
        (120, 100, "hard_stop"),  # R13: either number alone is enough
        (185, 70, "hard_stop"),
    ],
)
def test_r12_r13_classify_boundaries(systolic, diastolic, result):
    assert rules.classify(systolic, diastolic, DEFAULTS) == result


def test_r12_classify_follows_a_clinic_defer_threshold_of_130_80():
    stricter = rules.Thresholds(
        **{**DEFAULTS.__dict__, "defer_systolic": 130, "defer_diastolic": 80}
    )
    assert rules.classify(129, 79, stricter) == "in_range"
    assert rules.classify(130, 79, stricter) == "high"
    assert rules.classify(129, 80, stricter) == "high"


# --- R16: physiological limits, with messages naming the allowed range ---------------------------


@pytest.mark.parametrize("systolic", [60, 260])
def test_r16_systolic_limits_accepted(systolic):
    assert rules.reading_problems(systolic, 40, 70) == []


@pytest.mark.parametrize("systolic", [59, 261])
def test_r16_systolic_outside_60_260_refused_naming_the_range(systolic):
    [problem] = rules.reading_problems(systolic, 40, 70)
    assert problem == f"Systolic must be between 60 and 260 mmHg (you entered {systolic})."


@pytest.mark.parametrize("diastolic", [30, 160])
def test_r16_diastolic_limits_accepted(diastolic):
    assert rules.reading_problems(200, diastolic, 70) == []


@pytest.mark.parametrize("diastolic", [29, 161])
def test_r16_diastolic_outside_30_160_refused_naming_the_range(diastolic):
    [problem] = rules.reading_problems(200, diastolic, 70)
    assert problem == f"Diastolic must be between 30 and 160 mmHg (you entered {diastolic})."


@pytest.mark.parametrize("pulse", [30, 220, None])
def test_r16_pulse_limits_accepted_and_pulse_optional(pulse):
    assert rules.reading_problems(120, 80, pulse) == []


@pytest.mark.parametrize("pulse", [29, 221])
def test_r16_pulse_outside_30_220_refused_naming_the_range(pulse):
    [problem] = rules.reading_problems(120, 80, pulse)
    assert problem == f"Pulse must be between 30 and 220 beats per minute (you entered {pulse})."


@pytest.mark.parametrize(("systolic", "diastolic"), [(80, 80), (80, 120)])
def test_r16_diastolic_not_below_systolic_refused(systolic, diastolic):
    [problem] = rules.reading_problems(systolic, diastolic, None)
    assert problem.startswith(f"Diastolic ({diastolic}) must be lower than systolic ({systolic})")
    assert "swapped" in problem


def test_r16_every_problem_is_listed_at_once():
    problems = rules.reading_problems(59, 161, 221)
    assert [p.split(" ")[0] for p in problems] == ["Systolic", "Diastolic", "Pulse"]


def test_r16_diastolic_just_below_systolic_accepted():
    assert rules.reading_problems(81, 80, None) == []


# --- R11-R13: the pre-dose gate -----------------------------------------------------------------


def test_r11_no_reading_needs_one():
    gate = rules.bp_gate([], now=NOW, thresholds=DEFAULTS)
    assert gate.state == "needs_reading"
    assert gate.reading is None
    assert gate.rechecks_left == 2


def test_r11_in_range_reading_opens_the_gate_for_exactly_30_minutes():
    taken = NOW - timedelta(minutes=30)
    gate = rules.bp_gate([reading(139, 89, at=taken)], now=NOW, thresholds=DEFAULTS)
    assert gate.state == "open"
    assert gate.open_until == NOW


def test_r11_in_range_reading_older_than_30_minutes_needs_a_new_one():
    taken = NOW - timedelta(minutes=30, seconds=1)
    gate = rules.bp_gate([reading(120, 80, at=taken)], now=NOW, thresholds=DEFAULTS)
    assert gate.state == "needs_reading"
    assert "more than 30 minutes old" in gate.message


def test_r12_first_high_reading_asks_for_a_recheck_after_the_wait():
    first = reading(140, 89, at=NOW)
    gate = rules.bp_gate([first], now=NOW, thresholds=DEFAULTS)
    assert gate.state == "recheck"
    assert gate.next_reading_at == NOW + timedelta(minutes=5)
    assert gate.rechecks_left == 2
    assert "rest for 5 minutes" in gate.message
    assert "2 rechecks left" in gate.message


def test_r12_high_then_recheck_high_leaves_one_recheck():
    readings = [reading(150, 85, at=NOW), reading(145, 85, at=NOW + timedelta(minutes=5))]
    gate = rules.bp_gate(readings, now=NOW + timedelta(minutes=5), thresholds=DEFAULTS)
    assert (gate.state, gate.rechecks_left) == ("recheck", 1)
    assert "1 recheck left" in gate.message


def test_r12_high_after_both_rechecks_defers():
    readings = [reading(150, 85, at=NOW + timedelta(minutes=5 * n)) for n in range(3)]
    gate = rules.bp_gate(readings, now=NOW + timedelta(minutes=10), thresholds=DEFAULTS)
    assert gate.state == "deferred"
    assert not gate.hard_stop
    assert "after 2 rechecks" in gate.message


def test_r12_one_recheck_allowed_defers_on_the_second_high():
    one = rules.Thresholds(**{**DEFAULTS.__dict__, "rechecks": 1})
    readings = [reading(150, 85, at=NOW), reading(150, 85, at=NOW + timedelta(minutes=5))]
    assert rules.bp_gate(readings, now=NOW, thresholds=one).state == "deferred"
    assert "after 1 recheck " in rules.bp_gate(readings, now=NOW, thresholds=one).message


def test_r12_recheck_in_range_opens_the_gate():
    readings = [reading(150, 85, at=NOW), reading(135, 85, at=NOW + timedelta(minutes=5))]
    gate = rules.bp_gate(readings, now=NOW + timedelta(minutes=6), thresholds=DEFAULTS)
    assert gate.state == "open"
    assert gate.reading is readings[1]


def test_r12_a_high_reading_after_an_in_range_one_closes_the_gate():
    readings = [reading(120, 80, at=NOW), reading(141, 80, at=NOW + timedelta(minutes=2))]
    gate = rules.bp_gate(readings, now=NOW + timedelta(minutes=3), thresholds=DEFAULTS)
    assert gate.state == "recheck"


def test_r13_hard_stop_defers_at_once_even_after_an_in_range_reading():
    readings = [reading(120, 80, at=NOW), reading(180, 99, at=NOW + timedelta(minutes=1))]
    gate = rules.bp_gate(readings, now=NOW + timedelta(minutes=2), thresholds=DEFAULTS)
    assert gate.state == "deferred"
    assert gate.hard_stop
    assert gate.reading is readings[1]
    assert "prescriber should be informed" in gate.message


def test_r13_a_hard_stop_is_never_overridden_by_a_later_in_range_reading():
    readings = [reading(179, 100, at=NOW), reading(120, 80, at=NOW + timedelta(minutes=10))]
    gate = rules.bp_gate(readings, now=NOW + timedelta(minutes=11), thresholds=DEFAULTS)
    assert gate.state == "deferred"
    assert gate.hard_stop


def test_r14_post_dose_readings_do_not_count_for_the_pre_dose_gate():
    readings = [
        reading(120, 80, at=NOW),
        reading(185, 105, at=NOW + timedelta(minutes=40), moment="post_dose"),
    ]
    assert rules.bp_gate(readings, now=NOW + timedelta(minutes=5), thresholds=DEFAULTS).state == (
        "open"
    )


# --- R6: the interval between doses -------------------------------------------------------------


def test_r6_no_previous_dose_or_no_prescription_no_blocker():
    assert rules.interval_blocker(last_dose_on=None, min_days=14, on=date(2025, 3, 1)) is None
    assert (
        rules.interval_blocker(last_dose_on=date(2025, 3, 1), min_days=None, on=date(2025, 3, 2))
        is None
    )


def test_r6_interval_13_days_refused_14_allowed():
    last = date(2025, 3, 3)
    blocker = rules.interval_blocker(last_dose_on=last, min_days=14, on=date(2025, 3, 16))
    assert blocker == (
        "The prescription allows a dose every 14 days at the most often. The last dose was on "
        "Mar 3, 2025, so the next one can be on Mar 17, 2025 or later."
    )
    assert rules.interval_blocker(last_dose_on=last, min_days=14, on=date(2025, 3, 17)) is None


def test_r6_gap_to_a_later_booked_dose_13_refused_14_allowed():
    later = date(2025, 3, 17)
    blocker = rules.dose_gap_blocker(on=date(2025, 3, 4), other_on=later, min_days=14)
    assert blocker == (
        "Another dosing session is booked on Mar 17, 2025. Doses must be at least 14 days apart, "
        "so this one must be on Mar 3, 2025 or earlier."
    )
    assert rules.dose_gap_blocker(on=date(2025, 3, 3), other_on=later, min_days=14) is None


def test_r6_gap_to_an_earlier_dose_13_refused_14_allowed():
    earlier = date(2025, 3, 3)
    assert "Mar 17, 2025 or later" in rules.dose_gap_blocker(
        on=date(2025, 3, 16), other_on=earlier, min_days=14
    )
    assert rules.dose_gap_blocker(on=date(2025, 3, 17), other_on=earlier, min_days=14) is None


def test_r6_two_doses_on_one_day_refused():
    day = date(2025, 3, 3)
    assert rules.dose_gap_blocker(on=day, other_on=day, min_days=3) is not None


# --- R7: integration before the next dose is a warning -------------------------------------------


def test_r7_warning_only_when_the_last_dose_has_no_integration_session():
    assert rules.integration_warning(last_dose_on=None, integration_done=False) is None
    assert rules.integration_warning(last_dose_on=date(2025, 3, 3), integration_done=True) is None
    warning = rules.integration_warning(last_dose_on=date(2025, 3, 3), integration_done=False)
    assert "since the last dose (Mar 3, 2025)" in warning


# --- R15: discharge -----------------------------------------------------------------------------


def _discharge(**overrides) -> list[str]:
    facts = {
        "given_at": NOW,
        "deferred": False,
        "chaperone_name": "Ravi Patel",
        "discharge_at": NOW + timedelta(hours=2),
        "thresholds": DEFAULTS,
    } | overrides
    return rules.discharge_blockers(**facts)


def test_r15_discharge_at_exactly_two_hours_with_a_chaperone():
    assert _discharge() == []


def test_r15_discharge_one_second_before_two_hours_refused():
    [problem] = _discharge(discharge_at=NOW + timedelta(hours=1, minutes=59, seconds=59))
    assert problem.startswith("The client must be observed for at least 2 h after the dose")
    # 17:00 UTC on Mar 10, 2025 is 1:00 PM in the clinic's time zone (New York, daylight time).
    assert "discharge from 1:00 PM at the earliest" in problem


def test_r15_observation_time_follows_the_clinic_setting():
    longer = rules.Thresholds(**{**DEFAULTS.__dict__, "min_observation": timedelta(minutes=150)})
    [problem] = _discharge(thresholds=longer)
    assert "at least 2 h 30 min after the dose" in problem


@pytest.mark.parametrize("name", ["", "   "])
def test_r15_discharge_needs_the_chaperone_name(name):
    [problem] = _discharge(chaperone_name=name)
    assert problem.startswith("Record the chaperone's name before discharge")


def test_r15_without_a_dose_a_deferred_client_may_leave_but_an_open_chart_may_not():
    assert _discharge(given_at=None, deferred=True, chaperone_name="") == []
    assert _discharge(given_at=None, deferred=False) == [
        "The dose has not been given or deferred yet."
    ]


def test_r15_the_chaperone_arrived_at_or_before_the_discharge():
    at = NOW + timedelta(hours=2)
    assert rules.pickup_problems(pickup_at=at, discharge_at=at) == []
    assert rules.pickup_problems(pickup_at=at - timedelta(minutes=30), discharge_at=at) == []


def test_r15_discharge_before_the_chaperone_arrived_is_refused():
    # 17:00 UTC is 1:00 PM in the clinic's time zone.
    at = NOW + timedelta(hours=2)
    [problem] = rules.pickup_problems(pickup_at=at + timedelta(minutes=15), discharge_at=at)
    assert problem == (
        "The chaperone arrived at 1:15 PM, after the discharge time (1:00 PM): discharge the "
        "client once the chaperone is here."
    )


def test_r15_the_time_the_chaperone_arrived_is_needed():
    assert rules.pickup_problems(pickup_at=None, discharge_at=NOW) == [
        "Enter the time the chaperone arrived to take the client home."
    ]


# --- R4: the routes the chart records ----------------------------------------------------------


@pytest.mark.parametrize("route", ["sublingual", "buccal", "oral"])
def test_r4_office_routes_are_charted(route):
    assert rules.route_blocker(route) is None


@pytest.mark.parametrize(
    ("route", "label"),
    [
        ("intramuscular", "intramuscular (IM)"),
        ("intravenous", "intravenous (IV)"),
        ("intranasal", "intranasal"),
    ],
)
def test_r4_im_iv_and_intranasal_are_not_charted(route, label):
    problem = rules.route_blocker(route)
    assert problem.startswith(f"The prescription's route is {label}: the dosing chart records")
    assert "given by the prescriber's service, not charted here" in problem
