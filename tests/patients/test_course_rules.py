"""The course rules as pure functions, with the numbers stated outright (R2, R3, R5, R6)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from patients.courses.rules import (
    dosing_blockers,
    next_dose_date,
    prescription_blockers,
    transition_kind,
)
from patients.models import Prescription, Referral

TODAY = date(2025, 6, 15)


def prescription(**fields) -> Prescription:
    """An unsaved prescription on an approved referral: the rules never touch the database."""
    values = {
        "doses_authorised": 6,
        "min_days_between_doses": 14,
        "dose_mg": 100,
        "valid_until": TODAY + timedelta(days=90),
        "received_on": TODAY - timedelta(days=5),
        **fields,
    }
    status = values.pop("referral_status", Referral.Status.APPROVED)
    return Prescription(referral=Referral(status=status), **values)


def blockers(p=None, *, used=0, prep=3, required=3):
    return dosing_blockers(p, doses_used=used, prep_done=prep, prep_required=required, today=TODAY)


def test_all_conditions_met():
    assert blockers(prescription()) == []


def test_no_prescription():
    assert blockers(None) == [
        "There is no approved referral with a prescription on file. Record the prescriber's "
        "approval and the prescription on the client's referral first."
    ]


def test_r3_no_doses_left():
    assert blockers(prescription(), used=6) == [
        "All 6 authorised doses have been used (6 of 6). The prescriber must renew the "
        "prescription before another dose."
    ]
    assert blockers(prescription(), used=5) == []


def test_r2_preparation_sessions():
    assert blockers(prescription(), prep=0) == [
        "Dosing needs at least 3 completed preparation sessions (0 so far)."
    ]
    assert blockers(prescription(), prep=2, required=3) == [
        "Dosing needs at least 3 completed preparation sessions (2 so far)."
    ]
    assert blockers(prescription(), prep=0, required=1) == [
        "Dosing needs at least 1 completed preparation session (0 so far)."
    ]
    assert blockers(prescription(), prep=4, required=3) == []


def test_r3_expired_yesterday_but_not_today():
    assert blockers(prescription(valid_until=TODAY)) == []
    [message] = blockers(prescription(valid_until=TODAY - timedelta(days=1)))
    assert message.startswith("The prescription expired on Jun 14, 2025.")


def test_r3_superseded_and_unapproved():
    assert prescription_blockers(prescription(superseded_at=datetime(2025, 6, 1)), today=TODAY) == [
        "The prescription on file has been superseded. Use the prescription now in force."
    ]
    [message] = prescription_blockers(
        prescription(referral_status=Referral.Status.WITHDRAWN), today=TODAY
    )
    assert "Withdrawn, not approved" in message


def test_every_problem_is_listed_at_once():
    assert len(blockers(prescription(valid_until=TODAY - timedelta(days=1)), used=6, prep=0)) == 3


def test_r6_next_dose_date():
    assert next_dose_date(last_dose_on=None, min_days_between_doses=14, today=TODAY) is None
    assert next_dose_date(
        last_dose_on=TODAY - timedelta(days=3), min_days_between_doses=14, today=TODAY
    ) == TODAY + timedelta(days=11)
    # Long past: the next dose can be today, never a date in the past.
    assert (
        next_dose_date(last_dose_on=date(2025, 1, 1), min_days_between_doses=14, today=TODAY)
        == TODAY
    )


@pytest.mark.parametrize(
    ("phase", "to", "before", "kind"),
    [
        ("intake", "referral", "", "forward"),
        ("intake", "preparation", "", None),
        ("dosing", "complete", "", "forward"),
        ("referral", "intake", "", None),
        ("preparation", "on_hold", "", "hold"),
        ("on_hold", "on_hold", "preparation", None),
        ("on_hold", "preparation", "preparation", "resume"),
        ("on_hold", "dosing", "preparation", None),
        ("on_hold", "discontinued", "preparation", "discontinue"),
        ("complete", "discontinued", "", None),
        ("discontinued", "intake", "", None),
    ],
)
def test_transition_kind(phase, to, before, kind):
    assert transition_kind(phase, to, phase_before_hold=before) == kind
