"""Reads behind the scheduling rules and pages. Each runs a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Q, QuerySet

from kap_clinic import formats
from patients.models import TreatmentCourse
from sessions.dosing.selectors import dose_for
from sessions.models import DoseAdministration, Session, SessionKind, SessionStatus


def booked_dosing_sessions(*, course: TreatmentCourse) -> QuerySet[Session]:
    """Dosing sessions that hold a dose: scheduled ones, and past ones where a dose was given.
    A cancelled session, or one where the dose was deferred, holds none. One query."""
    return (
        Session.objects.filter(course=course, kind=SessionKind.DOSING)
        .filter(Q(status=SessionStatus.SCHEDULED) | Q(dose__isnull=False))
        .select_related("dose")
        .order_by("starts_at", "id")
    )


@dataclass(frozen=True)
class DoseFacts:
    """What R2, R3, R5, R6 and R7 look at when a dose is scheduled or given."""

    prep_done: int
    doses_used: int
    # Dosing sessions on the calendar that hold a dose but have none yet (excluding the one
    # being changed).
    doses_planned: int
    # Other dosing sessions holding a dose: (clinic date, session id).
    other_dose_dates: list[tuple[date, int]]
    last_dose: DoseAdministration | None
    integration_after_last_dose: bool


def dose_facts(
    *, course: TreatmentCourse, prescription, before: datetime, exclude_id: int | None = None
) -> DoseFacts:
    """Four queries."""
    prep_done = Session.objects.filter(course=course).completed_preparation().count()
    doses_used = (
        DoseAdministration.objects.counted_against(prescription).count()
        if prescription is not None
        else 0
    )
    others = [s for s in booked_dosing_sessions(course=course) if s.pk != exclude_id]
    doses = {s.pk: dose_for(s) for s in others}
    planned = sum(1 for s in others if doses[s.pk] is None)
    dates = [
        (formats.clinic_date(doses[s.pk].given_at if doses[s.pk] else s.starts_at), s.pk)
        for s in others
    ]
    given = [d for d in doses.values() if d is not None and d.given_at < before]
    last = max(given, key=lambda d: d.given_at) if given else None
    integration_done = False
    if last is not None:
        integration_done = Session.objects.filter(
            course=course,
            kind=SessionKind.INTEGRATION,
            status=SessionStatus.COMPLETED,
            starts_at__gte=last.given_at,
        ).exists()
    return DoseFacts(
        prep_done=prep_done,
        doses_used=doses_used,
        doses_planned=planned,
        other_dose_dates=dates,
        last_dose=last,
        integration_after_last_dose=integration_done,
    )
