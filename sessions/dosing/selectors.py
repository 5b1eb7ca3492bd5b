"""Reads for the dosing chart (R10-R16, R20). A fixed number of queries whatever the number of
readings or adverse events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from patients.models import Prescription, QuestionnaireResponse
from patients.models.questionnaires import Instrument
from sessions.dosing import rules
from sessions.models import (
    AdverseEvent,
    BloodPressureReading,
    DoseAdministration,
    DosingChart,
    PrescriberNotice,
    Session,
)


def safety_response(*, client_id: int) -> QuestionnaireResponse | None:
    """R20: the client's latest PHQ-9 when its item 9 (thoughts of self-harm) is 1 or more. One
    query."""
    latest = (
        QuestionnaireResponse.objects.filter(client_id=client_id, instrument=Instrument.PHQ9)
        .only("id", "total", "item9_score", "submitted_at", "client_id")
        .order_by("-submitted_at", "-id")
        .first()
    )
    return latest if latest is not None and latest.item9_score else None


def chart_for(session: Session) -> DosingChart | None:
    try:
        return session.dosing_chart
    except DosingChart.DoesNotExist:
        return None


def dose_for(session: Session) -> DoseAdministration | None:
    try:
        return session.dose
    except DoseAdministration.DoesNotExist:
        return None


@dataclass
class ChartState:
    """Everything the dosing chart page shows and every service gate looks at."""

    session: Session
    chart: DosingChart | None
    prescription: Prescription | None
    readings: list[BloodPressureReading]
    gate: rules.BpGate
    dose: DoseAdministration | None
    adverse_events: list[AdverseEvent]
    notices: list[PrescriberNotice]
    safety: QuestionnaireResponse | None
    thresholds: rules.Thresholds
    now: datetime
    discharge_blockers: list[str] = field(default_factory=list)

    @property
    def phase(self) -> str:
        """Where the chart stands: "start", "preparation", "blood_pressure", "administration",
        "return", "deferred" or "discharged"."""
        if self.chart is None:
            return "start"
        if self.chart.outcome == DosingChart.Outcome.DISCHARGED:
            return "discharged"
        if self.chart.outcome == DosingChart.Outcome.DEFERRED:
            return "deferred"
        if self.dose is not None:
            return "return"
        if self.chart.preparation_done_at is None:
            return "preparation"
        if self.gate.state == "open":
            return "administration"
        return "blood_pressure"

    @property
    def pre_dose_readings(self) -> list[BloodPressureReading]:
        return [r for r in self.readings if r.moment == BloodPressureReading.Moment.PRE_DOSE]

    @property
    def post_dose_readings(self) -> list[BloodPressureReading]:
        return [r for r in self.readings if r.moment != BloodPressureReading.Moment.PRE_DOSE]

    @property
    def post_dose_vitals_due_at(self) -> datetime | None:
        """R14: around 40 minutes after the dose."""
        if self.dose is None:
            return None
        return self.dose.given_at + self.thresholds.post_dose_vitals_after

    @property
    def post_dose_vitals_taken(self) -> bool:
        return bool(self.post_dose_readings)

    @property
    def earliest_discharge_at(self) -> datetime | None:
        """R15: the minimum observation time after the dose."""
        if self.dose is None:
            return None
        return self.dose.given_at + self.thresholds.min_observation

    @property
    def hold_ends_at(self) -> datetime | None:
        if self.dose is None:
            return None

        return self.dose.given_at + timedelta(minutes=self.dose.hold_minutes)


def chart_state(*, session: Session, now: datetime | None = None) -> ChartState:
    """The dosing chart of ``session``, with the blood-pressure gate worked out for ``now``.
    Four queries whatever the number of readings and events (readings, adverse events, notices,
    the safety answer) for a session loaded with chart_sessions (its chart with the chart's
    prescription, and its dose); one more for the prescription otherwise."""
    now = now or timezone.now()
    thresholds = rules.Thresholds.current()
    chart = chart_for(session)
    readings = list(BloodPressureReading.objects.filter(session=session).order_by("taken_at", "id"))
    dose = dose_for(session)
    prescription = chart.prescription if chart is not None else None
    state = ChartState(
        session=session,
        chart=chart,
        prescription=prescription,
        readings=readings,
        gate=rules.bp_gate(readings, now=now, thresholds=thresholds),
        dose=dose,
        adverse_events=list(
            AdverseEvent.objects.filter(session=session)
            .select_related("recorded_by")
            .order_by("noticed_at", "id")
        ),
        notices=list(
            PrescriberNotice.objects.filter(session=session)
            .select_related("done_by")
            .order_by("created_at", "id")
        ),
        safety=safety_response(client_id=session.client_id),
        thresholds=thresholds,
        now=now,
    )
    if chart is not None:
        state.discharge_blockers = rules.discharge_blockers(
            given_at=dose.given_at if dose else None,
            deferred=chart.outcome == DosingChart.Outcome.DEFERRED,
            chaperone_name=chart.chaperone_name,
            discharge_at=now,
            thresholds=thresholds,
        )
    return state


def chart_sessions() -> QuerySet[Session]:
    """Dosing sessions with what the chart shows of them besides its lists: the course, the
    therapist, the chart with its prescription (and prescriber), who acknowledged the safety
    alert and who discharged, the dose and its pre-dose reading."""
    return Session.objects.filter(kind="dosing").select_related(
        "course",
        "therapist",
        "dosing_chart__prescription__prescriber",
        "dosing_chart__safety_alert_acknowledged_by",
        "dosing_chart__discharged_by",
        "dose__pre_dose_reading",
        "dosing_day",
    )


def session_for_chart(*, client, session_id: int) -> Session | None:
    """The client's dosing session as chart_sessions loads it. One query."""
    session = chart_sessions().filter(client=client, pk=session_id).first()
    if session is not None:
        session.client = client
    return session


# How long after its booked end an open chart still counts as in progress (a long recovery).
KEEPALIVE_AFTER_END = timedelta(hours=2)


def chart_keeps_alive(session: Session, *, now: datetime) -> bool:
    """R22 and the dosing day: an open chart (started, neither deferred nor discharged) of a
    session under way keeps the therapist signed in while it is open. No query."""
    chart = getattr(session, "dosing_chart", None)
    return (
        chart is not None
        and chart.outcome == chart.Outcome.OPEN
        and session.starts_at - timedelta(hours=1) <= now <= session.ends_at + KEEPALIVE_AFTER_END
    )
