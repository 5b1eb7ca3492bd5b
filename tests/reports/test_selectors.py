"""The dashboard's reads: every per-course number and every clinic figure, integration compliance
at its 72-hour boundary (R7), the caseload limit of the access policy."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kap_clinic import formats
from patients.models import Alert, Phase, Referral
from reports import selectors
from reports.selectors import Filters
from tests import factories
from tests.factories_integration import IntegrationReminderFactory, dose_for, shape
from tests.factories_referrals import PrescriptionFactory, ReferralFactory
from tests.factories_sessions import SessionFactory, course_for
from tests.reports.helpers import deferred, integration_after, score, undischarged

pytestmark = pytest.mark.django_db

H72 = timedelta(hours=72)


def only_row(user, **filters):
    rows = selectors.course_rows(user, filters=Filters(**filters))
    assert len(rows) == 1
    return rows[0]


def test_row_numbers(admin_user, client_record):
    dose = dose_for(client_record, given_at=timezone.now() - timedelta(days=2))
    SessionFactory(
        client=client_record,
        kind="preparation",
        status="completed",
        starts_at=timezone.now() - timedelta(days=9),
    )
    upcoming = SessionFactory(
        client=client_record, kind="integration", starts_at=timezone.now() + timedelta(days=1)
    )
    score(client_record, "phq9", 18)
    score(client_record, "gad7", 12)
    score(client_record, "phq9", 15)
    score(client_record, "phq9", 9)

    row = only_row(admin_user)

    assert row.course == dose.session.course
    assert row.prep_done == 1  # R2
    assert (row.doses_used, row.doses_authorised) == (1, 6)  # R5
    assert row.last_dose == timezone.localdate(dose.given_at)
    assert row.next_session == upcoming.starts_at
    assert row.integration == "pending"  # under 72 h since the dose
    assert (row.phq9.latest, row.phq9.change) == (9, -9)  # R19: from the first score
    assert (row.gad7.latest, row.gad7.change) == (12, None)  # one score: no change yet
    assert row.phq9_series == [18, 15, 9]
    assert row.alerts == []
    assert row.initials == "MP"


def test_integration_yes_no_and_none(admin_user, client_record):
    course_for(client_record)
    assert only_row(admin_user).integration == ""  # no dose yet
    dose = dose_for(client_record, given_at=timezone.now() - timedelta(days=5))
    assert only_row(admin_user).integration == "no"
    integration_after(dose, after=H72)  # exactly 72 h counts
    assert only_row(admin_user).integration == "yes"


def test_integration_not_counted_when_cancelled_or_late(admin_user, client_record):
    dose = dose_for(client_record, given_at=timezone.now() - timedelta(days=6))
    integration_after(dose, after=timedelta(hours=24), status="cancelled")
    integration_after(dose, after=timedelta(hours=30), status="no_show")
    integration_after(dose, after=H72 + timedelta(minutes=1))
    assert only_row(admin_user).integration == "no"


def test_only_active_courses(admin_user, client_record):
    course = course_for(client_record)
    for phase in (Phase.ON_HOLD, Phase.DOSING, Phase.INTAKE):
        course.phase = phase
        course.phase_before_hold = Phase.PREPARATION if phase == Phase.ON_HOLD else ""
        course.save()
        assert only_row(admin_user).course.phase == phase
    for phase in (Phase.COMPLETE, Phase.DISCONTINUED):
        course.phase = phase
        course.closed_at = timezone.now()
        course.save()
        assert selectors.course_rows(admin_user, filters=Filters()) == []


def test_each_alert_and_the_alert_filter(admin_user, therapist):
    today = timezone.localdate()
    clients = {
        key: factories.ClientFactory(primary_therapist=therapist)
        for key, _ in selectors.ALERT_TYPES
    }
    quiet = factories.ClientFactory(primary_therapist=therapist)
    course_for(quiet)
    # R20: an unacknowledged item-9 alert; an acknowledged one does not count.
    course_for(clients["item9"])
    Alert.objects.create(kind=Alert.Kind.PHQ9_ITEM9, client=clients["item9"], recipient=therapist)
    Alert.objects.create(
        kind=Alert.Kind.PHQ9_ITEM9,
        client=quiet,
        recipient=therapist,
        acknowledged_at=timezone.now(),
    )
    # R10, R15: dosed on an earlier day and never discharged; today's may still be in the room.
    undischarged(clients["undischarged"], at=timezone.now() - timedelta(days=1))
    undischarged(quiet, at=formats.day_start(today))
    deferred(clients["deferred"], at=timezone.now() - timedelta(days=29))
    deferred(quiet, at=timezone.now() - timedelta(days=31))
    reminder = IntegrationReminderFactory(dose=dose_for(clients["reminder_failed"]))
    shape(reminder, "failed")
    course_for(clients["rx_expiring"])
    PrescriptionFactory(
        referral=ReferralFactory(client=clients["rx_expiring"]),
        valid_until=today + timedelta(days=30),
    )
    course_for(clients["referral_waiting"])
    ReferralFactory(
        client=clients["referral_waiting"],
        status=Referral.Status.UNDER_REVIEW,
        status_date=today - timedelta(days=15),
    )
    ReferralFactory(
        client=quiet, status=Referral.Status.SENT, status_date=today - timedelta(days=14)
    )

    rows = {
        row.course.client_id: row for row in selectors.course_rows(admin_user, filters=Filters())
    }
    for key, label in selectors.ALERT_TYPES:
        assert rows[clients[key].pk].alerts == [label], key
        filtered = selectors.course_rows(admin_user, filters=Filters(alert=key))
        assert [row.course.client_id for row in filtered] == [clients[key].pk], key
    assert rows[quiet.pk].alerts == []


def test_filters_and_sorting(admin_user, therapist, other_therapist):
    mine = factories.ClientFactory(primary_therapist=therapist, last_name="Adams")
    theirs = factories.ClientFactory(primary_therapist=other_therapist, last_name="Brown")
    course_for(mine)
    other = course_for(theirs)
    other.phase = Phase.DOSING
    other.save()

    def names(**filters):
        return [
            r.course.client.last_name
            for r in selectors.course_rows(admin_user, filters=Filters(**filters))
        ]

    assert names() == ["Adams", "Brown"]
    assert names(descending=True) == ["Brown", "Adams"]
    assert names(therapist_id=other_therapist.pk) == ["Brown"]
    assert names(phase=Phase.PREPARATION) == ["Adams"]
    today = timezone.localdate()
    assert names(opened_from=today, opened_to=today) == ["Adams", "Brown"]
    assert names(opened_from=today + timedelta(days=1)) == []
    assert names(sort="not-a-column; drop table") == ["Adams", "Brown"]


def test_therapist_sees_only_their_caseload(
    therapist, other_therapist, client_record, other_client_record
):
    course_for(client_record)
    course_for(other_client_record)
    assert [r.course.client for r in selectors.course_rows(therapist, filters=Filters())] == [
        client_record
    ]
    assert [r.course.client for r in selectors.course_rows(other_therapist, filters=Filters())] == [
        other_client_record
    ]


# --- Clinic figures -------------------------------------------------------------------------------


def figures(user, days: int = 30):
    today = timezone.localdate()
    return selectors.clinic_figures(user, start=today - timedelta(days=days), end=today)


def test_integration_compliance_boundary(admin_user):
    """R7: a completed integration session starting within 72 h after the dose; exactly 72 h
    counts, 72 h and a minute does not, nor a cancelled or missed one."""
    now = timezone.now()
    exact = dose_for(given_at=now - timedelta(days=10))
    integration_after(exact, after=H72)
    late = dose_for(given_at=now - timedelta(days=11))
    integration_after(late, after=H72 + timedelta(minutes=1))
    cancelled = dose_for(given_at=now - timedelta(days=12))
    integration_after(cancelled, after=timedelta(hours=24), status="cancelled")
    missed = dose_for(given_at=now - timedelta(days=13))
    integration_after(missed, after=timedelta(hours=24), status="no_show")
    booked = dose_for(given_at=now - timedelta(days=14))
    integration_after(booked, after=timedelta(hours=24), status="scheduled")
    soon = dose_for(given_at=now - timedelta(days=15))
    integration_after(soon, after=timedelta(hours=4))

    result = figures(admin_user)

    assert (result.integrated_doses, result.doses_given) == (2, 6)
    assert result.compliance_percent == 33


def test_figures_count_only_the_period(admin_user):
    now = timezone.now()
    dose_for(given_at=now - timedelta(days=5))
    dose_for(given_at=now - timedelta(days=40))  # before the period
    result = figures(admin_user)
    assert result.doses_given == 1
    assert result.compliance_percent == 0
    empty = selectors.clinic_figures(
        admin_user, start=timezone.localdate() - timedelta(days=3), end=timezone.localdate()
    )
    assert empty.doses_given == 0
    assert empty.compliance_percent is None


def test_deferrals_by_reason(admin_user, client_record):
    now = timezone.now()
    deferred(client_record, at=now - timedelta(days=2), reason="bp_high")
    deferred(client_record, at=now - timedelta(days=3), reason="bp_hard_stop")
    deferred(client_record, at=now - timedelta(days=4), reason="other")
    deferred(client_record, at=now - timedelta(days=60), reason="other")
    result = figures(admin_user)
    assert (result.deferred_bp, result.deferred_other, result.deferred_total) == (2, 1, 3)


def test_courses_by_phase_and_median_change(admin_user, therapist):
    def completed(phq9, gad7, closed_days_ago=1):
        client = factories.ClientFactory(primary_therapist=therapist)
        course = course_for(client)
        course.phase = Phase.COMPLETE
        course.closed_at = timezone.now() - timedelta(days=closed_days_ago)
        course.save()
        for total in phq9:
            score(client, "phq9", total)
        for total in gad7:
            score(client, "gad7", total)

    completed([20, 12, 10], [15, 8])  # -10, -7
    completed([18, 14], [10, 9])  # -4, -1
    completed([22, 6], [], closed_days_ago=1)  # -16, no GAD-7
    completed([27, 0], [21, 0], closed_days_ago=60)  # outside the period
    course_for(factories.ClientFactory(primary_therapist=therapist))

    result = figures(admin_user)

    assert result.completed_courses == 3
    assert result.phq9_median_change == -10
    assert result.gad7_median_change == -4
    phases = dict(result.by_phase)
    assert phases["Complete"] == 4
    assert phases["Preparation"] == 1
    assert phases["Dosing"] == 0


def test_reminders_sent_and_failed(admin_user):
    dose = dose_for(given_at=timezone.now() - timedelta(days=3))
    shape(IntegrationReminderFactory(dose=dose, day=1), "sent")
    shape(IntegrationReminderFactory(dose=dose, day=2), "sent")
    shape(IntegrationReminderFactory(dose=dose, day=3), "failed")
    IntegrationReminderFactory(dose=dose, kind="therapist", day=0)  # still due: neither
    result = figures(admin_user)
    assert (result.reminders_sent, result.reminders_failed) == (2, 1)


def test_figures_limited_to_the_caseload(therapist, other_therapist, client_record):
    dose_for(client_record, given_at=timezone.now() - timedelta(days=2))
    assert figures(therapist).doses_given == 1
    assert figures(other_therapist).doses_given == 0
