"""The dashboard's alert for a dose given and never discharged (R10, R15): a dosing chart with its
dose recorded and no discharge, from a session on an earlier day in the clinic's time, is an open
alert on the course's row, linking the client and the session's chart; today's is not (the client
may still be in the room). The page's query count stays fixed."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from reports import selectors
from reports.selectors import Filters
from sessions.models import DosingChart
from tests import factories
from tests.factories_sessions import dosing_ready_session
from tests.reports.helpers import undischarged
from tests.sessions.dosing_helpers import CLINIC_TZ, MORNING, give_dose

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("reports:dashboard")
LABEL = "Dose given, discharge not recorded"


def words(response) -> str:
    inline = re.sub(r"</?(?:strong|a|span|i|time|em)\b[^>]*>", "", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", inline)))


def dosed(client, start: datetime):
    """A dosing session at ``start`` with its dose 20 minutes later, through the real services,
    and no discharge recorded."""
    with time_machine.travel(start, tick=False):
        session = dosing_ready_session(client, starts_at=start)
    given = start + timedelta(minutes=20)
    with time_machine.travel(given, tick=False):
        give_dose(session, at=given)
    return session


def chart_url(session) -> str:
    return reverse(
        "patients:sessions:dosing_chart",
        kwargs={"client_id": session.client_id, "session_id": session.pk},
    )


def row_alerts(user, moment: datetime):
    with time_machine.travel(moment, tick=False):
        (row,) = selectors.course_rows(user, filters=Filters())
    return row.alert_items


def labels(user, moment: datetime) -> list[str]:
    with time_machine.travel(moment, tick=False):
        (row,) = selectors.course_rows(user, filters=Filters())
    return row.alerts


def test_a_dose_never_discharged_is_an_alert_the_next_day(
    as_user, therapist, client_record, admin_user
):
    session = dosed(client_record, MORNING)
    next_morning = MORNING + timedelta(days=1)
    assert labels(admin_user, next_morning) == [LABEL]
    (alert,) = row_alerts(admin_user, next_morning)
    assert (alert.key, alert.label) == ("undischarged", LABEL)
    assert alert.url == chart_url(session)
    assert alert.detail == "dosing session of Mar 12, 2025"
    with time_machine.travel(next_morning, tick=False):
        page = as_user(therapist).get(DASHBOARD)
        body = page.content.decode()
        assert f'href="{chart_url(session)}"' in body
        assert f"{LABEL}: dosing session of Mar 12, 2025" in words(page)
        assert "Open alerts" in words(page)
        course_url = reverse(
            "patients:courses:detail",
            kwargs={"client_id": client_record.pk, "course_id": session.course_id},
        )
        assert f'href="{course_url}"' in body  # the client, on the same row
        filtered = as_user(therapist).get(DASHBOARD, {"alert": "undischarged"})
        assert [row.course.pk for row in filtered.context["rows"]] == [session.course_id]


def test_not_on_the_day_itself(admin_user, client_record):
    dosed(client_record, MORNING)
    assert labels(admin_user, MORNING.replace(hour=23, minute=59)) == []


def test_the_day_is_the_clinics(admin_user, client_record):
    """An evening session, 20:00 in New York, is already the next day in UTC: at 23:30 the
    clinic's day has not ended, so no alert; half an hour after midnight, the alert."""
    evening = datetime(2025, 3, 12, 20, 0, tzinfo=CLINIC_TZ)
    dosed(client_record, evening)
    assert labels(admin_user, evening.replace(hour=23, minute=30)) == []
    after_midnight = datetime(2025, 3, 13, 0, 30, tzinfo=CLINIC_TZ)
    assert labels(admin_user, after_midnight) == [LABEL]


def test_discharged_deferred_or_not_dosed_are_no_such_alert(admin_user, therapist):
    yesterday = timezone.now() - timedelta(days=1)
    discharged = factories.ClientFactory(primary_therapist=therapist)
    chart = undischarged(discharged, at=yesterday)
    DosingChart.objects.filter(pk=chart.pk).update(
        outcome=DosingChart.Outcome.DISCHARGED,
        chaperone_name="Ravi Patel",
        pickup_at=yesterday + timedelta(hours=2),
        discharged_at=yesterday + timedelta(hours=3),
    )
    not_dosed = factories.ClientFactory(primary_therapist=therapist)
    # Four hours on: one therapist is never in two sessions (PostgreSQL's exclusion constraint).
    open_chart = undischarged(not_dosed, at=yesterday + timedelta(hours=4))
    open_chart.session.dose.delete()
    rows = selectors.course_rows(admin_user, filters=Filters())
    assert len(rows) == 2
    assert all(LABEL not in row.alerts for row in rows)


def test_the_csv_lists_it(as_user, admin_user, client_record):
    undischarged(client_record, at=timezone.now() - timedelta(days=2))
    body = b"".join(as_user(admin_user).get(reverse("reports:export")).streaming_content).decode()
    assert LABEL in body


def _dashboard_queries(web) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert web.get(DASHBOARD).status_code == 200
    return len(queries)


def test_the_query_count_stays_fixed_with_undischarged_doses(as_user, admin_user, therapist):
    added = iter(range(100))

    def add(n: int) -> None:
        for _ in range(n):
            client = factories.ClientFactory(primary_therapist=therapist)
            # Each at its own hour: one therapist is never in two sessions at once.
            at = timezone.now() - timedelta(days=3, hours=4 * next(added))
            undischarged(client, at=at)

    web = as_user(admin_user)
    add(2)
    web.get(DASHBOARD)
    small = _dashboard_queries(web)
    add(10)
    assert _dashboard_queries(web) == small
    assert words(web.get(DASHBOARD)).count(f"{LABEL}: dosing session of") == 12
