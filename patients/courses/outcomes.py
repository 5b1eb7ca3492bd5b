"""R19 outcome charts: PHQ-9 and GAD-7 totals over time with their severity bands and the dates
of the doses (R10), for the course page, the client record and the prescriber hand-off. One
chart per questionnaire, so each shades its own bands. Two queries whatever the number of scores
or doses (the scores, the doses); none when the caller already has both."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.utils import timezone

from kap_clinic import formats
from patients.models import Client, QuestionnaireResponse, TreatmentCourse
from patients.models.questionnaires import Instrument
from patients.questionnaires import scoring
from sessions.models import DoseAdministration

INSTRUMENTS = (Instrument.PHQ9, Instrument.GAD7)


@dataclass
class ScoreRow:
    on: date
    instrument: str
    name: str
    total: int
    max_total: int
    band: str


# What the score reads (and the client record's latest scores) need of a response.
SCORE_FIELDS = ("id", "instrument", "total", "band", "item9_score", "submitted_at", "client_id")


def scores_of(*, client: Client, instruments=INSTRUMENTS) -> list[QuestionnaireResponse]:
    """The client's responses to ``instruments``, oldest first, with SCORE_FIELDS only. One
    query."""
    return list(
        QuestionnaireResponse.objects.filter(client=client, instrument__in=instruments)
        .only(*SCORE_FIELDS)
        .order_by("submitted_at", "id")
    )


def score_trend(
    *, client: Client, responses: list[QuestionnaireResponse] | None = None
) -> tuple[list[ScoreRow], dict]:
    """R19 PHQ-9 and GAD-7 over time, oldest first, as table rows and as chart data (for
    json_script: {"labels": ["Jan 31, 2025", ...], "phq9": [{"x": "Jan 31, 2025", "y": 12}, ...],
    "gad7": [...]}: the dates in order, once each). One query; none from ``responses`` already
    loaded (scores_of, oldest first; other questionnaires are left out)."""
    if responses is None:
        responses = scores_of(client=client)
    rows = []
    chart: dict[str, list[dict]] = {Instrument.PHQ9: [], Instrument.GAD7: []}
    labels: list[str] = []
    for response in responses:
        if response.instrument not in INSTRUMENTS:
            continue
        spec = scoring.definition(response.instrument)
        on = timezone.localdate(response.submitted_at)
        rows.append(
            ScoreRow(
                on=on,
                instrument=response.instrument,
                name=spec.name,
                total=response.total,
                max_total=spec.max_total,
                band=response.band,
            )
        )
        label = formats.day(on)
        if not labels or labels[-1] != label:
            labels.append(label)
        chart[response.instrument].append({"x": label, "y": response.total})
    return rows, {
        "labels": labels,
        "phq9": chart[Instrument.PHQ9],
        "gad7": chart[Instrument.GAD7],
    }


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


def outcome_chart(
    *,
    client: Client,
    course: TreatmentCourse | None = None,
    responses: list[QuestionnaireResponse] | None = None,
    doses: list[date] | None = None,
) -> OutcomeChart:
    """Every PHQ-9 and GAD-7 of the client with the doses of ``course`` (every dose of the client
    without one). Two queries; none for the ``responses`` (scores_of) or the dose dates
    (``doses``) the caller already has."""
    rows, _ = score_trend(client=client, responses=responses)
    if doses is None:
        doses = dose_dates(client=client, course=course)
    return build_outcome_chart(rows=rows, dose_dates=doses)
