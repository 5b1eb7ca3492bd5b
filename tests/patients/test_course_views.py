"""Treatment-course pages (R1-R6): who sees them, what they offer, crafted POSTs that the service
refuses, the audit of views, and fixed query counts."""

from __future__ import annotations

import html
import itertools
import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent
from patients.courses import selectors as course_selectors
from patients.courses.detail import course_detail
from patients.courses.handoff import handoff
from patients.models import (
    CourseTransition,
    Phase,
    QuestionnaireResponse,
    Referral,
    ReferralTransition,
    TreatmentCourse,
)
from patients.referrals import services as referral_services
from sessions.dosing import services as dosing_services
from sessions.models import (
    AdverseEvent,
    BloodPressureReading,
    DoseAdministration,
    DosingChart,
    PsychotherapyNote,
    Session,
)
from sessions.scheduling.services import session_mark, session_schedule
from tests import factories
from tests.conftest import sign_in
from tests.factories_intake import submitted_intake
from tests.factories_referrals import PrescriptionFactory, ReferralFactory
from tests.factories_sessions import SessionFactory, dosing_ready_session
from tests.patients.test_course_services import R2_MESSAGE, make_course
from tests.sessions.dosing_helpers import MORNING, give_dose, prepare


def url(name: str, course: TreatmentCourse | None = None, client=None) -> str:
    kwargs = {"client_id": (client or course.client).pk}
    if course is not None:
        kwargs["course_id"] = course.pk
    return reverse(f"patients:courses:{name}", kwargs=kwargs)


@pytest.fixture
def ready_client(client_record):
    submitted_intake(client_record)
    PrescriptionFactory(
        referral=ReferralFactory(client=client_record, status=Referral.Status.APPROVED)
    )
    return client_record


def text(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(response.content.decode()))


def words(response) -> str:
    """The page as a reader sees it: tags dropped, spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text(response))).strip()


# --- Access -------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["list", "detail", "handoff"])
def test_access_matrix(client, page, therapist, other_therapist, admin_user, client_record):
    course = make_course(client_record, Phase.INTAKE)
    target = url(page, None if page == "list" else course, client=client_record)
    for user, status in (
        (therapist, 200),
        (admin_user, 200),
        (other_therapist, 404),
        (client_record.user, 404),
    ):
        client.logout()
        sign_in(client, user)
        assert client.get(target).status_code == status, (page, user.role)


def test_a_shared_therapist_sees_the_course(client, other_therapist, client_record):
    factories.ClientShareFactory(client=client_record, therapist=other_therapist)
    course = make_course(client_record, Phase.INTAKE)
    sign_in(client, other_therapist)
    assert client.get(url("detail", course)).status_code == 200


def test_a_course_under_another_clients_url_is_404(as_user, therapist, client_record):
    other = factories.ClientFactory(primary_therapist=therapist)
    course = make_course(other, Phase.INTAKE)
    web = as_user(therapist)
    wrong = reverse(
        "patients:courses:detail", kwargs={"client_id": client_record.pk, "course_id": course.pk}
    )
    assert web.get(wrong).status_code == 404
    crafted = reverse(
        "patients:courses:transition",
        kwargs={"client_id": client_record.pk, "course_id": course.pk},
    )
    assert web.post(crafted, {"to_phase": "on_hold", "reason": "x"}).status_code == 404
    course.refresh_from_db()
    assert course.phase == Phase.INTAKE


def test_views_are_audited_with_their_page_names(as_user, therapist, client_record):
    course = make_course(client_record, Phase.INTAKE)
    web = as_user(therapist)
    web.get(url("detail", course))
    web.get(url("handoff", course))
    pages = list(
        AccessEvent.objects.filter(client=client_record)
        .order_by("id")
        .values_list("page", flat=True)
    )
    assert pages == ["Treatment course", "Prescriber hand-off summary"]


def test_other_therapist_post_changes_nothing(client, other_therapist, client_record):
    course = make_course(client_record, Phase.INTAKE)
    sign_in(client, other_therapist)
    response = client.post(
        url("transition", course), {"to_phase": "discontinued", "reason": "x", "confirm": "on"}
    )
    assert response.status_code == 404
    assert client.post(url("open", client=client_record)).status_code == 404
    course.refresh_from_db()
    assert course.phase == Phase.INTAKE


# --- Opening ------------------------------------------------------------------------------------


def test_open_a_course_from_the_list(as_user, therapist, client_record):
    web = as_user(therapist)
    page = text(web.get(url("list", client=client_record)))
    assert "No treatment course yet." in page
    assert "Open a treatment course</button>" in page
    response = web.post(url("open", client=client_record), follow=True)
    course = client_record.courses.get()
    assert response.redirect_chain[-1][0] == url("detail", course)
    assert "Treatment course opened for Maya Patel. It starts in intake." in text(response)
    # A second one is refused, with the reason.
    response = web.post(url("open", client=client_record), follow=True)
    assert "already has an active treatment course" in text(response)
    assert client_record.courses.count() == 1


def test_list_offers_a_booster_after_a_completed_course(as_user, therapist, client_record):
    done = make_course(client_record, Phase.COMPLETE)
    web = as_user(therapist)
    page = text(web.get(url("list", client=client_record)))
    assert "Open a booster course</button>" in page
    web.post(url("open", client=client_record), {"booster_of": done.pk})
    assert client_record.courses.get(booster_of=done).phase == Phase.INTAKE


def test_booster_of_another_clients_course_is_refused(as_user, therapist, client_record):
    other = make_course(factories.ClientFactory(primary_therapist=therapist), Phase.COMPLETE)
    web = as_user(therapist)
    response = web.post(url("open", client=client_record), {"booster_of": other.pk}, follow=True)
    assert "not one of this client's courses" in text(response)
    assert not client_record.courses.exists()


# --- The course page ----------------------------------------------------------------------------


def test_preparation_page_shows_dosing_blocked_with_the_reason_and_no_button(
    as_user, therapist, ready_client
):
    course = make_course(ready_client, Phase.PREPARATION)
    page = text(as_user(therapist).get(url("detail", course)))
    assert "Start dosing: not possible yet" in page
    assert R2_MESSAGE in page
    assert "Start dosing</button>" not in page
    assert "Put on hold</button>" in page
    assert "Discontinue the course</button>" in page
    assert "0 of 3" in page  # preparation sessions
    assert "0 of 6" in page  # doses used / authorised
    assert re.search(r'step-current" aria-current="step">.{0,200}Preparation</span>', page)


def test_forward_step_through_the_page(as_user, therapist, ready_client):
    course = make_course(ready_client, Phase.INTAKE)
    web = as_user(therapist)
    assert "Move to referral</button>" in text(web.get(url("detail", course)))
    response = web.post(
        url("transition", course), {"kind": "forward", "to_phase": "referral"}, follow=True
    )
    assert "The course is now in referral." in text(response)
    course.refresh_from_db()
    assert course.phase == Phase.REFERRAL


REFUSED = "This can't be done yet:"  # a rule said no (the service): nothing to correct
TO_CORRECT = "Please correct 1 problem below."  # the form's own check: a field to fix


@pytest.mark.parametrize(
    ("start", "post", "message", "heading"),
    [
        (Phase.INTAKE, {"to_phase": "dosing"}, "The next phase is referral.", REFUSED),
        (Phase.PREPARATION, {"to_phase": "dosing"}, R2_MESSAGE, REFUSED),
        (Phase.REFERRAL, {"to_phase": "intake"}, "cannot move to intake", REFUSED),
        (Phase.COMPLETE, {"to_phase": "dosing"}, "can no longer change", REFUSED),
        (
            Phase.INTAKE,
            {"to_phase": "on_hold"},
            "Give a reason for putting the course on hold.",
            TO_CORRECT,
        ),
        (
            Phase.DOSING,
            {"to_phase": "discontinued", "reason": "Stopping"},
            "Tick the box to confirm the course ends.",
            TO_CORRECT,
        ),
        (Phase.INTAKE, {"to_phase": "launched"}, "Select a valid choice", TO_CORRECT),
    ],
)
def test_crafted_posts_are_refused_and_change_nothing(
    as_user, therapist, ready_client, start, post, message, heading
):
    course = make_course(ready_client, start)
    response = as_user(therapist).post(url("transition", course), post)
    assert response.status_code == 200
    assert message in text(response)
    page = words(response)
    assert heading in page
    assert ("Please correct" in page) == (heading == TO_CORRECT)
    assert ("This can't be done" in page) == (heading == REFUSED)
    course.refresh_from_db()
    assert course.phase == start
    assert not CourseTransition.objects.filter(course=course).exists()
    # The page shown again offers only what the course allows, whatever was posted.
    posted = post["to_phase"]
    allowed = {a.to_phase for a in course_detail(course=course).actions}
    if posted not in allowed:
        assert f'name="to_phase" value="{posted}"' not in text(response)


def test_hold_and_resume_through_the_page(as_user, therapist, ready_client):
    course = make_course(ready_client, Phase.REFERRAL)
    web = as_user(therapist)
    response = web.post(
        url("transition", course),
        {"kind": "hold", "to_phase": "on_hold", "reason": "Travelling for a month"},
        follow=True,
    )
    page = text(response)
    assert "On hold</strong> during referral" in page
    assert "Travelling for a month" in page
    assert "Resume referral</button>" in page
    web.post(url("transition", course), {"kind": "resume", "to_phase": "referral"})
    course.refresh_from_db()
    assert course.phase == Phase.REFERRAL


def test_discontinue_needs_reason_and_confirmation(as_user, therapist, ready_client):
    course = make_course(ready_client, Phase.PREPARATION)
    web = as_user(therapist)
    response = web.post(
        url("transition", course), {"kind": "discontinue", "to_phase": "discontinued"}
    )
    page = text(response)
    assert "Give a reason for discontinuing the course." in page
    assert 'class="action-box mb-2" open' in page  # the form the error belongs to stays open
    web.post(
        url("transition", course),
        {"kind": "discontinue", "to_phase": "discontinued", "reason": "Moved", "confirm": "on"},
    )
    course.refresh_from_db()
    assert course.phase == Phase.DISCONTINUED
    page = text(web.get(url("detail", course)))
    assert "Discontinued</strong> on" in page
    assert "during preparation: Moved" in page
    assert "can no longer change" in page


# --- Hand-off -----------------------------------------------------------------------------------


def test_handoff_contents(as_user, therapist, ready_client):
    course = make_course(ready_client, Phase.PREPARATION)
    QuestionnaireResponse.objects.create(
        client=ready_client,
        instrument="phq9",
        answers=[1] * 9,
        total=9,
        band="mild",
        item9_score=1,
        entered_by=therapist,
    )
    page = text(as_user(therapist).get(url("handoff", course)))
    assert "Prescriber hand-off summary" in page
    assert "Ketamine 100 mg per session" in page
    assert "No doses recorded yet." in page
    assert 'Blood pressure readings</h2> <p class="mb-0">None recorded.' in page
    assert '<script id="score-trend-data" type="application/json">' in page
    assert '"phq9": [{"x": ' in page
    assert "<td>PHQ-9</td><td>9 <span" in page
    assert "<script>" not in page  # no inline script (CSP)


# --- Real doses on the course page and the hand-off (R5, R6, R10, R12-R14, R23) -----------------


def _dosed_course(therapist_user=None):
    """A course with a dose on Mar 12 (post-dose reading, an adverse event), an integration
    session two days later (with the therapist's psychotherapy note), and a second dosing session
    on Mar 26 deferred by a hard-stop reading."""
    at = MORNING + timedelta(minutes=30)
    with time_machine.travel(MORNING, tick=False) as clock:
        session = dosing_ready_session(therapist=therapist_user)
        by = session.therapist
        give_dose(session, at=at)
        clock.move_to(at + timedelta(minutes=40))
        dosing_services.bp_record(
            session=session,
            by=by,
            moment="post_dose",
            systolic=150,
            diastolic=92,
            pulse=80,
            taken_at=at + timedelta(minutes=40),
        )
        dosing_services.adverse_event_record(
            session=session,
            by=by,
            kind="nausea",
            severity="mild",
            noticed_at=at + timedelta(minutes=20),
            rescue_medication="Ondansetron 4 mg",
        )
        integration = session_schedule(
            client=session.client,
            kind="integration",
            starts_at=MORNING + timedelta(days=2),
            by=by,
        )
        PsychotherapyNote.objects.create(
            session=integration, author=by, text="Private process note: not for the prescriber"
        )
        clock.move_to(MORNING + timedelta(days=2, hours=1))
        session_mark(session=integration, status="completed", by=by)
        second = session_schedule(
            client=session.client, kind="dosing", starts_at=MORNING + timedelta(days=14), by=by
        )
        clock.move_to(MORNING + timedelta(days=14, minutes=10))
        prepare(second, now=MORNING + timedelta(days=14, minutes=10))
        dosing_services.bp_record(
            session=second,
            by=by,
            moment="pre_dose",
            systolic=182,
            diastolic=95,
            pulse=88,
            taken_at=MORNING + timedelta(days=14, minutes=10),
        )
    return session.course


@pytest.mark.parametrize(
    ("kind", "used", "says"),
    [
        ("renewal", "0 of 4", "Counted from the prescriber's renewal received Mar 12, 2025"),
        ("change", "1 of 4", "the doses given before the change still count"),
    ],
)
def test_course_page_says_what_a_new_prescription_did_to_the_count(
    as_user, therapist, kind, used, says
):
    # R4/R5: a renewal (the prescriber's new authorisation) starts the count again; a change
    # under the same authorisation does not give doses back.
    with time_machine.travel(MORNING, tick=False):
        session = dosing_ready_session(therapist=therapist)
        dose = give_dose(session, at=MORNING + timedelta(minutes=30))
        referral_services.prescription_supersede(
            prescription=dose.prescription, by=therapist, kind=kind, doses_authorised=4
        )
        page = words(as_user(therapist).get(url("detail", session.course)))
    assert used in page
    assert says in page


def test_course_page_shows_real_doses_and_the_next_dose_date(as_user, therapist, client):
    at = MORNING + timedelta(minutes=30)
    with time_machine.travel(MORNING, tick=False):
        session = dosing_ready_session(therapist=therapist)
        give_dose(session, at=at)
        page = words(as_user(therapist).get(url("detail", session.course)))
    assert "3 of 3" in page  # preparation sessions (R2)
    assert "1 of 6" in page
    assert "used; 5 left on the prescription" in page  # R5
    assert "Counted from the prescriber's approval of the referral." in page
    assert "Mar 26, 2025" in page  # R6: Mar 12 + 14 days
    assert "last dose Mar 12, 2025; at least 14 days between doses" in page
    assert "Preparation → Dosing" in page  # the first dose moved the course (R1)
    assert "Dose 1 given by Sam Rivera 100 mg, 1 tablet" in page


def test_timeline_shows_booked_and_deferred_dosing_sessions(as_user, therapist):
    course = _dosed_course(therapist)
    with time_machine.travel(MORNING + timedelta(days=15), tick=False):
        page = words(as_user(therapist).get(url("detail", course)))
    assert "Dose 1 given" in page
    assert (
        "Dose deferred by Sam Rivera Blood pressure 182/95 is at or above the hard stop "
        "(180/100). The dose is deferred for today and the prescriber should be informed."
    ) in page
    assert "Dose 2" not in page
    assert "1 of 6" in page


def test_timeline_shows_a_dosing_session_booked_ahead(as_user, therapist):
    with time_machine.travel(MORNING, tick=False):
        session = dosing_ready_session(
            therapist=therapist, starts_at=MORNING + timedelta(days=1, hours=1)
        )
        page = words(as_user(therapist).get(url("detail", session.course)))
    assert "Mar 13, 2025 Dosing session booked 10:00 AM with Sam Rivera" in page
    assert "No dose yet" in page


def test_handoff_lists_doses_readings_events_and_integration_without_private_notes(
    as_user, therapist
):
    course = _dosed_course(therapist)
    with time_machine.travel(MORNING + timedelta(days=15), tick=False):
        page = text(as_user(therapist).get(url("handoff", course)))
    # Doses taken, with the pre-dose reading (R10, R11).
    assert (
        "<td>Mar 12, 2025</td> <td>9:30 AM</td> <td>100 mg, 1 tablet</td> "
        "<td>128/82 at 9:25 AM</td>"
    ) in page
    assert "Doses</dt><dd>1 of 6 used" in page
    # Every reading, with what it was judged against (R12-R14).
    assert "<td>Before the dose</td> <td>128/82</td> <td>72</td> <td>In range</td>" in page
    assert (
        "<td>After the dose</td> <td>150/92</td> <td>80</td> "
        "<td><strong>High</strong> (at or above 140/90)</td>"
    ) in page
    assert (
        "<td>182/95</td> <td>88</td> <td><strong>Hard stop</strong> (at or above 180/100)</td>"
    ) in page
    # The deferral, the adverse event and the integration session attended.
    assert "Mar 26, 2025: Blood pressure 182/95 is at or above the hard stop (180/100)." in page
    assert "<td>Nausea</td> <td>Mild</td> <td>—</td> <td>Ondansetron 4 mg</td>" in page
    assert "<td>Mar 14, 2025</td> <td>Attended</td> <td>Mar 12, 2025</td>" in page
    # R23: psychotherapy notes never reach the hand-off; nor the chart's own free text.
    assert "Private process note" not in page
    assert "To be kinder to myself" not in page
    # R15: this dose's chart was never closed.
    assert "<td>Not discharged yet</td>" in page


def test_handoff_gives_the_discharge_of_each_dose(as_user, therapist):
    """R15: for each dose, when the client was discharged, into whose care, and when the
    chaperone arrived."""
    at = MORNING + timedelta(minutes=30)
    with time_machine.travel(MORNING, tick=False) as clock:
        session = dosing_ready_session(therapist=therapist)
        give_dose(session, at=at)
        dosing_services.chart_return_save(
            session=session,
            by=therapist,
            return_notes="Private: talked about the lake house",
            chaperone_name="Ravi Patel",
            chaperone_phone="+1 555 201 7777",
            pickup_expected_at=at + timedelta(hours=2, minutes=15),
        )
        clock.move_to(at + timedelta(hours=2, minutes=20))
        dosing_services.discharge(
            session=session, by=therapist, pickup_at=at + timedelta(hours=2, minutes=10)
        )
        page = text(as_user(therapist).get(url("handoff", session.course)))
    assert '<th scope="col">Discharge</th>' in page
    assert "<td>11:50 AM into the care of Ravi Patel; chaperone arrived 11:40 AM</td>" in page
    assert "talked about the lake house" not in page  # the chart's free text stays out (R23)


def test_selector_query_counts_with_doses_match_their_docstrings(therapist):
    course = _dosed_course(therapist)
    course = course_selectors.course_for_client(client=course.client, course_id=course.pk)
    with time_machine.travel(MORNING + timedelta(days=15), tick=False):
        with CaptureQueriesContext(connection) as queries:
            course_detail(course=course)
        assert len(queries) == 4
        with CaptureQueriesContext(connection) as queries:
            handoff(course=course)
        assert len(queries) == 6


# --- Query counts -------------------------------------------------------------------------------


_SLOTS = itertools.count()


def _grow(course, therapist, n: int) -> None:
    """``n`` more transitions, referral steps, prescriptions, scores and dosing sessions (each
    with a dose, readings, an adverse event and an integration session; and one deferred) on
    ``course``."""
    client = course.client
    for i in range(n):
        CourseTransition.objects.create(
            course=course, from_phase="intake", to_phase="referral", reason=f"{i}", by=therapist
        )
        ReferralTransition.objects.create(
            referral=course.referral,
            from_status="sent",
            to_status="under_review",
            happened_on=course.referral.status_date,
            recorded_by=therapist,
        )
        for instrument, total, band in (("phq9", 9, "mild"), ("gad7", 4, "minimal")):
            QuestionnaireResponse.objects.create(
                client=client,
                instrument=instrument,
                answers=[0],
                total=total,
                band=band,
                item9_score=0 if instrument == "phq9" else None,
                entered_by=therapist,
            )
        _dosing_rows(course, therapist, deferred=i == 0)


def _dosing_rows(course, therapist, *, deferred: bool) -> None:
    """A past dosing session written row by row (the PostgreSQL dose gate still applies)."""
    # R6: doses of one client at least 15 days apart (the PostgreSQL dose gate refuses closer).
    start = timezone.now() - timedelta(days=2000) + timedelta(days=15 * next(_SLOTS))
    session = SessionFactory(
        client=course.client, course=course, kind="dosing", starts_at=start, status="completed"
    )
    prescription = course.client.prescriptions.get(superseded_at__isnull=True)
    chart = DosingChart.objects.create(
        session=session, prescription=prescription, created_by=therapist
    )
    thresholds = {
        "defer_systolic": 140,
        "defer_diastolic": 90,
        "hard_stop_systolic": 180,
        "hard_stop_diastolic": 100,
    }
    if deferred:
        BloodPressureReading.objects.create(
            session=session,
            moment="pre_dose",
            systolic=185,
            diastolic=95,
            taken_at=start,
            result="hard_stop",
            recorded_by=therapist,
            **thresholds,
        )
        chart.outcome, chart.deferred_at, chart.deferral_reason = "deferred", start, "bp_hard_stop"
        chart.save()
        return
    reading = BloodPressureReading.objects.create(
        session=session,
        moment="pre_dose",
        systolic=120,
        diastolic=80,
        taken_at=start,
        result="in_range",
        recorded_by=therapist,
        **thresholds,
    )
    given = start + timedelta(minutes=5)
    DoseAdministration.objects.create(
        session=session,
        prescription=prescription,
        pre_dose_reading=reading,
        given_at=given,
        dose_mg=100,
        tablets=1,
        recorded_by=therapist,
    )
    BloodPressureReading.objects.create(
        session=session,
        moment="post_dose",
        systolic=125,
        diastolic=82,
        taken_at=given + timedelta(minutes=40),
        result="in_range",
        recorded_by=therapist,
        **thresholds,
    )
    AdverseEvent.objects.create(
        session=session,
        kind="dizziness",
        severity="mild",
        noticed_at=given + timedelta(minutes=30),
        recorded_by=therapist,
    )
    Session.objects.create(
        client=course.client,
        course=course,
        therapist=session.therapist,
        kind="integration",
        starts_at=start + timedelta(days=1),
        ends_at=start + timedelta(days=1, minutes=50),
        status="completed",
        follows_dose=session,
        created_by=therapist,
    )


def _count(web, path) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert web.get(path).status_code == 200
    return len(queries)


@pytest.mark.parametrize("page", ["detail", "handoff"])
def test_query_count_does_not_grow(as_user, therapist, page):
    web = as_user(therapist)
    counts = []
    for size in (1, 15):
        record = factories.ClientFactory(primary_therapist=therapist)
        prescription = PrescriptionFactory(
            referral=ReferralFactory(client=record, status=Referral.Status.APPROVED)
        )
        course = make_course(record, Phase.PREPARATION)
        course.referral = prescription.referral
        course.save()
        _grow(course, therapist, size)
        counts.append(_count(web, url(page, course)))
    assert counts[0] == counts[1], counts
    print(page, counts)
