"""Walk a dosing session through its chart with the real services (R10): open, prepare, an
in-range pre-dose reading, the dose. For tests that need doses on record (the course's numbers,
the hand-off summary) as well as the dosing-service tests themselves."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sessions.dosing import services as dosing
from sessions.models import DoseAdministration, Session

CLINIC_TZ = ZoneInfo("America/New_York")
# A Wednesday morning in the clinic's time zone (daylight time: UTC-4).
MORNING = datetime(2025, 3, 12, 9, 0, tzinfo=CLINIC_TZ)


def prepare(session: Session, *, now: datetime, by=None) -> None:
    """Open the chart and complete its preparation phase (intention, fasting, chaperone)."""
    by = by or session.therapist
    dosing.chart_open(session=session, by=by, now=now)
    dosing.chart_prepare(
        session=session,
        by=by,
        check_in="Slept well, a little nervous.",
        intention="To be kinder to myself.",
        fasting_confirmed=True,
        chaperone_confirmed=True,
        acknowledge_safety=True,
        now=now,
    )


def give_dose(
    session: Session, *, at: datetime, by=None, systolic: int = 128, diastolic: int = 82, **dose
) -> DoseAdministration:
    """Chart ``session`` up to the dose given at ``at``: prepared 15 minutes before, an in-range
    pre-dose reading 5 minutes before, then the prescribed dose (override with ``dose``)."""
    by = by or session.therapist
    prepare(session, now=at - timedelta(minutes=15), by=by)
    dosing.bp_record(
        session=session,
        by=by,
        moment="pre_dose",
        systolic=systolic,
        diastolic=diastolic,
        pulse=72,
        taken_at=at - timedelta(minutes=5),
        now=at - timedelta(minutes=5),
    )
    fields = {"dose_mg": 100, "tablets": 1} | dose
    return dosing.dose_record(session=session, by=by, given_at=at, now=at, **fields)
