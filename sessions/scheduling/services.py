"""Scheduling writes: book, reschedule, cancel, complete and mark no-show (R2, R3, R6, R7, R9).

Every write checks the access policy, runs in one transaction and leaves the audit of the rows to
django-auditlog. Booking a dosing session locks the course row first, so two clinicians booking
doses at once are checked one after the other. A refused write raises SessionError with a message
for the clinician; an R7 warning raises IntegrationWarning, which the page shows with a box to
acknowledge it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from clinic import settings_reader
from kap_clinic import formats
from kap_clinic.errors import DomainError
from patients.access import can_change_client
from patients.courses import rules as course_rules
from patients.models import Client, Phase, TreatmentCourse
from patients.models.courses import CLOSED_PHASES
from patients.referrals.selectors import current_prescription
from sessions.dosing import rules
from sessions.models import DosingDayConfirmation, Session, SessionKind, SessionStatus
from sessions.scheduling import confirmations, reminders, selectors
from sessions.scheduling.confirmations import confirmation_queue

if TYPE_CHECKING:
    from accounts.models import User

REASON_MAX = 2000


class SessionError(DomainError):
    """A rule refused the change; the message is for the clinician."""


class IntegrationWarning(SessionError):
    """R7: book anyway only with the therapist's acknowledgement."""


def _require_change(by: User, client: Client) -> None:
    if not can_change_client(by, client):
        raise SessionError("You cannot change this client's sessions.")


def _local(moment: datetime) -> str:
    return formats.short_when(timezone.localtime(moment))


def _clash_message(clash: Session, *, therapist: User) -> str:
    end = timezone.localtime(clash.ends_at)
    return (
        f"{therapist.get_full_name()} already has a {clash.get_kind_display().lower()} session "
        f"with {clash.client.full_name} on {_local(clash.starts_at)}–{end:%-I:%M %p}. "
        "Choose another time."
    )


def _check_slot(
    *, therapist: User, client: Client, starts_at: datetime, ends_at: datetime, exclude_id=None
) -> None:
    """No double booking: the therapist (also a PostgreSQL exclusion constraint) and the client
    (a person is in one session at a time)."""
    booked = Session.objects.booked().overlapping(starts_at, ends_at).select_related("client")
    if exclude_id:
        booked = booked.exclude(pk=exclude_id)
    clash = booked.filter(therapist=therapist).first()
    if clash:
        raise SessionError(_clash_message(clash, therapist=therapist))
    clash = booked.filter(client=client).select_related("therapist").first()
    if clash:
        raise SessionError(
            f"{client.full_name} already has a {clash.get_kind_display().lower()} session with "
            f"{clash.therapist.get_full_name()} on {_local(clash.starts_at)}. Choose another time."
        )


def _resolve_course(client: Client, kind: str, course: TreatmentCourse | None):
    if course is not None:
        if course.client_id != client.pk:
            raise SessionError("That course is not one of this client's courses.")
    elif kind != SessionKind.GENERAL:
        course = (
            TreatmentCourse.objects.filter(client=client).exclude(phase__in=CLOSED_PHASES).first()
        )
        if course is None:
            raise SessionError(
                f"{client.full_name} has no active treatment course. Open one on the client's "
                "record before scheduling preparation, dosing or integration sessions."
            )
    if course is not None and kind != SessionKind.GENERAL and not course.is_active:
        raise SessionError(
            f"This course is {course.get_phase_display().lower()}: no new sessions can be "
            "scheduled in it."
        )
    return course


def _check_dose_slot(
    *,
    course: TreatmentCourse,
    starts_at: datetime,
    exclude_id: int | None,
    acknowledge_integration: bool,
) -> bool:
    """R2, R3, R5, R6, R7 for a dosing session on ``starts_at``. Returns True when an R7 warning
    was acknowledged (the caller records who and when)."""
    if course.phase == Phase.ON_HOLD:
        raise SessionError("The course is on hold. Resume it before scheduling a dosing session.")
    if course.phase in (Phase.INTAKE, Phase.REFERRAL):
        # R1: intake, then the prescriber's referral, then preparation; dosing comes after.
        raise SessionError(
            f"The course is in its {course.get_phase_display().lower()} phase. A dosing session "
            "can be booked once the course is in preparation (R1): the prescriber's approval "
            "and prescription first (R3), then the preparation sessions (R2)."
        )
    on = formats.clinic_date(starts_at)
    prescription = current_prescription(client=course.client)
    facts = selectors.dose_facts(
        course=course, prescription=prescription, before=starts_at, exclude_id=exclude_id
    )
    problems = course_rules.dosing_blockers(
        prescription,
        doses_used=facts.doses_used + facts.doses_planned,
        prep_done=facts.prep_done,
        prep_required=settings_reader.current().prep_sessions_required,
        today=on,
    )
    if facts.doses_planned and prescription is not None:
        problems = _with_planned_doses(problems, facts=facts, prescription=prescription)
    if prescription is not None:
        problems += _interval_problems(facts, on=on, min_days=prescription.min_days_between_doses)
    if facts.prep_done < settings_reader.current().prep_sessions_required:
        problems += _unmarked_preparation(course)
    if problems:
        raise SessionError("This dosing session cannot be booked: " + " ".join(problems))
    warning = rules.integration_warning(
        last_dose_on=formats.clinic_date(facts.last_dose.given_at) if facts.last_dose else None,
        integration_done=facts.integration_after_last_dose,
    )
    if warning and not acknowledge_integration:
        raise IntegrationWarning(warning)
    return bool(warning)


def _with_planned_doses(problems: list[str], *, facts, prescription) -> list[str]:
    """R5 counting the dosing sessions already booked: the plain "all doses used" message would
    mislead when booked sessions fill the rest."""
    left = prescription.doses_authorised - facts.doses_used
    if facts.doses_planned < left:
        return problems
    return [p for p in problems if "authorised doses" not in p] + [
        f"{facts.doses_used} of {prescription.doses_authorised} authorised doses have "
        f"been used and {facts.doses_planned} more "
        f"{'is' if facts.doses_planned == 1 else 'are'} already scheduled: there is no "
        "dose left on the prescription for another dosing session."
    ]


def _interval_problems(facts, *, on, min_days: int) -> list[str]:
    """R6 against every other dose booked or given, in both directions (the first that fails)."""
    for other_on, _pk in facts.other_dose_dates:
        blocker = rules.dose_gap_blocker(on=on, other_on=other_on, min_days=min_days)
        if blocker:
            return [blocker]
    return []


def _unmarked_preparation(course: TreatmentCourse) -> list[str]:
    """R2 short: past preparation sessions still marked scheduled may be what is missing."""
    unmarked = Session.objects.filter(
        course=course,
        kind=SessionKind.PREPARATION,
        status=SessionStatus.SCHEDULED,
        starts_at__lt=timezone.now(),
    ).count()
    if not unmarked:
        return []
    return [
        f"{unmarked} past preparation session{'s are' if unmarked != 1 else ' is'} not "
        "marked yet: mark the sessions that took place as completed on their pages."
    ]


def _follows_dose(course: TreatmentCourse, starts_at: datetime) -> Session | None:
    """R7: the dosing session this integration session follows: the latest one before it that
    gave a dose or is still to come. Clinics often book the integration session before the
    dosing day; linking it to the planned dosing session means the reminders after that dose
    know it is booked (R8)."""
    return (
        Session.objects.filter(course=course, kind=SessionKind.DOSING, starts_at__lt=starts_at)
        .filter(Q(dose__isnull=False) | Q(status=SessionStatus.SCHEDULED))
        .order_by("-starts_at", "-id")
        .first()
    )


def session_schedule(
    *,
    client: Client,
    kind: str,
    starts_at: datetime,
    by: User,
    minutes: int | None = None,
    therapist: User | None = None,
    course: TreatmentCourse | None = None,
    location: str = "",
    telehealth_url: str = "",
    acknowledge_integration: bool = False,
) -> Session:
    """Book a session. Dosing sessions: 180 minutes by default (R9) and every dosing gate (R2,
    R3, R5, R6, R7 as a warning to acknowledge). Integration sessions are linked to the dose they
    follow (R7, R8)."""
    _require_change(by, client)
    if kind not in SessionKind.values:
        raise SessionError("Choose a kind of session.")
    if client.is_archived:
        raise SessionError("This client's record is archived. Restore it before scheduling.")
    if timezone.is_naive(starts_at):
        raise SessionError("The start time needs a time zone.")
    therapist = therapist or (by if by.is_therapist else client.primary_therapist)
    if not therapist.is_active or not therapist.is_therapist:
        raise SessionError("Sessions are held by an active therapist.")
    minutes = minutes or rules.default_minutes(kind)
    if not 10 <= minutes <= 480:
        raise SessionError("A session lasts between 10 minutes and 8 hours.")
    ends_at = starts_at + timedelta(minutes=minutes)
    try:
        with transaction.atomic():
            course = _resolve_course(client, kind, course)
            acknowledged = False
            if kind == SessionKind.DOSING:
                course = TreatmentCourse.objects.select_for_update().get(pk=course.pk)
                course.client = client
                acknowledged = _check_dose_slot(
                    course=course,
                    starts_at=starts_at,
                    exclude_id=None,
                    acknowledge_integration=acknowledge_integration,
                )
            _check_slot(therapist=therapist, client=client, starts_at=starts_at, ends_at=ends_at)
            session = Session.objects.create(
                client=client,
                course=course,
                therapist=therapist,
                kind=kind,
                starts_at=starts_at,
                ends_at=ends_at,
                location=location.strip(),
                telehealth_url=telehealth_url.strip(),
                follows_dose=_follows_dose(course, starts_at)
                if kind == SessionKind.INTEGRATION
                else None,
                integration_warning_acknowledged_by=by if acknowledged else None,
                integration_warning_acknowledged_at=timezone.now() if acknowledged else None,
                created_by=by,
            )
            confirmation_queue(session=session, change=confirmations.BOOKED)
            reminders.reminders_plan(session=session)
    except IntegrityError as error:
        # Two bookings of one slot at the same moment: PostgreSQL's exclusion constraint.
        if "session_no_double_booking" in str(error):
            raise SessionError(
                f"{therapist.get_full_name()} already has a session at that time. Choose another "
                "time."
            ) from error
        raise
    return session


def _editable(session: Session) -> None:
    if session.status != SessionStatus.SCHEDULED:
        raise SessionError(
            f"This session is {session.get_status_display().lower()} and can no longer be changed."
        )


def session_reschedule(
    *,
    session: Session,
    starts_at: datetime,
    by: User,
    minutes: int | None = None,
    location: str | None = None,
    telehealth_url: str | None = None,
    acknowledge_integration: bool = False,
) -> Session:
    """Move a scheduled session. A dosing session is checked again against every dosing gate for
    its new date (the interval to the other doses, the prescription's expiry)."""
    _require_change(by, session.client)
    minutes = minutes or session.minutes
    if not 10 <= minutes <= 480:
        raise SessionError("A session lasts between 10 minutes and 8 hours.")
    ends_at = starts_at + timedelta(minutes=minutes)
    try:
        with transaction.atomic():
            # of=("self",): the course is nullable (an outer join), which PostgreSQL cannot lock.
            locked = (
                Session.objects.select_for_update(of=("self",))
                .select_related("client", "course", "therapist")
                .get(pk=session.pk)
            )
            _editable(locked)
            if hasattr(locked, "dosing_chart"):
                raise SessionError(
                    "The dosing chart of this session has been started: it can no longer be moved."
                )
            acknowledged = False
            if locked.kind == SessionKind.DOSING:
                # KAP sessions belong to a course (check constraint session_kap_kind_has_course).
                assert locked.course_id is not None
                course = TreatmentCourse.objects.select_for_update().get(pk=locked.course_id)
                course.client = locked.client
                acknowledged = _check_dose_slot(
                    course=course,
                    starts_at=starts_at,
                    exclude_id=locked.pk,
                    acknowledge_integration=acknowledge_integration,
                )
            _check_slot(
                therapist=locked.therapist,
                client=locked.client,
                starts_at=starts_at,
                ends_at=ends_at,
                exclude_id=locked.pk,
            )
            if locked.starts_at != starts_at:
                _dosing_day_unconfirm(locked)
            _move(locked, starts_at, ends_at, location=location, telehealth_url=telehealth_url)
            if locked.kind == SessionKind.INTEGRATION:
                assert locked.course is not None  # a KAP session, as above
                locked.follows_dose = _follows_dose(locked.course, starts_at)
            if acknowledged:
                locked.integration_warning_acknowledged_by = by
                locked.integration_warning_acknowledged_at = timezone.now()
            locked.save()
            confirmation_queue(session=locked, change=confirmations.MOVED)
            reminders.reminders_plan(session=locked)
    except IntegrityError as error:
        if "session_no_double_booking" in str(error):
            raise SessionError(
                "The therapist already has a session at that time. Choose another time."
            ) from error
        raise
    return locked


def _dosing_day_unconfirm(session: Session) -> None:
    """R15: the chaperone the client confirmed was for the old day and time: asked again (the
    name and phone stay to start from; saved with save(), so the audit trail shows it)."""
    day = DosingDayConfirmation.objects.filter(
        session=session, chaperone_confirmed_at__isnull=False
    ).first()
    if day is not None:
        day.chaperone_confirmed_at, day.pickup_at = None, None
        day.save()


def _move(
    session: Session,
    starts_at: datetime,
    ends_at: datetime,
    *,
    location: str | None,
    telehealth_url: str | None,
) -> None:
    if session.starts_at != starts_at:
        # The client's answer was for the old time: the new one is asked about again.
        session.client_reply, session.client_reply_at = "", None
    session.starts_at, session.ends_at = starts_at, ends_at
    if location is not None:
        session.location = location.strip()
    if telehealth_url is not None:
        session.telehealth_url = telehealth_url.strip()


def session_cancel(*, session: Session, reason: str, by: User) -> Session:
    """Cancel a scheduled session, with the reason (kept: nothing is deleted, R24)."""
    _require_change(by, session.client)
    reason = (reason or "").strip()
    if not reason:
        raise SessionError("Give a reason for cancelling the session.")
    if len(reason) > REASON_MAX:
        raise SessionError(f"Keep the reason under {REASON_MAX} characters.")
    with transaction.atomic():
        locked = Session.objects.select_for_update().get(pk=session.pk)
        _editable(locked)
        if hasattr(locked, "dose"):
            raise SessionError("A dose was given in this session: it cannot be cancelled.")
        locked.status = SessionStatus.CANCELLED
        locked.cancel_reason = reason
        locked.status_changed_at = timezone.now()
        locked.status_changed_by = by
        locked.save()
        confirmation_queue(session=locked, change=confirmations.CANCELLED)
        reminders.reminders_cancel(session=locked, reason="The session was cancelled.")
    return locked


def session_mark(*, session: Session, status: str, by: User, now: datetime | None = None):
    """Mark a preparation, integration or general session completed or a no-show, once it has
    started. A dosing session is completed from its chart (discharge or deferral)."""
    _require_change(by, session.client)
    if status not in (SessionStatus.COMPLETED, SessionStatus.NO_SHOW):
        raise SessionError("A session can be marked completed or no-show.")
    now = now or timezone.now()
    with transaction.atomic():
        locked = Session.objects.select_for_update().get(pk=session.pk)
        _editable(locked)
        if locked.kind == SessionKind.DOSING and status == SessionStatus.COMPLETED:
            raise SessionError(
                "A dosing session is completed from its dosing chart, at discharge or when the "
                "dose is deferred."
            )
        if locked.kind == SessionKind.DOSING and hasattr(locked, "dosing_chart"):
            raise SessionError("The dosing chart of this session has been started.")
        if locked.starts_at > now:
            raise SessionError(
                f"This session starts on {_local(locked.starts_at)}: it can be marked "
                f"{SessionStatus(status).label.lower()} once it has started."
            )
        locked.status = status
        locked.status_changed_at = now
        locked.status_changed_by = by
        locked.save()
    return locked
