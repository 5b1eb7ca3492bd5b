"""The dosing chart pages (R10-R16, R20): who reaches them, crafted POSTs that the services refuse
(no row left behind), the blood-pressure boundaries through the page, the read-only end state, and
a query count that does not grow with the chart."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AccessEvent
from patients.models import Prescription, QuestionnaireResponse
from sessions.dosing import services
from sessions.models import (
    AdverseEvent,
    BloodPressureReading,
    DoseAdministration,
    DosingChart,
    PrescriberNotice,
    SessionStatus,
)
from sessions.scheduling.services import session_schedule
from tests import factories
from tests.conftest import sign_in
from tests.factories_sessions import dosing_ready_session

CLINIC = ZoneInfo(settings.TIME_ZONE)
# A Tuesday with no daylight-saving change nearby; the session starts at 10:00 clinic time.
START = datetime(2026, 4, 14, 10, 0, tzinfo=CLINIC)

POST_URLS = [
    "dosing_start",
    "dosing_prepare",
    "dosing_bp",
    "dosing_defer",
    "dosing_administer",
    "dosing_hold_end",
    "dosing_adverse",
    "dosing_return",
    "dosing_discharge",
    "dosing_notice_done",
]


def at(hh_mm: str) -> datetime:
    hour, minute = (int(part) for part in hh_mm.split(":"))
    return START.replace(hour=hour, minute=minute)


def url(session, name: str = "dosing_chart", **extra) -> str:
    kwargs = {"client_id": session.client_id, "session_id": session.pk, **extra}
    return reverse(f"patients:sessions:{name}", kwargs=kwargs)


def text(response) -> str:
    """What a person reads: tags dropped, entities decoded, whitespace collapsed."""
    plain = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(plain))


@pytest.fixture(autouse=True)
def long_idle_timeout(settings):
    # The clock jumps by up to two hours between requests here; R22's idle logoff is tested on
    # its own (tests/accounts).
    settings.IDLE_TIMEOUT_SECONDS = 6 * 60 * 60


@pytest.fixture
def clock(db):
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def session(clock, client_record):
    return dosing_ready_session(client_record, starts_at=START)


@pytest.fixture
def web(as_user, therapist):
    return as_user(therapist)


def prepared(session, by):
    """The chart started and the preparation complete (via the services)."""
    services.chart_open(session=session, by=by)
    services.chart_prepare(
        session=session,
        by=by,
        check_in="Calm, a little nervous.",
        intention="Meet the grief with kindness.",
        fasting_confirmed=True,
        chaperone_confirmed=True,
    )
    return session


def reading(web, session, systolic, diastolic, hh_mm, *, moment="pre_dose", pulse=""):
    return web.post(
        url(session, "dosing_bp"),
        {
            "moment": moment,
            "systolic": systolic,
            "diastolic": diastolic,
            "pulse": pulse,
            "taken_time": hh_mm,
        },
    )


def dose_post(web, session, hh_mm, **overrides):
    data = {
        "given_time": hh_mm,
        "dose_mg": 100,
        "tablets": 1,
        "hold_minutes": 15,
        "mismatch_reason": "",
        "setting_notes": "",
        **overrides,
    }
    return web.post(url(session, "dosing_administer"), data)


def given(web, session, therapist, clock):
    """A dose given at 10:05 after an in-range reading at 10:00."""
    prepared(session, therapist)
    clock.move_to(at("10:05"))
    assert reading(web, session, 128, 82, "10:00").status_code == 302
    assert dose_post(web, session, "10:05").status_code == 302
    return DoseAdministration.objects.get(session=session)


# --- Access -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["dosing_chart", *POST_URLS])
def test_access_matrix(client, name, session, therapist, other_therapist, admin_user):
    notice = PrescriberNotice.objects.create(session=session, reason="Inform the prescriber.")
    extra = {"notice_id": notice.pk} if name == "dosing_notice_done" else {}
    target = url(session, name, **extra)
    send = client.get if name == "dosing_chart" else client.post

    response = send(target)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    for user, allowed in (
        (other_therapist, False),
        (session.client.user, False),
        (therapist, True),
        (admin_user, True),
    ):
        client.logout()
        sign_in(client, user)
        status = send(target).status_code
        if allowed:
            assert status in (200, 302), (name, user.role, status)
        else:
            assert status == 404, (name, user.role, status)


def test_a_session_under_another_clients_url_is_404(web, session, therapist):
    other = factories.ClientFactory(primary_therapist=therapist)
    wrong = reverse(
        "patients:sessions:dosing_chart", kwargs={"client_id": other.pk, "session_id": session.pk}
    )
    assert web.get(wrong).status_code == 404
    start = reverse(
        "patients:sessions:dosing_start", kwargs={"client_id": other.pk, "session_id": session.pk}
    )
    assert web.post(start).status_code == 404
    assert not DosingChart.objects.exists()


def test_a_notice_of_another_session_is_404(web, session, therapist, clock):
    other = dosing_ready_session(starts_at=START + timedelta(hours=4))
    foreign = PrescriberNotice.objects.create(session=other, reason="Inform the prescriber.")
    prepared(session, therapist)
    response = web.post(
        url(session, "dosing_notice_done", notice_id=foreign.pk), {"note": "Phoned."}
    )
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.done_at is None


def test_only_a_dosing_session_has_a_chart(web, client_record, session):
    prep = client_record.sessions.filter(kind="preparation").first()
    assert web.get(url(prep)).status_code == 404


def test_the_page_is_audited(web, session):
    web.get(url(session))
    assert list(
        AccessEvent.objects.filter(client=session.client).values_list("page", flat=True)
    ) == ["Dosing chart"]


# --- The page through the phases ----------------------------------------------------------------


def test_before_the_start_the_page_offers_the_start_button(web, session):
    page = text(web.get(url(session)))
    assert "Start the dosing chart" in page
    assert "100 mg, 1 RDT, sublingual; dose 1 of 6" in page
    assert "Tue Apr 14, 2026, 10:00 AM–1:00 PM" in page
    # CSP: no inline script or style
    assert "<script>" not in page
    assert "style=" not in page


def test_start_refused_on_another_day_is_explained(web, session, clock):
    clock.move_to(START + timedelta(days=1))
    response = web.post(url(session, "dosing_start"))
    assert response.status_code == 200
    assert "A dosing chart is started on the day of the session." in text(response)
    assert 'role="alert"' in response.content.decode()
    assert not DosingChart.objects.exists()


def test_start_then_preparation_incomplete_is_saved_and_shown_as_a_warning(web, session):
    response = web.post(url(session, "dosing_start"))
    assert response["Location"].endswith("#preparation")
    chart = DosingChart.objects.get(session=session)
    session.client.refresh_from_db()  # the intake filled in the default chaperone
    assert chart.chaperone_name == session.client.chaperone_name != ""
    response = web.post(
        url(session, "dosing_prepare"),
        {"check_in": "Slept badly.", "intention": "", "fasting_confirmed": "on"},
    )
    page = text(response)
    assert response.status_code == 200
    assert "Saved. Before the blood-pressure check, record the client's intention" in page
    assert 'class="alert alert-warning"' in response.content.decode()
    assert "Slept badly." in page  # what was typed is on the page
    chart.refresh_from_db()
    assert (chart.check_in, chart.fasting_confirmed, chart.preparation_done_at) == (
        "Slept badly.",
        True,
        None,
    )


def test_complete_preparation_unlocks_the_blood_pressure_step(web, session):
    web.post(url(session, "dosing_start"))
    response = web.post(
        url(session, "dosing_prepare"),
        {
            "intention": "Be open.",
            "fasting_confirmed": "on",
            "chaperone_confirmed": "on",
        },
    )
    assert response["Location"].endswith("#blood-pressure")
    page = text(web.get(url(session)))
    assert "Take the pre-dose blood pressure" in page
    assert "Defer at 140/90 or above; stop at 180/100 or above." in page
    assert "Unlocks when a pre-dose blood pressure in range has been recorded." in page
    assert "Override" not in page
    assert "override" not in page


def test_safety_check_needs_its_own_acknowledgement(web, session, therapist):
    # R20: the latest PHQ-9 has item 9 at 1.
    QuestionnaireResponse.objects.create(
        client=session.client,
        instrument="phq9",
        answers=[1] * 9,
        total=14,
        band="moderate",
        item9_score=1,
        entered_by=therapist,
    )
    web.post(url(session, "dosing_start"))
    page = text(web.get(url(session)))
    assert "Safety check: thoughts of self-harm" in page
    assert "total 14 of 27" in page
    assert "“Several days”" in page
    assert "I have reviewed this with the client today" in page
    done = {"intention": "Be open.", "fasting_confirmed": "on", "chaperone_confirmed": "on"}
    response = web.post(url(session, "dosing_prepare"), done)
    assert "reviewed the self-harm answer" in text(response)
    assert DosingChart.objects.get(session=session).preparation_done_at is None
    response = web.post(url(session, "dosing_prepare"), {**done, "acknowledge_safety": "on"})
    assert response.status_code == 302
    chart = DosingChart.objects.get(session=session)
    assert chart.safety_alert_acknowledged_by == therapist
    assert chart.preparation_done_at is not None
    assert "Reviewed with the client by Sam Rivera" in text(web.get(url(session)))


# --- Crafted POSTs: refused, nothing written ----------------------------------------------------


def test_dose_without_any_reading_is_refused(web, session, therapist):
    prepared(session, therapist)
    response = dose_post(web, session, "10:00")
    assert response.status_code == 200
    assert "The dose cannot be given" in text(response)
    assert not DoseAdministration.objects.exists()


def test_dose_after_only_a_high_reading_is_refused(web, session, therapist, clock):
    prepared(session, therapist)
    reading(web, session, 150, 85, "10:00")
    clock.move_to(at("10:02"))
    response = dose_post(web, session, "10:02")
    assert "The dose cannot be given" in text(response)
    assert not DoseAdministration.objects.exists()


def test_dose_31_minutes_after_the_reading_is_refused_30_is_accepted(
    web, session, therapist, clock
):
    prepared(session, therapist)
    reading(web, session, 128, 82, "10:00")
    clock.move_to(at("10:31"))
    response = dose_post(web, session, "10:31")
    assert response.status_code == 200
    page = text(response)
    assert "in the 30 minutes before the time given" in page
    assert 'value="10:31"' in response.content.decode()  # kept as typed
    assert not DoseAdministration.objects.exists()
    assert dose_post(web, session, "10:30").status_code == 302  # R11: 30 minutes exactly
    assert DoseAdministration.objects.get(session=session).given_at == at("10:30")


def test_dose_given_in_the_future_is_refused(web, session, therapist, clock):
    prepared(session, therapist)
    reading(web, session, 128, 82, "10:00")
    clock.move_to(at("10:05"))
    response = dose_post(web, session, "10:20")
    assert "The time given (10:20 AM) is in the future." in text(response)
    assert not DoseAdministration.objects.exists()


def test_dose_differing_from_the_prescription_needs_an_explanation(web, session, therapist, clock):
    prepared(session, therapist)
    reading(web, session, 128, 82, "10:00")
    clock.move_to(at("10:05"))
    response = dose_post(web, session, "10:05", dose_mg=150)
    assert "Explain why the dose given (150 mg, 1 tablet) differs." in text(response)
    assert not DoseAdministration.objects.exists()
    response = dose_post(web, session, "10:05", dose_mg=150, mismatch_reason="Prescriber phoned.")
    assert response.status_code == 302
    assert DoseAdministration.objects.get().mismatch_reason == "Prescriber phoned."


def test_discharge_before_chaperone_and_observation_is_refused(web, session, therapist, clock):
    given(web, session, therapist, clock)
    clock.move_to(at("11:00"))
    # The chart starts with the client's default chaperone: clear it.
    web.post(
        url(session, "dosing_return"),
        {
            "return_notes": "",
            "chaperone_name": "",
            "chaperone_phone": "",
            "pickup_expected_time": "",
        },
    )
    page = text(web.get(url(session)))
    assert "Discharge from 12:05 PM at the earliest" in page or "from 12:05 PM" in page
    assert "Record the chaperone's name before discharge" in page
    raw = web.get(url(session)).content.decode()
    assert re.search(r"<button[^>]*disabled[^>]*>\s*<i[^>]*></i> Discharge the client", raw)
    response = web.post(url(session, "dosing_discharge"), {"pickup_time": "11:00"})
    page = text(response)
    assert "Not ready for discharge" in page
    assert "discharge from 12:05 PM at the earliest" in page
    assert "Record the chaperone's name before discharge" in page
    chart = DosingChart.objects.get(session=session)
    assert chart.discharged_at is None
    assert chart.outcome == "open"


def test_r15_a_page_from_before_cannot_discharge_ahead_of_the_pickup(
    web, session, therapist, clock
):
    """The issue: the return step recorded a pickup at 12:15 and the discharge went ahead at
    12:06. A chart page opened before this change posts exactly that (its return form's
    "pickup_time", its discharge button with no field): the discharge is refused, and nothing is
    recorded as the chaperone's arrival."""
    given(web, session, therapist, clock)
    web.post(
        url(session, "dosing_return"),
        {
            "return_notes": "",
            "chaperone_name": "Ravi Patel",
            "chaperone_phone": "",
            "pickup_time": "12:15",
        },
    )
    clock.move_to(at("12:06"))
    response = web.post(url(session, "dosing_discharge"))
    assert response.status_code == 200
    assert "Enter the time." in text(response)
    chart = DosingChart.objects.get(session=session)
    assert (chart.outcome, chart.discharged_at, chart.pickup_at) == ("open", None, None)


def test_r4_a_prescription_for_an_injection_is_not_charted(web, session):
    Prescription.objects.filter(client=session.client).update(route="intramuscular")
    page = text(web.get(url(session)))
    assert "The prescription's route is intramuscular (IM): the dosing chart records only" in page
    response = web.post(url(session, "dosing_start"))  # the button is there; the service refuses
    assert response.status_code == 200
    assert "The dose cannot go ahead today: The prescription's route is intramuscular" in text(
        response
    )
    assert not DosingChart.objects.exists()


def test_recheck_before_the_rest_time_is_refused(web, session, therapist, clock):
    prepared(session, therapist)
    reading(web, session, 150, 85, "10:00")
    clock.move_to(at("10:03"))
    response = reading(web, session, 130, 80, "10:03")
    assert "Let the client rest: the recheck can be taken from 10:05 AM" in text(response)
    assert BloodPressureReading.objects.count() == 1


@pytest.mark.parametrize(
    ("systolic", "diastolic", "message"),
    [
        (300, 90, "Systolic must be between 60 and 260 mmHg (you entered 300)."),
        (90, 95, "Diastolic (95) must be lower than systolic (90)."),
        (120, 20, "Diastolic must be between 30 and 160 mmHg (you entered 20)."),
    ],
)
def test_impossible_readings_are_refused_with_the_range(
    web, session, therapist, systolic, diastolic, message
):
    prepared(session, therapist)
    response = reading(web, session, systolic, diastolic, "10:00")
    page = response.content.decode()
    assert response.status_code == 200
    assert message in text(response)
    assert f'value="{systolic}"' in page
    assert f'value="{diastolic}"' in page
    assert not BloodPressureReading.objects.exists()


@pytest.mark.parametrize("typed", ["١٢٠", "１２０", "12\u0660"])
def test_a_reading_typed_in_other_digits_is_refused_not_stored_as_a_number(
    web, session, therapist, typed
):
    # int("١٢٠") is 120 in Python: the reading was stored as 120/80.
    prepared(session, therapist)
    response = reading(web, session, typed, 80, "10:00")
    assert response.status_code == 200
    assert "Type the number with the digits 0 to 9 only." in text(response)
    assert not BloodPressureReading.objects.exists()


def test_pulse_out_of_range_is_refused(web, session, therapist):
    prepared(session, therapist)
    response = reading(web, session, 120, 80, "10:00", pulse=250)
    assert "Pulse must be between 30 and 220 beats per minute (you entered 250)." in text(response)
    assert not BloodPressureReading.objects.exists()


# --- Blood-pressure boundaries (R12, R13) -------------------------------------------------------


def test_139_89_opens_the_dose(web, session, therapist):
    prepared(session, therapist)
    reading(web, session, 139, 89, "10:00")
    page = text(web.get(url(session)))
    assert "In range – the dose may be given until 10:30 AM" in page
    assert "Record the dose" in page


def test_140_90_asks_for_a_recheck(web, session, therapist):
    prepared(session, therapist)
    reading(web, session, 140, 90, "10:00")
    response = web.get(url(session))
    page = text(response)
    assert "Recheck after 5 minutes of rest" in page
    assert "Recheck from 10:05 AM" in page
    assert "2 rechecks left" in page
    assert 'data-until="2026-04-14T10:05:00-04:00"' in response.content.decode()
    assert "Record the dose" not in page


def test_180_100_defers_and_opens_a_prescriber_notice(web, session, therapist):
    prepared(session, therapist)
    reading(web, session, 180, 100, "10:00")
    chart = DosingChart.objects.get(session=session)
    assert (chart.outcome, chart.deferral_reason) == ("deferred", "bp_hard_stop")
    [notice] = PrescriberNotice.objects.filter(session=session)
    page = text(web.get(url(session)))
    assert "Dose deferred for today" in page
    assert "To do: inform the prescriber" in page
    response = web.post(url(session, "dosing_notice_done", notice_id=notice.pk), {"note": ""})
    assert "Say how the prescriber was informed." in text(response)
    response = web.post(
        url(session, "dosing_notice_done", notice_id=notice.pk), {"note": "Phoned Dr Lee."}
    )
    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.done_note == "Phoned Dr Lee."
    assert notice.done_by == therapist
    assert "Prescriber informed" in text(web.get(url(session)))


def test_three_high_readings_defer_after_two_rechecks(web, session, therapist, clock):
    prepared(session, therapist)
    reading(web, session, 150, 92, "10:00")
    clock.move_to(at("10:05"))
    reading(web, session, 146, 91, "10:05")
    assert "1 recheck left" in text(web.get(url(session)))
    clock.move_to(at("10:10"))
    reading(web, session, 144, 90, "10:10")
    chart = DosingChart.objects.get(session=session)
    assert (chart.outcome, chart.deferral_reason) == ("deferred", "bp_high")
    assert not PrescriberNotice.objects.exists()
    session.refresh_from_db()
    assert session.status == SessionStatus.COMPLETED
    page = text(web.get(url(session)))
    assert "Dose deferred for today" in page
    assert "after 2 rechecks" in page
    assert "Record the dose" not in page


def test_defer_for_another_reason(web, session, therapist):
    prepared(session, therapist)
    response = web.post(url(session, "dosing_defer"), {"note": ""})
    assert "Give the reason for deferring the dose." in text(response)
    response = web.post(url(session, "dosing_defer"), {"note": "Client feels unwell."})
    assert response["Location"].endswith("#outcome")
    page = text(web.get(url(session)))
    assert "Other reason. Client feels unwell." in page


# --- After the dose -----------------------------------------------------------------------------


def test_hold_vitals_adverse_event_chaperone_and_discharge(web, session, therapist, clock):
    given(web, session, therapist, clock)
    page = text(web.get(url(session)))
    assert "Spit out at 10:20 AM" in page
    assert "Post-dose blood pressure due at 10:45 AM" in page
    response = web.post(url(session, "dosing_hold_end"), {"spat_time": "10:20", "swallowed": "no"})
    assert response.status_code == 200  # 10:20 is in the future at 10:05
    clock.move_to(at("10:21"))
    assert (
        web.post(
            url(session, "dosing_hold_end"), {"spat_time": "10:20", "swallowed": "no"}
        ).status_code
        == 302
    )
    dose = DoseAdministration.objects.get()
    assert dose.spat_at == at("10:20")
    assert dose.swallowed is False

    clock.move_to(at("10:50"))
    response = web.get(url(session))
    assert "gate-due" in response.content.decode()  # due and not yet taken: highlighted
    reading(web, session, 132, 84, "10:46", moment="post_dose")
    response = web.post(
        url(session, "dosing_adverse"),
        {"kind": "nausea", "severity": "mild", "noticed_time": "10:40", "description": ""},
    )
    assert response["Location"].endswith("#adverse-events")
    response = web.post(
        url(session, "dosing_adverse"),
        {"kind": "other", "severity": "mild", "noticed_time": "10:41", "description": ""},
    )
    assert "Describe what happened." in text(response)
    assert AdverseEvent.objects.count() == 1

    response = web.post(
        url(session, "dosing_return"),
        {
            "return_notes": "Grounded with tea.",
            "chaperone_name": "Ravi Patel",
            "chaperone_phone": "+15555550123",
            "pickup_expected_time": "12:15",
        },
    )
    assert response.status_code == 302
    clock.move_to(at("12:06"))
    reading(web, session, 126, 80, "12:00", moment="discharge")
    # R15: the chaperone due at 12:15 is not here at 12:06: no discharge "into their care".
    response = web.post(url(session, "dosing_discharge"), {"pickup_time": "12:15"})
    assert response.status_code == 200
    assert "The time the chaperone arrived (12:15 PM) is in the future." in text(response)
    assert "Ravi Patel is expected at 12:15 PM." in text(web.get(url(session)))
    assert web.post(url(session, "dosing_discharge"), {"pickup_time": ""}).status_code == 200
    chart = DosingChart.objects.get(session=session)
    assert (chart.outcome, chart.pickup_at, chart.pickup_expected_at) == ("open", None, at("12:15"))
    # The chaperone came early, at 12:04.
    assert web.post(url(session, "dosing_discharge"), {"pickup_time": "12:04"}).status_code == 302
    chart.refresh_from_db()
    assert chart.outcome == "discharged"
    assert chart.discharged_by == therapist
    assert (chart.pickup_at, chart.discharged_at) == (at("12:04"), at("12:06"))
    response = web.get(url(session))
    page = text(response)
    assert "Discharged at 12:06 PM" in page
    assert "into the care of Ravi Patel (arrived at 12:04 PM)" in page
    assert "Expected pickup 12:15 PM" in page
    assert "Chaperone arrived 12:04 PM" in page
    assert "Nausea" in page
    assert "Grounded with tea." in page
    assert "Ravi Patel" in page
    assert "<form" not in response.content.decode().split('id="main"')[1].split("</main>")[0]


# --- Query count --------------------------------------------------------------------------------


def _fill(session, therapist, n: int) -> None:
    dose = DoseAdministration.objects.get(session=session)
    for i in range(n):
        BloodPressureReading.objects.create(
            session=session,
            moment="post_dose",
            systolic=120 + i,
            diastolic=80,
            taken_at=dose.given_at + timedelta(minutes=1 + i),
            result="in_range",
            defer_systolic=150,
            defer_diastolic=95,
            hard_stop_systolic=180,
            hard_stop_diastolic=100,
            recorded_by=therapist,
        )
        AdverseEvent.objects.create(
            session=session,
            kind="nausea",
            severity="mild",
            noticed_at=dose.given_at + timedelta(minutes=1 + i),
            recorded_by=therapist,
        )


def test_query_count_does_not_grow_with_the_chart(web, session, therapist, clock):
    given(web, session, therapist, clock)
    _fill(session, therapist, 2)
    with CaptureQueriesContext(connection) as small:
        assert web.get(url(session)).status_code == 200
    _fill(session, therapist, 8)
    with CaptureQueriesContext(connection) as large:
        assert web.get(url(session)).status_code == 200
    assert AdverseEvent.objects.count() == 10
    assert len(small.captured_queries) == len(large.captured_queries)


def test_after_the_dose_the_chart_offers_to_book_the_integration_session(
    web, session, therapist, clock
):
    """R7: an integration session 1-3 days after the dose: a link that books it for the next day,
    then the booked session once there is one."""
    given(web, session, therapist, clock)
    page = web.get(url(session)).content.decode()
    assert "None is booked yet." in page
    day_after = session.starts_at.date() + timedelta(days=1)
    assert f"?kind=integration&amp;start={day_after.isoformat()}T10:00" in page

    booked = session_schedule(
        client=session.client,
        kind="integration",
        starts_at=session.starts_at + timedelta(days=1),
        by=therapist,
    )
    assert booked.follows_dose == session
    page = text(web.get(url(session)))
    assert "None is booked yet." not in page
    assert "Booked for" in page
