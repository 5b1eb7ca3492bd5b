"""Course reads: the client-record summary, the stepper, the numbers and the partial (R1, R2, R5,
R6)."""

from __future__ import annotations

from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext

from patients import course_selectors
from patients.models import Phase, Referral
from tests import factories
from tests.factories_referrals import PrescriptionFactory, ReferralFactory
from tests.patients.test_course_services import make_course


def test_summary_without_a_course(client_record):
    assert course_selectors.course_summary(client=client_record) is None
    html = render_to_string(
        "patients/_course_summary.html", {"client": client_record, "course_summary": None}
    )
    assert "No treatment course yet." in html and "Open a treatment course" in html


def test_summary_prefers_the_active_course_and_counts_queries(client_record):
    active = make_course(client_record, Phase.ON_HOLD, before=Phase.REFERRAL)
    make_course(client_record, Phase.COMPLETE)  # newer, but closed
    PrescriptionFactory(
        referral=ReferralFactory(client=client_record, status=Referral.Status.APPROVED),
        doses_authorised=4,
    )
    with CaptureQueriesContext(connection) as queries:
        summary = course_selectors.course_summary(client=client_record)
    assert len(queries) == 4
    assert summary["course"] == active
    numbers = summary["numbers"]
    assert (numbers.prep_done, numbers.prep_required) == (0, 3)
    assert (numbers.doses_used, numbers.doses_authorised, numbers.doses_left) == (0, 4, 4)
    assert numbers.next_dose is None and numbers.next_dose_note == "No dose yet"
    assert [s.state for s in summary["stepper"]] == ["done", "stopped", "todo", "todo", "todo"]
    html = render_to_string(
        "patients/_course_summary.html", {"client": client_record, "course_summary": summary}
    )
    assert "On hold" in html and "Doses: 0 of 4 used" in html


def test_stepper_states(db):
    record = factories.ClientFactory()
    complete = make_course(record, Phase.COMPLETE)
    assert {s.state for s in course_selectors.stepper(complete, stopped_at="")} == {"done"}
    stopped = make_course(record, Phase.DISCONTINUED, before=Phase.PREPARATION)
    states = [s.state for s in course_selectors.stepper(stopped, stopped_at=Phase.PREPARATION)]
    assert states == ["done", "done", "stopped", "todo", "todo"]


def test_placeholders_until_sessions_exist(client_record):
    course = make_course(client_record, Phase.PREPARATION)
    assert course_selectors.doses_used(None) == 0
    assert course_selectors.prep_sessions_completed(course) == 0
    assert course_selectors.last_dose_on(course) is None
