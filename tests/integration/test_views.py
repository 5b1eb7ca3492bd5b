"""Staff pages of the integration reminders (R7, R8): who sees which reminders and alerts, sending a
failed reminder again (once, never a sent one), acknowledging an alert, the status filter, the
course page's card, the navbar badge, and fixed query counts."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from integration import selectors
from integration.models import IntegrationReminder, ReminderStatus
from tests import factories
from tests.conftest import sign_in
from tests.factories_integration import IntegrationReminderFactory, dose_for, planned_dose, shape
from tests.factories_sessions import course_for, dosing_ready_session
from tests.sessions.dosing_helpers import MORNING, give_dose

LIST = reverse("integration:reminder_list")


def resend_url(reminder) -> str:
    return reverse("integration:reminder_resend", kwargs={"reminder_id": reminder.pk})


def ack_url(reminder) -> str:
    return reverse("integration:alert_acknowledge", kwargs={"reminder_id": reminder.pk})


def course_url(course) -> str:
    return reverse(
        "patients:courses:detail", kwargs={"client_id": course.client_id, "course_id": course.pk}
    )


def words(response) -> str:
    """The page as a reader sees it: tags dropped, spaces collapsed."""
    text = html.unescape(response.content.decode())
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)).strip()


def flashed(response) -> list[str]:
    """The messages a POST left for the next page (read once: the next POST starts afresh)."""
    return [str(m) for m in get_messages(response.wsgi_request)]


def post(web, url: str, data: dict | None = None):
    """POST as a browser does: then the page it redirects to is shown, with its messages."""
    response = web.post(url, data or {})
    if response.status_code == 302:
        web.get(response["Location"])
    return response


@pytest.fixture
def plan(client_record):
    """Maya's dose with its plan: (dose, {"1", "2", "3", "check"})."""
    return planned_dose(client_record)


@pytest.fixture
def alert(plan):
    """The therapist's 24-hour check on Maya's dose raised its alert (R8)."""
    return shape(plan[1]["check"], ReminderStatus.SENT)


# --- Access -------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(client, alert, plan):
    failed = shape(plan[1]["1"], ReminderStatus.FAILED)
    for path, method in ((LIST, "get"), (resend_url(failed), "post"), (ack_url(alert), "post")):
        response = getattr(client, method)(path)
        assert response.status_code == 302, path
        assert "/accounts/login/" in response["Location"], path
    failed.refresh_from_db()
    alert.refresh_from_db()
    assert failed.status == ReminderStatus.FAILED
    assert alert.acknowledged_at is None


def test_list_by_role(client, therapist, other_therapist, admin_user, client_record, alert):
    for user, status, sees in (
        (therapist, 200, True),
        (admin_user, 200, True),
        (other_therapist, 200, False),
        (client_record.user, 404, False),
    ):
        client.logout()
        sign_in(client, user)
        response = client.get(LIST)
        assert response.status_code == status, user.role
        if status == 200:
            assert ("Maya Patel" in words(response)) is sees, user.role


def test_staff_who_have_not_passed_two_factor_reach_nothing(as_user, therapist, alert):
    response = as_user(therapist, verified=False).get(LIST)
    assert response.status_code == 302


@pytest.mark.parametrize("action", ["resend", "acknowledge"])
def test_buttons_by_role(client, action, therapist, other_therapist, admin_user, client_record):
    """Owner and admin may; another therapist and the client get 404 and nothing changes."""

    def target():
        _dose, rows = planned_dose(client_record)
        if action == "resend":
            return shape(rows["1"], ReminderStatus.FAILED), resend_url
        return shape(rows["check"], ReminderStatus.SENT), ack_url

    for user, code in (
        (other_therapist, 404),
        (client_record.user, 404),
        (therapist, 302),
        (admin_user, 302),
    ):
        reminder, url = target()
        client.logout()
        sign_in(client, user)
        assert client.post(url(reminder)).status_code == code, user.role
        reminder.refresh_from_db()
        changed = (
            reminder.status == ReminderStatus.SENDING
            if action == "resend"
            else reminder.acknowledged_at is not None
        )
        assert changed is (code == 302), user.role


@pytest.mark.parametrize("name", ["reminder_resend", "alert_acknowledge"])
def test_buttons_are_post_only(as_user, therapist, alert, name):
    url = reverse(f"integration:{name}", kwargs={"reminder_id": alert.pk})
    assert as_user(therapist).get(url).status_code == 405


def test_unknown_reminder_is_404(as_user, admin_user):
    web = as_user(admin_user)
    assert (
        web.post(reverse("integration:reminder_resend", kwargs={"reminder_id": 99999})).status_code
        == 404
    )


# --- Send again ---------------------------------------------------------------------------------


def test_send_again_queues_a_failed_reminder_once(as_user, therapist, plan):
    failed = shape(plan[1]["2"], ReminderStatus.FAILED, attempts=5, last_error="550 no such user")
    web = as_user(therapist)
    back = LIST + "?status=failed"
    first = post(web, resend_url(failed), {"next": back})
    assert first.status_code == 302
    assert first["Location"] == back
    assert flashed(first) == ["The reminder to Maya Patel will be sent again within a minute."]
    failed.refresh_from_db()
    message = failed.outbox_message
    assert (failed.status, failed.last_error) == ("sending", "")
    # The outbox sends it again with the same Message-ID, as a fresh start.
    assert (message.status, message.attempts, message.last_error) == ("pending", 0, "")
    assert message.message_id == failed.message_id
    queued_at = message.not_before
    # A double click: the second POST finds it queued already and is refused; queued once.
    second = post(web, resend_url(failed), {"next": back})
    assert second["Location"] == back
    assert flashed(second) == [
        "This reminder is in the outbox: only a failed reminder can be sent again."
    ]
    message.refresh_from_db()
    assert (message.status, message.not_before) == ("pending", queued_at)
    assert IntegrationReminder.objects.filter(dose=plan[0], status="pending").count() == 3


def test_a_failed_reminder_past_its_day_is_not_queued_again(as_user, therapist, plan):
    """The dispatcher would cancel it as stale (REMINDER_STALE_HOURS): the service refuses the
    resend with that reason instead of promising a send, even to a crafted POST."""
    old = shape(plan[1]["1"], ReminderStatus.FAILED, due_at=timezone.now() - timedelta(hours=13))
    response = as_user(therapist).post(resend_url(old))
    assert flashed(response) == [
        "Too late to send again: it would arrive on the wrong day. Contact the client directly "
        "instead."
    ]
    old.refresh_from_db()
    assert old.status == ReminderStatus.FAILED


def test_a_sent_reminder_is_never_sent_again(as_user, therapist, plan):
    sent = shape(plan[1]["1"], ReminderStatus.SENT)
    response = as_user(therapist).post(resend_url(sent))
    assert response["Location"] == LIST
    assert flashed(response) == ["This reminder is sent: only a failed reminder can be sent again."]
    sent.refresh_from_db()
    assert sent.status == ReminderStatus.SENT


def test_send_again_only_on_failed_rows_still_in_time(as_user, therapist, plan, settings):
    _dose, rows = plan
    now = timezone.now()
    shape(rows["1"], ReminderStatus.SENT)
    failed = shape(rows["2"], ReminderStatus.FAILED, due_at=now - timedelta(hours=1))
    shape(rows["3"], ReminderStatus.CANCELLED)
    # Failed long ago: the dispatcher would cancel it as late (R8: it would arrive on the wrong
    # day), so no button, and the row says why.
    late = shape(
        rows["check"],
        ReminderStatus.FAILED,
        variant="alert",
        due_at=now - timedelta(hours=settings.REMINDER_STALE_HOURS, minutes=1),
    )
    response = as_user(therapist).get(LIST)
    page = response.content.decode()
    assert page.count('action="/reminders/') == 2  # send again, and the alert's Acknowledge
    assert f'action="{resend_url(failed)}"' in page
    assert f'action="{resend_url(late)}"' not in page
    assert "Too late to send again: it would arrive on the wrong day." in words(response)


def test_back_to_another_site_is_refused(as_user, therapist, plan):
    failed = shape(plan[1]["1"], ReminderStatus.FAILED)
    response = as_user(therapist).post(resend_url(failed), {"next": "https://evil.example/"})
    assert response["Location"] == LIST


# --- Alerts -------------------------------------------------------------------------------------


def test_acknowledge_records_who_and_when(as_user, therapist, alert):
    web = as_user(therapist)
    page = words(web.get(LIST))
    assert "Doses without an integration session booked" in page
    assert "Book the integration session" in page
    at = timezone.now().replace(microsecond=0) + timedelta(minutes=2)
    with time_machine.travel(at, tick=False):
        response = post(web, ack_url(alert), {"next": LIST + "?status=sent"})
    assert response["Location"] == LIST + "?status=sent"
    assert flashed(response) == ["Alert acknowledged. Your name and the time are recorded."]
    alert.refresh_from_db()
    assert alert.acknowledged_by == therapist
    assert alert.acknowledged_at == at
    page = words(web.get(LIST))
    assert "Every recent dose has an integration session booked" in page
    assert "Alert closed" in page
    assert "by Sam Rivera" in page
    # Twice: refused with the service's words.
    again = post(web, ack_url(alert))
    assert flashed(again) == ["This alert was already acknowledged."]


def test_a_client_reminder_is_not_an_alert(as_user, therapist, plan):
    reminder = shape(plan[1]["1"], ReminderStatus.SENT)
    response = as_user(therapist).post(ack_url(reminder))
    assert flashed(response) == ["This is not an alert."]


def test_the_booking_link_opens_the_integration_form(as_user, therapist, client_record, alert):
    page = as_user(therapist).get(LIST).content.decode()
    base = reverse("patients:sessions:create", kwargs={"client_id": client_record.pk})
    found = re.search(rf'href="{re.escape(base)}\?kind=integration&amp;start=([0-9T:-]+)"', page)
    assert found, "booking link"
    form = as_user(therapist).get(f"{base}?kind=integration&start={found.group(1)}")
    assert form.status_code == 200


def test_booking_start_is_the_next_morning_of_the_window():
    given = timezone.make_aware(timezone.datetime(2025, 3, 12, 9, 20))
    at = timezone.make_aware
    # 24 h after a 9:20 dose, the next morning's 10:00 slot is still ahead ...
    assert selectors.booking_start(given, now=given + timedelta(hours=24)) == "2025-03-13T10:00"
    # ... at 11:00 it has passed: the day after.
    now = at(timezone.datetime(2025, 3, 13, 11, 0))
    assert selectors.booking_start(given, now=now) == "2025-03-14T10:00"
    # Past the three days: tomorrow morning.
    now = at(timezone.datetime(2025, 3, 20, 15, 0))
    assert selectors.booking_start(given, now=now) == "2025-03-21T10:00"


def test_a_therapist_sees_only_their_own_courses_alerts(
    as_user, therapist, other_therapist, admin_user, client_record, alert
):
    # Maya is shared with the other therapist: they see her reminders, not her therapist's alert.
    factories.ClientShareFactory(client=client_record, therapist=other_therapist)
    assert selectors.open_alerts_for(therapist).rows == [alert]
    assert selectors.open_alerts_for(other_therapist).rows == []
    assert selectors.open_alerts_for(admin_user).rows == [alert]
    assert list(selectors.reminders_for(other_therapist)) != []
    assert selectors.open_alert_count(client_record.user) == 0


def test_an_alert_whose_email_failed_is_still_open(therapist, plan):
    # R8: the in-app alert exists once raised, whatever happened to its e-mail.
    failed = shape(plan[1]["check"], ReminderStatus.FAILED, variant="alert")
    assert selectors.open_alerts_for(therapist).rows == [failed]


# --- What the list shows ------------------------------------------------------------------------


def test_a_therapist_never_sees_another_caseload(
    as_user, therapist, other_therapist, client_record, other_client_record
):
    planned_dose(client_record)
    _dose, theirs = planned_dose(other_client_record)
    shape(theirs["1"], ReminderStatus.FAILED)
    shape(theirs["check"], ReminderStatus.SENT)
    page = words(as_user(therapist).get(LIST))
    assert other_client_record.full_name not in page
    assert "Maya Patel" in page
    assert "Failed 0" in page
    assert all(r.client_id == client_record.pk for r in selectors.reminders_for(therapist))
    assert selectors.open_alert_count(therapist) == 0
    assert as_user(therapist).post(resend_url(theirs["1"])).status_code == 404


def test_filter_by_status(as_user, therapist, plan):
    _dose, rows = plan
    shape(rows["1"], ReminderStatus.SENT)
    shape(rows["2"], ReminderStatus.FAILED, last_error="The address was refused: 550")
    shape(rows["3"], ReminderStatus.CANCELLED, cancelled_reason="The course was discontinued.")
    web = as_user(therapist)
    everything = words(web.get(LIST))
    assert "Asked to book a session" in everything
    assert "The course was discontinued." in everything
    assert "All 4 Due 1 In the outbox 0 Sent 1 Failed 1 Cancelled 1" in everything
    failed = words(web.get(LIST, {"status": "failed"}))
    assert "Reminders: failed" in failed
    assert "The address was refused: 550" in failed
    assert "Asked to book a session" not in failed
    assert "The course was discontinued." not in failed
    assert "No reminder is “In the outbox” now." in words(web.get(LIST, {"status": "sending"}))
    # Nonsense is ignored: everything.
    assert "Asked to book a session" in words(web.get(LIST, {"status": "nonsense"}))


def test_rows_show_what_happened_never_the_email(as_user, therapist, plan):
    _dose, rows = plan
    shape(rows["1"], ReminderStatus.SENT, variant="not_booked", sent_to="maya@example.org")
    shape(rows["2"], ReminderStatus.SENT, variant="booked", sent_to="maya@example.org")
    shape(rows["check"], ReminderStatus.SENT)
    response = as_user(therapist).get(LIST)
    page = words(response)
    assert "Day 1 to the client" in page
    assert "24-hour check for the therapist" in page
    assert "Asked to book a session" in page
    assert "Session reminder" in page
    assert "No session booked: therapist alerted" in page
    # R25: staff see what kind of message went out, never its text.
    assert "please book your next session" not in page
    assert "something needs your attention" not in page


def test_newest_doses_first_and_paginated(as_user, therapist, client_record):
    old = dose_for(client_record, given_at=timezone.now() - timedelta(days=60))
    new = dose_for(client_record, given_at=timezone.now() - timedelta(days=2))
    for day in (1, 2, 3):
        IntegrationReminderFactory(dose=old, day=day)
    new_row = IntegrationReminderFactory(dose=new, day=1)
    rows = list(selectors.reminders_for(therapist))
    assert rows[0] == new_row
    assert [r.day for r in rows[1:]] == [1, 2, 3]
    for n in range(30):
        IntegrationReminderFactory(dose=dose_for(client_record), day=1 + n % 3)
    web = as_user(therapist)
    first = web.get(LIST, {"status": "pending"})
    page = first.context["page"]
    assert len(page.rows) == 25
    assert page.newer is None
    assert page.older
    assert f"?status=pending&amp;after={page.older}" in first.content.decode()
    assert "Earlier doses" in words(first)
    # The next page follows on where the first ended, keeps the filter, and leads back.
    second = web.get(LIST, {"status": "pending", "after": page.older})
    rest = second.context["page"]
    assert len(rest.rows) == 34 - 25
    assert rest.older is None
    assert rest.newer
    assert {r.pk for r in page.rows}.isdisjoint(r.pk for r in rest.rows)
    assert all(r.status == ReminderStatus.PENDING for r in rest.rows)
    back = web.get(LIST, {"status": "pending", "before": rest.newer})
    assert [r.pk for r in back.context["page"].rows] == [r.pk for r in page.rows]
    # A cursor edited by hand starts the list again instead of failing.
    assert web.get(LIST, {"after": "not-a-cursor%%"}).context["page"].newer is None


def test_empty_list_explains_when_reminders_appear(as_user, therapist):
    page = words(as_user(therapist).get(LIST))
    assert "No reminders yet." in page
    assert "They are planned when a dose is recorded" in page


# --- Course page --------------------------------------------------------------------------------


def test_course_page_card_from_a_real_dose(as_user, therapist, client_record):
    """A dose charted with the real services plans the reminders (dose_recorded); the course page
    lists them, that course's only."""
    with time_machine.travel(MORNING, tick=False):
        session = dosing_ready_session(client_record, starts_at=MORNING)
        give_dose(session, at=MORNING + timedelta(minutes=20))
    planned_dose(factories.ClientFactory(primary_therapist=therapist, first_name="Other"))
    with time_machine.travel(MORNING + timedelta(days=1), tick=False):
        response = as_user(therapist).get(course_url(session.course))
    page = words(response)
    assert "Integration reminders" in page
    assert len(response.context["course_reminders"]) == 4
    assert "Mar 12, 2025 Day 1 to the client Due Mar 13, 10:00 AM" in page
    assert "Mar 12, 2025 24-hour check for the therapist Due Mar 13, 9:20 AM" in page


def test_course_page_without_doses_has_no_card_before_dosing(as_user, therapist, client_record):
    course = course_for(client_record)
    assert "Integration reminders" not in words(as_user(therapist).get(course_url(course)))


# --- Navbar -------------------------------------------------------------------------------------


def test_navbar_badge_counts_open_alerts_with_one_query(as_user, therapist, alert):
    web = as_user(therapist)
    with CaptureQueriesContext(connection) as queries:
        response = web.get(reverse("accounts:account"))
    assert response.context["reminder_alert_count"] == 1
    assert "Reminders 1 open alert" in words(response)
    ours = [q["sql"] for q in queries if "integration_integrationreminder" in q["sql"]]
    assert len(ours) == 1
    assert "COUNT(" in ours[0].upper()


def test_navbar_badge_is_nothing_for_clients_and_unverified_staff(
    client, therapist, client_record, alert
):
    sign_in(client, client_record.user)
    assert "reminder_alert_count" not in client.get(reverse("portal:home")).context
    client.logout()
    sign_in(client, therapist, verified=False)
    response = client.get(reverse("accounts:two_factor_setup"))
    assert "reminder_alert_count" not in response.context


# --- Query counts -------------------------------------------------------------------------------


def _grow(therapist, n: int) -> list:
    """``n`` clients of ``therapist``, each with a dose, its plan in every status and an open
    alert."""
    courses = []
    for _ in range(n):
        dose, rows = planned_dose(therapist=therapist)
        shape(rows["1"], ReminderStatus.SENT)
        shape(rows["2"], ReminderStatus.FAILED)
        shape(rows["3"], ReminderStatus.CANCELLED)
        shape(rows["check"], ReminderStatus.SENT)
        courses.append(dose.session.course)
    return courses


def _count(web, path) -> int:
    web.get(path)  # the session's first request writes it; the counts compare steady requests
    with CaptureQueriesContext(connection) as queries:
        assert web.get(path).status_code == 200
    return len(queries)


@pytest.mark.parametrize("user", ["therapist", "admin_user"])
def test_list_query_count_does_not_grow(as_user, therapist, request, user):
    web = as_user(request.getfixturevalue(user))
    counts = []
    for size in (1, 9):
        _grow(therapist, size)
        counts.append(_count(web, LIST))
    assert counts[0] == counts[1], counts


def test_course_page_query_count_does_not_grow(as_user, therapist):
    web = as_user(therapist)
    counts = []
    for size in (1, 10):
        course = _grow(therapist, 1)[0]
        for _ in range(size - 1):
            dose = dose_for(course.client)
            for day in (1, 2, 3):
                shape(IntegrationReminderFactory(dose=dose, day=day), ReminderStatus.SENT)
        assert course.integration_reminders.count() == 4 + 3 * (size - 1)
        counts.append(_count(web, course_url(course)))
    assert counts[0] == counts[1], counts
