"""Writes to the dosing session chart (R3, R6, R10-R16, R20), in the order of R10: open the chart
(preparation: intention, fasting, chaperone, safety check) → pre-dose blood pressure (R11-R13) →
the client self-administers (dose_record) → return: post-dose vitals (R14), adverse events,
chaperone and discharge (R15).

Each write locks the session row, so two people charting at once are taken one after the other,
and re-checks its gate here, whatever the page showed: a crafted POST gets the same refusal as the
page. The dose gate is also a PostgreSQL trigger (migration 0002). A refusal raises DosingError with
a message for the clinician."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic import settings_reader
from clinic.table import BY_FIELD as CLINIC_SETTINGS
from kap_clinic import formats
from kap_clinic.errors import DomainError
from patients.access import can_change_client
from patients.courses import rules as course_rules
from patients.courses.services import CourseError, course_advance
from patients.models import Phase
from patients.referrals.selectors import current_prescription
from sessions import signals
from sessions.dosing import rules
from sessions.dosing.selectors import chart_for, chart_state, dose_for, safety_response
from sessions.models import (
    AdverseEvent,
    BloodPressureReading,
    DoseAdministration,
    DosingChart,
    DosingDayConfirmation,
    PrescriberNotice,
    Session,
    SessionKind,
    SessionStatus,
)
from sessions.scheduling import selectors

if TYPE_CHECKING:
    from accounts.models import User

TEXT_MAX = 4000
# A time typed for something that already happened may be a little ahead of the server's clock.
CLOCK_SKEW = timedelta(minutes=2)


class DosingError(DomainError):
    """A rule refused the write; the message is for the clinician."""


class PreparationIncomplete(DosingError):
    """The preparation was saved as typed, but something is still missing before the
    blood-pressure check; the message says what."""


def _locked(session: Session, by: User) -> Session:
    """The session under a row lock, after the access check."""
    if not can_change_client(by, session.client):
        raise DosingError("You cannot chart this client's sessions.")
    locked = (
        Session.objects.select_for_update(of=("self",))
        .select_related("client", "course")
        .get(pk=session.pk)
    )
    if locked.kind != SessionKind.DOSING:
        raise DosingError("Only a dosing session has a dosing chart.")
    return locked


def _chart(session: Session) -> DosingChart:
    chart = chart_for(session)
    if chart is None:
        raise DosingError("Start the dosing chart first.")
    return chart


def _open(chart: DosingChart) -> None:
    if chart.outcome == DosingChart.Outcome.DEFERRED:
        raise DosingError("The dose was deferred for today: this chart is closed.")
    if chart.outcome == DosingChart.Outcome.DISCHARGED:
        raise DosingError("The client has been discharged: this chart is closed.")


def _not_future(moment: datetime, now: datetime, what: str) -> None:
    if moment > now + CLOCK_SKEW:
        local = timezone.localtime(moment)
        raise DosingError(f"The {what} ({local:%-I:%M %p}) is in the future.")


def _text(value: str, label: str, limit: int = TEXT_MAX) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise DosingError(f"Keep the {label} under {limit} characters.")
    return value


def _prescription_problems(session: Session, *, on, exclude_session_id=None) -> list[str]:
    """R3 (approved referral, prescription in force and not expired on ``on``, doses left), R4
    (an office route: sublingual, buccal or oral) and R6 (the interval since the client's last
    dose given, in any course)."""
    # Only dosing sessions get here (_locked), and KAP sessions belong to a course (the check
    # constraint session_kap_kind_has_course).
    assert session.course is not None
    prescription = current_prescription(client=session.client)
    facts = selectors.dose_facts(
        course=session.course,
        prescription=prescription,
        before=session.ends_at,
        exclude_id=exclude_session_id,
    )
    problems = course_rules.prescription_blockers(prescription, today=on)
    if prescription is not None:
        # R4: only a dose the client self-administers by mouth is charted here.
        route = rules.route_blocker(prescription.route)
        if route:
            problems.append(route)
    if prescription is not None and facts.doses_used >= prescription.doses_authorised:
        problems.append(
            f"All {prescription.doses_authorised} authorised doses have been used. The prescriber "
            "must renew the prescription before another dose."
        )
    if prescription is not None and facts.previous_dose is not None:
        blocker = rules.interval_blocker(
            last_dose_on=formats.clinic_date(facts.previous_dose.given_at),
            min_days=prescription.min_days_between_doses,
            on=on,
        )
        if blocker:
            problems.append(blocker)
    return problems


def chart_open(*, session: Session, by: User, now: datetime | None = None) -> DosingChart:
    """Start the chart of a scheduled dosing session on its day (R3 and R6 checked again: a
    prescription can expire or be used up between booking and the day). Idempotent."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(session, by)
        existing = chart_for(locked)
        if existing is not None:
            return existing
        if locked.status != SessionStatus.SCHEDULED:
            raise DosingError(
                f"This session is {locked.get_status_display().lower()}: its chart cannot be "
                "started."
            )
        assert locked.course is not None  # a dosing session: see _prescription_problems
        if locked.course.phase not in (Phase.PREPARATION, Phase.DOSING):
            raise DosingError(
                f"The course is {locked.course.get_phase_display().lower()}: "
                + (
                    "resume it before the dosing session."
                    if locked.course.phase == Phase.ON_HOLD
                    else "no dose can be given in it."
                )
            )
        if formats.clinic_date(locked.starts_at) != formats.clinic_date(now):
            raise DosingError("A dosing chart is started on the day of the session.")
        problems = _prescription_problems(
            locked, on=formats.clinic_date(now), exclude_session_id=locked.pk
        )
        if problems:
            raise DosingError("The dose cannot go ahead today: " + " ".join(problems))
        prescription = current_prescription(client=locked.client)
        assert prescription is not None  # no problems: R3 found a prescription in force
        # R15: the chaperone the client confirmed in the portal for this day, else their default.
        day = DosingDayConfirmation.objects.filter(
            session=locked, chaperone_confirmed_at__isnull=False
        ).first()
        return DosingChart.objects.create(
            session=locked,
            prescription=prescription,
            chaperone_name=day.chaperone_name if day else locked.client.chaperone_name,
            chaperone_phone=day.chaperone_phone if day else locked.client.chaperone_phone,
            pickup_expected_at=day.pickup_at if day else None,
            created_by=by,
        )


def chart_prepare(
    *,
    session: Session,
    by: User,
    check_in: str,
    intention: str,
    fasting_confirmed: bool,
    chaperone_confirmed: bool,
    acknowledge_safety: bool = False,
    now: datetime | None = None,
) -> DosingChart:
    """R10 phase 1: check-in and the client's intention, fasting and a chaperone confirmed, and
    (R20) a positive PHQ-9 item 9 acknowledged. Saved as typed even when incomplete; the phase is
    done only when everything is there."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(session, by)
        chart = _chart(locked)
        _open(chart)
        if dose_for(locked) is not None:
            raise DosingError("The dose has been given: the preparation can no longer change.")
        chart.check_in = _text(check_in, "check-in")
        chart.intention = _text(intention, "intention")
        chart.fasting_confirmed = bool(fasting_confirmed)
        chart.chaperone_confirmed = bool(chaperone_confirmed)
        missing = []
        if not chart.intention:
            missing.append("the client's intention")
        if not chart.fasting_confirmed:
            missing.append("that the client has fasted")
        if not chart.chaperone_confirmed:
            missing.append("that a chaperone will take the client home")
        safety = safety_response(client_id=locked.client_id)
        if safety is not None and chart.safety_alert_acknowledged_at is None:
            if acknowledge_safety:
                chart.safety_alert_acknowledged_at = now
                chart.safety_alert_acknowledged_by = by
            else:
                missing.append("that you have reviewed the self-harm answer on the latest PHQ-9")
        chart.preparation_done_at = None if missing else (chart.preparation_done_at or now)
        chart.save()
    if missing:
        raise PreparationIncomplete(
            "Saved. Before the blood-pressure check, record " + _and(missing) + "."
        )
    return chart


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def bp_record(
    *,
    session: Session,
    by: User,
    moment: str,
    systolic: int,
    diastolic: int,
    pulse: int | None,
    taken_at: datetime,
    now: datetime | None = None,
) -> BloodPressureReading:
    """Record a reading (every reading is kept, R12) with the thresholds in force (R12, R13).

    Pre-dose: after the preparation, before the dose; a recheck only after the rest time (R12).
    When the readings defer the dose, the chart is closed as deferred and the session completed;
    a hard stop (R13) also opens a to-do to inform the prescriber. Post-dose and discharge
    readings (R14) are recorded after the dose; a high one is flagged on the chart."""
    now = now or timezone.now()
    problems = rules.reading_problems(systolic, diastolic, pulse)
    if problems:
        raise DosingError(" ".join(problems))
    if moment not in BloodPressureReading.Moment.values:
        raise DosingError(
            "Say when the reading was taken: before the dose, after it, or before discharge."
        )
    _not_future(taken_at, now, "time of the reading")
    thresholds = rules.Thresholds.current()
    with transaction.atomic():
        locked = _locked(session, by)
        chart = _chart(locked)
        _open(chart)
        if taken_at < locked.starts_at - timedelta(hours=1):
            raise DosingError("That time is before the session started.")
        if moment == BloodPressureReading.Moment.PRE_DOSE:
            readings = _pre_dose_readings(
                locked, chart, taken_at=taken_at, now=now, thresholds=thresholds
            )
        else:
            _check_post_dose_time(locked, taken_at=taken_at)
        reading = BloodPressureReading.objects.create(
            session=locked,
            moment=moment,
            systolic=systolic,
            diastolic=diastolic,
            pulse=pulse,
            taken_at=taken_at,
            result=rules.classify(systolic, diastolic, thresholds),
            defer_systolic=thresholds.defer_systolic,
            defer_diastolic=thresholds.defer_diastolic,
            hard_stop_systolic=thresholds.hard_stop_systolic,
            hard_stop_diastolic=thresholds.hard_stop_diastolic,
            recorded_by=by,
        )
        if moment == BloodPressureReading.Moment.PRE_DOSE:
            gate = rules.bp_gate(
                [*readings, reading], now=max(now, taken_at), thresholds=thresholds
            )
            if gate.state == "deferred":
                _defer_for_blood_pressure(locked, chart, gate=gate, reading=reading, by=by, now=now)
    return reading


def _pre_dose_readings(
    session: Session, chart: DosingChart, *, taken_at: datetime, now: datetime, thresholds
) -> list[BloodPressureReading]:
    """The session's pre-dose readings so far, once a new one may be taken at ``taken_at``: before
    the dose, after the preparation, not earlier than the last, and a recheck only after the rest
    time (R11, R12)."""
    if dose_for(session) is not None:
        raise DosingError("The dose has been given: record this as a post-dose reading.")
    if chart.preparation_done_at is None:
        raise DosingError(
            "Complete the preparation (intention, fasting, chaperone) before the "
            "blood-pressure check."
        )
    readings = list(session.bp_readings.order_by("taken_at", "id"))
    gate = rules.bp_gate(readings, now=now, thresholds=thresholds)
    if readings and taken_at < readings[-1].taken_at:
        raise DosingError("A new reading cannot be earlier than the last one.")
    if gate.state == "recheck":
        assert gate.next_reading_at is not None  # bp_gate sets it on every "recheck" gate
        if taken_at < gate.next_reading_at:
            raise DosingError(
                "Let the client rest: the recheck can be taken from "
                f"{formats.clock(timezone.localtime(gate.next_reading_at))} "
                f"({int(thresholds.recheck_wait.total_seconds() // 60)} minutes after the "
                "last reading)."
            )
    return readings


def _check_post_dose_time(session: Session, *, taken_at: datetime) -> None:
    """R14: post-dose and discharge readings come after the dose."""
    dose = dose_for(session)
    if dose is None:
        raise DosingError("Post-dose readings are recorded after the dose is given.")
    if taken_at < dose.given_at:
        raise DosingError("A post-dose reading is taken after the time the dose was given.")


def _defer_for_blood_pressure(
    session: Session,
    chart: DosingChart,
    *,
    gate,
    reading: BloodPressureReading,
    by: User,
    now: datetime,
) -> None:
    """R12: the readings defer the dose for today; R13: a hard stop also asks the clinic to
    inform the prescriber."""
    _defer(
        session,
        chart,
        reason=DosingChart.DeferralReason.BP_HARD_STOP
        if gate.hard_stop
        else DosingChart.DeferralReason.BP_HIGH,
        note=gate.message,
        now=now,
        by=by,
    )
    if gate.hard_stop:
        PrescriberNotice.objects.create(
            session=session,
            reason=(
                f"Inform the prescriber: pre-dose blood pressure {reading.systolic}/"
                f"{reading.diastolic} was at or above the hard stop; the dose was deferred."
            ),
        )


def _defer(
    session: Session, chart: DosingChart, *, reason: str, note: str, now: datetime, by: User
) -> None:
    chart.outcome = DosingChart.Outcome.DEFERRED
    chart.deferred_at = now
    chart.deferral_reason = reason
    chart.deferral_note = note
    chart.save()
    session.status = SessionStatus.COMPLETED
    session.status_changed_at = now
    session.status_changed_by = by
    session.save()


def chart_defer(*, session: Session, by: User, note: str, now: datetime | None = None):
    """Defer the dose for a reason other than blood pressure (the client is unwell, no chaperone,
    the client decides not to go ahead). Only before the dose."""
    now = now or timezone.now()
    note = _text(note, "reason", 2000)
    if not note:
        raise DosingError("Give the reason for deferring the dose.")
    with transaction.atomic():
        locked = _locked(session, by)
        chart = _chart(locked)
        _open(chart)
        if dose_for(locked) is not None:
            raise DosingError("The dose has been given: it can no longer be deferred.")
        _defer(locked, chart, reason=DosingChart.DeferralReason.OTHER, note=note, now=now, by=by)
    return chart


def dose_record(
    *,
    session: Session,
    by: User,
    given_at: datetime,
    dose_mg: int,
    tablets: int,
    mismatch_reason: str = "",
    hold_minutes: int | None = None,
    eye_mask: bool = False,
    music: bool = False,
    setting_notes: str = "",
    now: datetime | None = None,
) -> DoseAdministration:
    """R10 phase 2: the client self-administers their prescribed tablets.

    Gates, checked here whatever the page showed: the preparation done (R10); an in-range
    pre-dose reading taken at most 30 minutes before ``given_at`` and no higher reading since
    (R11-R13; also a PostgreSQL trigger); the prescription in force, approved, not expired, with a
    dose left (R3, R5); the interval since the last dose (R6). A dose or tablet count that differs
    from the prescription needs an explanation (R4). The dose counts against the prescription,
    moves a course in preparation to dosing (R1), and is published to other apps
    (signals.dose_recorded, in this transaction)."""
    now = now or timezone.now()
    _not_future(given_at, now, "time given")
    hold_minutes = hold_minutes or settings_reader.current().dose_hold_minutes
    low, high = CLINIC_SETTINGS["dose_hold_minutes"].bounds  # R10
    if not low <= hold_minutes <= high:
        raise DosingError(f"The hold time must be between {low} and {high} minutes.")
    if dose_mg < 1 or tablets < 1:
        raise DosingError("Enter the dose in mg and the number of tablets.")
    mismatch_reason = _text(mismatch_reason, "explanation", 2000)
    with transaction.atomic():
        locked = _locked(session, by)
        chart = _chart(locked)
        _open(chart)
        if dose_for(locked) is not None:
            raise DosingError("The dose for this session has already been recorded.")
        if chart.preparation_done_at is None:
            raise DosingError(
                "Complete the preparation (intention, fasting, chaperone) before the dose."
            )
        gate = _open_gate(locked, given_at=given_at)
        assert gate.reading is not None  # an "open" gate (the only kind returned) has its reading
        problems = _prescription_problems(
            locked, on=formats.clinic_date(given_at), exclude_session_id=locked.pk
        )
        prescription = current_prescription(client=locked.client)
        if problems:
            raise DosingError("The dose cannot be given: " + " ".join(problems))
        assert prescription is not None  # no problems: R3 found a prescription in force
        _check_as_prescribed(prescription, dose_mg, tablets, mismatch_reason=mismatch_reason)
        _course_into_dosing(locked.course, by=by)
        try:
            with transaction.atomic():
                dose = DoseAdministration.objects.create(
                    session=locked,
                    prescription=prescription,
                    pre_dose_reading=gate.reading,
                    given_at=given_at,
                    dose_mg=dose_mg,
                    tablets=tablets,
                    mismatch_reason=mismatch_reason,
                    hold_minutes=hold_minutes,
                    eye_mask=bool(eye_mask),
                    music=bool(music),
                    setting_notes=_text(setting_notes, "set and setting", 2000),
                    recorded_by=by,
                )
        except IntegrityError as error:
            raise DosingError(
                "The dose cannot be given: the database refused it (no in-range pre-dose "
                "blood pressure from the last 30 minutes)."
            ) from error
        signals.dose_recorded.send(sender=DoseAdministration, dose=dose)
    return dose


def _open_gate(session: Session, *, given_at: datetime) -> rules.BpGate:
    """R11-R13: an in-range pre-dose reading from the 30 minutes before ``given_at``, and no
    higher reading since."""
    readings = list(session.bp_readings.order_by("taken_at", "id"))
    gate = rules.bp_gate(
        [r for r in readings if r.taken_at <= given_at],
        now=given_at,
        thresholds=rules.Thresholds.current(),
    )
    later_high = [r for r in readings if r.taken_at > given_at and r.result != "in_range"]
    if gate.state != "open" or later_high:
        raise DosingError(
            "The dose cannot be given: it needs a pre-dose blood pressure in range taken in "
            "the 30 minutes before the time given. " + gate.message
        )
    return gate


def _check_as_prescribed(prescription, dose_mg: int, tablets: int, *, mismatch_reason: str):
    """R4: a dose or tablet count other than the prescription's needs an explanation."""
    if (
        dose_mg != prescription.dose_mg or tablets != prescription.tablets_per_dose
    ) and not mismatch_reason:
        raise DosingError(
            f"The prescription is {prescription.dose_mg} mg as {prescription.tablets_per_dose}"
            f" tablet{'s' if prescription.tablets_per_dose != 1 else ''}. Explain why the dose "
            f"given ({dose_mg} mg, {tablets} tablet{'s' if tablets != 1 else ''}) differs."
        )


def _course_into_dosing(course, *, by: User) -> None:
    """R1: the first dose moves a course in preparation into dosing (its preconditions, R2 and
    R3, are checked again there); no dose is recorded in any other phase."""
    if course.phase == Phase.PREPARATION:
        try:
            course_advance(course=course, to_phase=Phase.DOSING, by=by)
        except CourseError as error:
            raise DosingError(str(error)) from error
    elif course.phase != Phase.DOSING:
        raise DosingError(
            f"The course is {course.get_phase_display().lower()}: no dose can be recorded in it."
        )


def dose_hold_end(
    *,
    session: Session,
    by: User,
    spat_at: datetime,
    swallowed: bool,
    now: datetime | None = None,
) -> DoseAdministration:
    """R10: the time the client spat out the dissolved tablets, and whether some was swallowed."""
    now = now or timezone.now()
    _not_future(spat_at, now, "time spat out")
    with transaction.atomic():
        locked = _locked(session, by)
        _open(_chart(locked))
        dose = dose_for(locked)
        if dose is None:
            raise DosingError("Record the dose before the end of the hold.")
        if spat_at < dose.given_at:
            raise DosingError("The time spat out must be after the time the dose was given.")
        if spat_at > dose.given_at + timedelta(minutes=60):
            raise DosingError("The time spat out must be within an hour of the time given.")
        dose.spat_at = spat_at
        dose.swallowed = bool(swallowed)
        dose.save()
    return dose


def adverse_event_record(
    *,
    session: Session,
    by: User,
    kind: str,
    severity: str,
    noticed_at: datetime,
    description: str = "",
    rescue_medication: str = "",
    now: datetime | None = None,
) -> AdverseEvent:
    """An adverse event during the session (nausea, vomiting, dizziness, anxiety, elevated blood
    pressure, other), with its severity and any rescue medication."""
    now = now or timezone.now()
    _not_future(noticed_at, now, "time noticed")
    if kind not in AdverseEvent.Kind.values:
        raise DosingError("Choose what happened.")
    if severity not in AdverseEvent.Severity.values:
        raise DosingError("Choose how severe it was.")
    description = _text(description, "description", 2000)
    if kind == AdverseEvent.Kind.OTHER and not description:
        raise DosingError("Describe what happened.")
    with transaction.atomic():
        locked = _locked(session, by)
        chart = _chart(locked)
        if chart.outcome == DosingChart.Outcome.DISCHARGED:
            raise DosingError("The client has been discharged: this chart is closed.")
        return AdverseEvent.objects.create(
            session=locked,
            kind=kind,
            severity=severity,
            noticed_at=noticed_at,
            description=description,
            rescue_medication=_text(rescue_medication, "rescue medication", 200),
            recorded_by=by,
        )


def chart_return_save(
    *,
    session: Session,
    by: User,
    return_notes: str,
    chaperone_name: str,
    chaperone_phone: str,
    pickup_expected_at: datetime | None,
) -> DosingChart:
    """R10 phase 3: processing notes and the chaperone who takes the client home (R15), with
    the time they are expected. When they arrive is asked at discharge."""
    with transaction.atomic():
        locked = _locked(session, by)
        chart = _chart(locked)
        _open(chart)
        chart.return_notes = _text(return_notes, "notes")
        chart.chaperone_name = _text(chaperone_name, "chaperone's name", 150)
        chart.chaperone_phone = _text(chaperone_phone, "chaperone's phone", 32)
        chart.pickup_expected_at = pickup_expected_at
        chart.save()
    return chart


def discharge(
    *, session: Session, by: User, pickup_at: datetime | None, now: datetime | None = None
) -> DosingChart:
    """R15: discharge the client into the care of their chaperone: not before the chaperone's
    name is recorded, not before the minimum observation time after the dose, and not before the
    chaperone arrived (``pickup_at``: asked at discharge, never in the future). The discharge
    time is now. Records the pickup time and completes the session."""
    now = now or timezone.now()
    if pickup_at is not None:
        _not_future(pickup_at, now, "time the chaperone arrived")
    with transaction.atomic():
        locked = _locked(session, by)
        chart = _chart(locked)
        _open(chart)
        state = chart_state(session=locked, now=now)
        dose = state.dose
        if dose is None:
            raise DosingError(
                "No dose has been given. Defer the dose instead if the client is leaving."
            )
        if pickup_at is not None and pickup_at < locked.starts_at - timedelta(hours=1):
            raise DosingError("The time the chaperone arrived is before the session started.")
        blockers = rules.discharge_blockers(
            given_at=dose.given_at,
            deferred=False,
            chaperone_name=chart.chaperone_name,
            discharge_at=now,
            thresholds=state.thresholds,
        ) + rules.pickup_problems(pickup_at=pickup_at, discharge_at=now)
        if blockers:
            raise DosingError("Not ready for discharge: " + " ".join(blockers))
        chart.pickup_at = pickup_at
        chart.outcome = DosingChart.Outcome.DISCHARGED
        chart.discharged_at = now
        chart.discharged_by = by
        chart.save()
        locked.status = SessionStatus.COMPLETED
        locked.status_changed_at = now
        locked.status_changed_by = by
        locked.save()
    return chart


def prescriber_notice_done(
    *, notice: PrescriberNotice, by: User, note: str, now: datetime | None = None
) -> PrescriberNotice:
    """R13: record that the prescriber was informed, how, by whom and when."""
    note = _text(note, "note", 500)
    if not note:
        raise DosingError("Say how the prescriber was informed (e.g. phone call, secure message).")
    with transaction.atomic():
        _locked(notice.session, by)
        locked = PrescriberNotice.objects.select_for_update().get(pk=notice.pk)
        if locked.done_at is not None:
            raise DosingError("This has already been recorded as done.")
        locked.done_at = now or timezone.now()
        locked.done_by = by
        locked.done_note = note
        locked.save()
    return locked
