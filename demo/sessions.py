"""Demo sessions for `manage.py seed_demo`: preparation, dosing and integration sessions,
made through the real scheduling and dosing services with the clock of the day they happened.

- Daniel Okafor (Sam Rivera): three preparation sessions done; his first dosing session is today
  at 9:00, chart not started, so a demo user can run the whole dosing day in the browser.
- Ruth Alvarez (Sam Rivera): in dosing: doses given 29 and 15 days ago (the second after a high
  first reading and an in-range recheck), each followed by an integration session, and a third
  yesterday with no integration session booked yet, so her integration reminders are pending
  (days 1-3, R8) and Sam's 24-hour check turns into an alert today; the fourth dosing session
  booked 14 days after the third (R6); earlier, a dose deferred for a hard-stop blood pressure,
  with the prescriber informed.
- Grace Liu (Jordan Chen): a completed course of two doses.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from accounts.models import User
from patients.courses import services as course_services
from patients.intake import services as intake_services
from patients.models import (
    Client,
    Phase,
    Prescriber,
    QuestionnaireResponse,
    Referral,
    TreatmentCourse,
)
from patients.questionnaires.services import questionnaire_submit
from patients.referrals import services as referral_services
from sessions.dosing import services as dosing_services
from sessions.models import Session, SessionKind, SessionStatus
from sessions.scheduling import reminders, services


def backdate_referral(referral: Referral, day: date) -> None:
    """The demo is written in one go today: a referral it dates in the past was recorded that
    morning (a step is never dated before its referral was recorded)."""
    Referral.objects.filter(pk=referral.pk).update(created_at=at(day, 8))
    referral.refresh_from_db(fields=["created_at"])


def backdate_course(client: Client) -> None:
    """The course opened with its referral and followed its steps (R1); in a demo written today
    its history is dated like the referral's: opened when the referral was recorded, each move
    on the day of the referral step that made it, so the timeline reads in order."""
    course = TreatmentCourse.objects.filter(client=client).order_by("-opened_at", "-id").first()
    referral = client.referrals.order_by("-created_at", "-id").first()
    if course is None or referral is None:
        return
    days = {
        Phase.REFERRAL: referral.transitions.filter(to_status="sent")
        .values_list("happened_on", flat=True)
        .first(),
        Phase.PREPARATION: referral.transitions.filter(to_status="approved")
        .values_list("happened_on", flat=True)
        .first(),
    }
    TreatmentCourse.objects.filter(pk=course.pk).update(opened_at=referral.created_at)
    course.transitions.filter(from_phase="").update(at=referral.created_at)
    for phase, day in days.items():
        if day is not None:
            course.transitions.filter(to_phase=phase).update(at=at(day, 9))


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A moment in the clinic's time zone."""
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _session(client, kind, starts_at, by, *, done=True, **extra) -> Session:
    session = services.session_schedule(
        client=client, kind=kind, starts_at=starts_at, by=by, location="Room 2", **extra
    )
    if done:
        services.session_mark(
            session=session,
            status=SessionStatus.COMPLETED,
            by=by,
            now=starts_at + timedelta(minutes=50),
        )
    return session


def _prep(client: Client, by: User, days_ago: list[int], today: date) -> None:
    for ago in days_ago:
        _session(client, SessionKind.PREPARATION, at(today - timedelta(days=ago), 14), by)


def _dose_day(
    client: Client,
    by: User,
    day: date,
    *,
    readings: list[tuple[int, int, int, int]],
    dose: bool = True,
) -> Session:
    """A dosing session charted on ``day``: preparation at 9:05, the readings at their minutes
    past 9:00, the dose, post-dose vitals at 40 minutes, discharge after 2.5 hours."""
    start = at(day, 9)
    session = services.session_schedule(
        client=client,
        kind=SessionKind.DOSING,
        starts_at=start,
        by=by,
        location="Room 1 (quiet room)",
        acknowledge_integration=True,
    )
    dosing_services.chart_open(session=session, by=by, now=start + timedelta(minutes=2))
    dosing_services.chart_prepare(
        session=session,
        by=by,
        check_in="Slept well; some nerves about the session.",
        intention="To meet the part of me that feels stuck with curiosity instead of judgement.",
        fasting_confirmed=True,
        chaperone_confirmed=True,
        acknowledge_safety=True,
        now=start + timedelta(minutes=5),
    )
    for systolic, diastolic, pulse, minute in readings:
        moment = start + timedelta(minutes=minute)
        dosing_services.bp_record(
            session=session,
            by=by,
            moment="pre_dose",
            systolic=systolic,
            diastolic=diastolic,
            pulse=pulse,
            taken_at=moment,
            now=moment,
        )
    if not dose:
        return session
    given = start + timedelta(minutes=readings[-1][3] + 5)
    prescription = client.prescriptions.in_force().get()
    dosing_services.dose_record(
        session=session,
        by=by,
        given_at=given,
        dose_mg=prescription.dose_mg,
        tablets=prescription.tablets_per_dose,
        hold_minutes=15,
        eye_mask=True,
        music=True,
        now=given,
    )
    dosing_services.dose_hold_end(
        session=session,
        by=by,
        spat_at=given + timedelta(minutes=15),
        swallowed=False,
        now=given + timedelta(minutes=15),
    )
    dosing_services.bp_record(
        session=session,
        by=by,
        moment="post_dose",
        systolic=132,
        diastolic=84,
        pulse=78,
        taken_at=given + timedelta(minutes=40),
        now=given + timedelta(minutes=40),
    )
    dosing_services.adverse_event_record(
        session=session,
        by=by,
        kind="nausea",
        severity="mild",
        noticed_at=given + timedelta(minutes=25),
        description="Brief nausea; settled with rest.",
        now=given + timedelta(minutes=30),
    )
    dosing_services.chart_return_save(
        session=session,
        by=by,
        return_notes="Processed imagery of a closed door; light snack; steady on standing.",
        chaperone_name=client.chaperone_name or "Partner",
        chaperone_phone=client.chaperone_phone or "+15550109999",
        pickup_expected_at=given + timedelta(minutes=150),
    )
    dosing_services.discharge(
        session=session,
        by=by,
        pickup_at=given + timedelta(minutes=145),
        now=given + timedelta(minutes=150),
    )
    return session


def _approved(client: Client, prescriber: Prescriber, by: User, today: date, days_ago: int, **rx):
    referral = referral_services.referral_create(
        client=client,
        prescriber=prescriber,
        reason="Treatment-resistant depression; two SSRIs tried. Intake and scores attached.",
        by=by,
    )
    backdate_referral(referral, today - timedelta(days=days_ago + 10))
    referral_services.referral_transition(
        referral=referral,
        to_status="sent",
        happened_on=today - timedelta(days=days_ago + 10),
        by=by,
    )
    referral_services.referral_approve(
        referral=referral,
        happened_on=today - timedelta(days=days_ago),
        by=by,
        reason="Approved after assessment.",
        received_on=today - timedelta(days=days_ago),
        valid_until=today + timedelta(days=180 - days_ago),
        **rx,
    )


def remind_next_session() -> None:
    """Ruth's reminder for her next session (her next dosing day), due now: `make run`'s worker
    sends it to the console at start-up, with its links to answer and to prepare the day. Every
    run queues a new one in place of one not sent yet."""
    ruth = Client.objects.get(email="ruth@demo.kapclinic.test")
    upcoming = (
        Session.objects.filter(
            client=ruth, status=SessionStatus.SCHEDULED, starts_at__gt=timezone.now()
        )
        .select_related("client", "therapist")
        .order_by("starts_at")
        .first()
    )
    if upcoming is not None:
        reminders.reminder_queue(session=upcoming, not_before=timezone.now())


def build_sessions(staff: dict[str, User], prescription: dict, fill) -> None:
    """Runs once per client: a client who already has sessions is left alone."""
    today = timezone.localdate()
    rivera, chen = staff["rivera"], staff["chen"]
    horizon = Prescriber.objects.order_by("id").first()

    def client(first: str) -> Client:
        return Client.objects.get(email=f"{first.lower()}@demo.kapclinic.test")

    daniel = client("Daniel")
    if not Session.objects.filter(client=daniel).exists():
        _prep(daniel, rivera, [6, 4, 2], today)
        services.session_schedule(
            client=daniel,
            kind=SessionKind.DOSING,
            starts_at=at(today, 9),
            by=rivera,
            location="Room 1 (quiet room)",
        )

    ruth = client("Ruth")
    if not Session.objects.filter(client=ruth).exists():
        intake_services.intake_submit(intake=fill(ruth), by=ruth.user)
        # R1: the course opens with the referral and follows it to preparation.
        _approved(ruth, horizon, rivera, today, 60, **prescription)
        backdate_course(ruth)
        _prep(ruth, rivera, [55, 50, 45], today)
        # A hard stop 43 days ago: deferred, the prescriber informed.
        deferred = _dose_day(
            ruth, rivera, today - timedelta(days=43), readings=[(182, 96, 88, 10)], dose=False
        )
        notice = deferred.prescriber_notices.get()
        dosing_services.prescriber_notice_done(
            notice=notice,
            by=rivera,
            note="Phoned the prescribing service; BP follow-up with the primary care doctor.",
            now=at(today - timedelta(days=43), 12),
        )
        _dose_day(ruth, rivera, today - timedelta(days=29), readings=[(128, 82, 72, 10)])
        _session(ruth, SessionKind.INTEGRATION, at(today - timedelta(days=28), 15), rivera)
        _dose_day(
            ruth,
            rivera,
            today - timedelta(days=15),
            readings=[(146, 91, 84, 10), (134, 86, 78, 16)],
        )
        _session(ruth, SessionKind.INTEGRATION, at(today - timedelta(days=13), 15), rivera)
        # Yesterday's dose (R6: 14 days after the last) has no integration session booked: its
        # reminder plan (R8) is pending, and the beat turns Sam's 24-hour check into an
        # alert today. Each older dose's reminders were cancelled by its integration session.
        _dose_day(ruth, rivera, today - timedelta(days=1), readings=[(124, 80, 70, 10)])
        # The next dose 14 days after it (R6), booked while the integration session is still to
        # be arranged (R7: the therapist acknowledges the warning).
        services.session_schedule(
            client=ruth,
            kind=SessionKind.DOSING,
            starts_at=at(today + timedelta(days=13), 9),
            by=rivera,
            location="Room 1 (quiet room)",
            acknowledge_integration=True,
        )

    grace = client("Grace")
    if not Session.objects.filter(client=grace).exists():
        intake_services.intake_submit(intake=fill(grace), by=grace.user)
        _approved(grace, horizon, chen, today, 90, **{**prescription, "doses_authorised": 2})
        backdate_course(grace)
        course = TreatmentCourse.objects.get(client=grace, phase=Phase.PREPARATION)
        _prep(grace, chen, [85, 82, 78], today)
        _dose_day(grace, chen, today - timedelta(days=70), readings=[(118, 76, 70, 10)])
        _session(grace, SessionKind.INTEGRATION, at(today - timedelta(days=69), 11), chen)
        _dose_day(grace, chen, today - timedelta(days=50), readings=[(122, 78, 68, 10)])
        _session(grace, SessionKind.INTEGRATION, at(today - timedelta(days=48), 11), chen)
        course_services.course_advance(course=course, to_phase="complete", by=chen)


def _answers(total: int, items: int, *, keep_last_zero: bool) -> list[int]:
    """Item answers (0-3) adding up to ``total``; PHQ-9 item 9 stays 0 (no safety alert)."""
    answers = [0] * items
    fill = items - 1 if keep_last_zero else items
    for index in range(total):
        answers[index % fill] += 1
    return answers


def _score_history(client: Client, by: User, history: list[tuple[int, int, int]]) -> None:
    """PHQ-9 and GAD-7 at intake, before each dose and at the end (R19), through the real
    service, then dated on the days they belong to: the demo is written in one go today."""

    if QuestionnaireResponse.objects.filter(client=client).exists():
        return
    today = timezone.localdate()
    for days_ago, phq9, gad7 in history:
        for instrument, total, items in (("phq9", phq9, 9), ("gad7", gad7, 7)):
            response = questionnaire_submit(
                client=client,
                instrument=instrument,
                answers=_answers(total, items, keep_last_zero=instrument == "phq9"),
                by=by,
            )
            QuestionnaireResponse.objects.filter(pk=response.pk).update(
                submitted_at=at(today - timedelta(days=days_ago), 8, 30)
            )


def build_scores(staff: dict[str, User]) -> None:
    """Outcome measures for the clients in dosing and with a completed course, so their charts
    and the dashboard's changes from baseline have something to show."""
    ruth = Client.objects.get(email="ruth@demo.kapclinic.test")
    grace = Client.objects.get(email="grace@demo.kapclinic.test")
    _score_history(ruth, staff["rivera"], [(62, 18, 14), (29, 16, 12), (15, 12, 10), (1, 9, 8)])
    _score_history(grace, staff["chen"], [(92, 17, 13), (70, 13, 11), (50, 9, 7), (40, 6, 5)])
