"""R19 outcome charts: PHQ-9 and GAD-7 totals over time with their severity bands and the dates
of the doses (R10), for the course page, the client record and the prescriber hand-off. One
chart per questionnaire, so each shades its own bands. Two queries whatever the number of scores
or doses (the scores, the doses); none when the caller already has both."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.utils import timezone

from kap_clinic import formats
from patients.courses.selectors import ScoreRow, score_trend
from patients.models import Client, TreatmentCourse
from patients.models.questionnaires import Instrument
from patients.questionnaires import scoring
from sessions.models import DoseAdministration

INSTRUMENTS = (Instrument.PHQ9, Instrument.GAD7)


@dataclass
class InstrumentChart:
    """One canvas: a questionnaire's totals, and a sentence that says what the chart shows (the
    canvas's accessible name)."""

    key: str
    name: str
    summary: str


@dataclass
class OutcomeChart:
    # Every PHQ-9 and GAD-7 score, oldest first (the accessible table).
    rows: list[ScoreRow]
    # Clinic-local dates of the doses, oldest first (the vertical marks).
    dose_dates: list[date]
    # One per questionnaire that has a score, PHQ-9 first.
    charts: list[InstrumentChart] = field(default_factory=list)
    # For json_script: what static/js/outcome-chart.js draws.
    data: dict = field(default_factory=dict)


def _summary(name: str, rows: list[ScoreRow], doses: int) -> str:
    first, last = rows[0], rows[-1]
    text = f"{name} totals over time, {len(rows)} score{'s' if len(rows) != 1 else ''}: "
    if len(rows) == 1:
        text += f"{first.total} ({first.band}) on {formats.day(first.on)}."
    else:
        text += (
            f"{first.total} ({first.band}) on {formats.day(first.on)}, latest {last.total} "
            f"({last.band}) on {formats.day(last.on)}."
        )
    if doses:
        text += f" {doses} dose{'s' if doses != 1 else ''} marked."
    return text + " The table lists every score."


def build_outcome_chart(*, rows: list[ScoreRow], dose_dates: list[date]) -> OutcomeChart:
    """The chart from scores already loaded (oldest first) and dose dates. No query.

    The x axis counts days from the first score or dose, so the gaps between scores are true to
    time; the page's script labels the ticks with the dates given here."""
    dose_dates = sorted(dose_dates)
    outcome = OutcomeChart(rows=rows, dose_dates=dose_dates)
    if not rows:
        return outcome
    start = min([row.on for row in rows] + dose_dates)
    days = sorted({(row.on - start).days for row in rows} | {(d - start).days for d in dose_dates})
    instruments = []
    for key in INSTRUMENTS:
        mine = [row for row in rows if row.instrument == key]
        if not mine:
            continue
        spec = scoring.definition(key)
        outcome.charts.append(
            InstrumentChart(
                key=key, name=spec.name, summary=_summary(spec.name, mine, len(dose_dates))
            )
        )
        instruments.append(
            {
                "key": key,
                "name": spec.name,
                "max": spec.max_total,
                # R19 severity bands, lowest first.
                "bands": [
                    {"low": band.low, "high": band.high, "label": band.label, "level": band.level}
                    for band in spec.bands
                ],
                "points": [
                    {
                        "x": (row.on - start).days,
                        "y": row.total,
                        "on": formats.day(row.on),
                        "band": row.band,
                    }
                    for row in mine
                ],
            }
        )
    outcome.data = {
        "instruments": instruments,
        "doses": [
            {"x": (on - start).days, "on": formats.day(on), "label": f"Dose {number}"}
            for number, on in enumerate(dose_dates, start=1)
        ],
        # Tick positions (days) and their labels: every score date and dose date.
        "ticks": [
            {"x": day, "label": formats.day_short(date.fromordinal(start.toordinal() + day))}
            for day in days
        ],
        "last_day": days[-1],
    }
    return outcome


def dose_dates(*, client: Client, course: TreatmentCourse | None = None) -> list[date]:
    """R10: the clinic-local dates of the client's doses (of ``course`` only, when given), oldest
    first. One query."""
    doses = DoseAdministration.objects.filter(session__client=client)
    if course is not None:
        doses = doses.filter(session__course=course)
    return [
        timezone.localdate(given)
        for given in doses.order_by("given_at").values_list("given_at", flat=True)
    ]


def outcome_chart(*, client: Client, course: TreatmentCourse | None = None) -> OutcomeChart:
    """Every PHQ-9 and GAD-7 of the client with the doses of ``course`` (every dose of the client
    without one). Two queries."""
    rows, _ = score_trend(client=client)
    return build_outcome_chart(rows=rows, dose_dates=dose_dates(client=client, course=course))
