"""Sessions for tests. Rows are written directly (fast, any state); the scheduling services are
for tests of scheduling itself."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.conf import settings
from django.utils import timezone

from patients.courses import services as course_services
from patients.models import Client, Phase, TreatmentCourse
from patients.models.courses import CLOSED_PHASES
from patients.referrals.selectors import current_prescription
from sessions.models import (
    BloodPressureReading,
    DoseAdministration,
    Session,
    SessionKind,
    SessionStatus,
)
from sessions.scheduling.services import session_schedule
from tests.factories import ClientFactory, ClientUserFactory, TherapistFactory
from tests.factories_intake import submitted_intake
from tests.factories_referrals import approved_referral_with_prescription


def course_for(client: Client) -> TreatmentCourse:
    """The client's active course, or a new one in preparation (one active course per client)."""
    active = TreatmentCourse.objects.filter(client=client).exclude(phase__in=CLOSED_PHASES).first()
    if active is not None:
        return active
    return TreatmentCourse.objects.create(
        client=client,
        therapist=client.primary_therapist,
        phase=Phase.PREPARATION,
        opened_by=client.primary_therapist,
    )


def _starts_at(n: int):
    # Two hours apart so the therapist double-booking constraint never trips between rows.
    base = timezone.now().replace(minute=0, second=0, microsecond=0)
    return base + timedelta(days=1, hours=3 * n)


class SessionFactory(factory.django.DjangoModelFactory):
    """``SessionFactory(client=record, kind="integration")``. KAP kinds get the client's active
    course (created in preparation when there is none); general psychotherapy gets no course."""

    class Meta:
        model = Session

    client = factory.SubFactory(ClientFactory)
    kind = SessionKind.PREPARATION
    course = factory.LazyAttribute(
        lambda o: None if o.kind == SessionKind.GENERAL else course_for(o.client)
    )
    therapist = factory.LazyAttribute(lambda o: o.client.primary_therapist)
    starts_at = factory.Sequence(_starts_at)
    ends_at = factory.LazyAttribute(
        lambda o: o.starts_at + timedelta(minutes=180 if o.kind == SessionKind.DOSING else 50)
    )
    location = "Room 2"
    created_by = factory.LazyAttribute(lambda o: o.therapist)


# --- Dosing chart (R10-R15: the guided dosing session) -----------------------------------------


def dosing_ready_session(
    client: Client | None = None,
    *,
    starts_at=None,
    therapist=None,
    prep_sessions: int = 3,
    **prescription_fields,
) -> Session:
    """A dosing session for a client who is ready to dose, built the way the pages build it:
    a submitted intake, an approved referral with a prescription (R3), a course opened and moved
    to preparation, ``prep_sessions`` completed preparation sessions (R2), then the dosing session
    booked through ``session_schedule`` (R9: 180 minutes) at ``starts_at`` (default: now, so the
    chart can be started today). Call it inside ``time_machine.travel`` to pin "today"."""
    if client is None:
        client = ClientFactory(
            primary_therapist=therapist or TherapistFactory(),
            user=ClientUserFactory(),
            chaperone_name="Ravi Patel",
            chaperone_phone="+15555550123",
        )
    by = client.primary_therapist
    submitted_intake(client)
    approved_referral_with_prescription(client, by=by, **prescription_fields)
    # R1: the course opened with the referral and followed it to preparation.
    course = course_for(client)
    assert course.phase == Phase.PREPARATION, course.phase
    now = timezone.now()
    for n in range(prep_sessions):
        begin = now - timedelta(days=21 - 7 * n)
        Session.objects.create(
            client=client,
            course=course,
            therapist=by,
            kind=SessionKind.PREPARATION,
            starts_at=begin,
            ends_at=begin + timedelta(minutes=50),
            status=SessionStatus.COMPLETED,
            status_changed_at=begin + timedelta(minutes=50),
            created_by=by,
        )
    return session_schedule(
        client=client,
        kind=SessionKind.DOSING,
        starts_at=starts_at or now,
        by=by,
        location="Room 2",
    )


# --- Scheduling (calendar and session pages) ------------------------------------------------------


def course_ready_for_dosing(
    client: Client,
    *,
    prep_done: int = 3,
    prep_earlier: timedelta = timedelta(0),
    **prescription_fields,
) -> tuple[TreatmentCourse, object]:
    """A realistic course through the real services: submitted intake, course opened, approved
    referral with a prescription (``prescription_fields`` override it), moved to preparation, and
    ``prep_done`` completed preparation sessions in the past (R2), weekly, ``prep_earlier`` before
    the hour (a second course's, clear of the first's). Returns (course, prescription).
    The client needs a portal login (the intake is theirs)."""
    by = client.primary_therapist
    if not client.intakes.filter(status="submitted").exists():  # a second course reuses it
        submitted_intake(client)
    course = course_services.course_open(client=client, by=by)
    _referral, prescription = approved_referral_with_prescription(client, by, **prescription_fields)
    # R1: the course followed its referral to preparation.
    course.refresh_from_db()
    assert course.phase == Phase.PREPARATION, course.phase
    base = timezone.now().replace(minute=0, second=0, microsecond=0)
    for n in range(prep_done):
        SessionFactory(
            client=client,
            course=course,
            kind=SessionKind.PREPARATION,
            status="completed",
            starts_at=base - timedelta(days=7 * (n + 1)) - prep_earlier,
        )
    return course, prescription


def dose_given(session: Session, *, given_at=None, prescription=None):
    """Record the dose of a dosing session directly (the dosing chart's work): an in-range pre-dose
    reading 10 minutes before, then the administration (R11: the database trigger checks both)."""
    if prescription is None:
        prescription = current_prescription(client=session.client)
    given_at = given_at or session.starts_at + timedelta(minutes=30)
    reading = BloodPressureReading.objects.create(
        session=session,
        moment="pre_dose",
        systolic=122,
        diastolic=78,
        taken_at=given_at - timedelta(minutes=10),
        result="in_range",
        defer_systolic=settings.BP_DEFER_SYSTOLIC,
        defer_diastolic=settings.BP_DEFER_DIASTOLIC,
        hard_stop_systolic=settings.BP_HARD_STOP_SYSTOLIC,
        hard_stop_diastolic=settings.BP_HARD_STOP_DIASTOLIC,
        recorded_by=session.therapist,
    )
    return DoseAdministration.objects.create(
        session=session,
        prescription=prescription,
        pre_dose_reading=reading,
        given_at=given_at,
        dose_mg=prescription.dose_mg,
        tablets=1,
        recorded_by=session.therapist,
    )
