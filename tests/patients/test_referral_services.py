"""The referral state machine and the prescription on file (R3, R4, R6, R24), at service level."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import product

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.utils import timezone

from patients.models import Prescription, Referral, ReferralTransition
from patients.referrals import services as svc
from tests import factories
from tests.factories_referrals import (
    PrescriberFactory,
    PrescriptionFactory,
    ReferralFactory,
    approved_referral_with_prescription,
)

S = Referral.Status
ALLOWED = {
    (S.DRAFT, S.SENT),
    (S.DRAFT, S.WITHDRAWN),
    (S.SENT, S.UNDER_REVIEW),
    (S.SENT, S.APPROVED),
    (S.SENT, S.DECLINED),
    (S.SENT, S.WITHDRAWN),
    (S.UNDER_REVIEW, S.APPROVED),
    (S.UNDER_REVIEW, S.DECLINED),
    (S.UNDER_REVIEW, S.WITHDRAWN),
}
ALL_PAIRS = list(product(S.values, S.values))


def today():
    return timezone.localdate()


def rx_fields(**overrides):
    return {
        "dose_mg": 100,
        "tablets_per_dose": 1,
        "doses_authorised": 6,
        "min_days_between_doses": 14,
        "valid_until": today() + timedelta(days=180),
        "received_on": today(),
        **overrides,
    }


def move(referral, to_status, by, **kwargs):
    kwargs.setdefault("happened_on", today())
    kwargs.setdefault("reason", "Client asked to pause")
    if to_status == S.APPROVED:
        kwargs.pop("reason")
        return svc.referral_approve(referral=referral, by=by, **kwargs, **rx_fields())
    return svc.referral_transition(referral=referral, to_status=to_status, by=by, **kwargs)


def test_the_service_table_is_exactly_the_allowed_set():
    table = {(src, dst) for src, dsts in svc.ALLOWED_TRANSITIONS.items() for dst in dsts}
    assert table == ALLOWED


@pytest.mark.django_db
@pytest.mark.parametrize(("from_status", "to_status"), ALL_PAIRS)
def test_every_transition_pair(from_status, to_status, client_record, therapist):
    """R3: only the allowed steps happen; everything else is refused and writes nothing."""
    referral = ReferralFactory(client=client_record, status=from_status)
    before = ReferralTransition.objects.count()
    if (from_status, to_status) in ALLOWED:
        move(referral, to_status, therapist)
        referral.refresh_from_db()
        assert referral.status == to_status
        assert referral.status_date == today()
        step = referral.transitions.get()
        assert (step.from_status, step.to_status, step.recorded_by) == (
            from_status,
            to_status,
            therapist,
        )
        assert Prescription.objects.filter(referral=referral).exists() == (to_status == S.APPROVED)
    else:
        with pytest.raises(svc.ReferralError):
            move(referral, to_status, therapist)
        referral.refresh_from_db()
        assert referral.status == from_status
        assert ReferralTransition.objects.count() == before
        assert not Prescription.objects.exists()


@pytest.mark.django_db
def test_forbidden_message_is_clear(client_record, therapist):
    referral = ReferralFactory(client=client_record, status=S.DECLINED)
    with pytest.raises(svc.ReferralError) as error:
        move(referral, S.APPROVED, therapist)
    assert str(error.value) == (
        "A declined referral cannot be approved. Start a new referral instead."
    )


@pytest.mark.django_db
def test_approval_cannot_skip_the_prescription(client_record, therapist):
    referral = ReferralFactory(client=client_record, status=S.SENT)
    with pytest.raises(svc.ReferralError, match="together with the prescription"):
        svc.referral_transition(
            referral=referral, to_status=S.APPROVED, happened_on=today(), by=therapist
        )


@pytest.mark.django_db
@pytest.mark.parametrize("to_status", [S.DECLINED, S.WITHDRAWN])
def test_decline_and_withdraw_need_a_reason(to_status, client_record, therapist):
    referral = ReferralFactory(client=client_record, status=S.SENT)
    with pytest.raises(svc.ReferralError, match="reason"):
        move(referral, to_status, therapist, reason="   ")
    move(referral, to_status, therapist, reason="Uncontrolled hypertension")
    referral.refresh_from_db()
    assert referral.status_reason == "Uncontrolled hypertension"


@pytest.mark.django_db
def test_dates_not_in_the_future_nor_before_the_previous_step(client_record, therapist):
    with time_machine.travel(timezone.now() - timedelta(days=10)):
        referral = svc.referral_create(
            client=client_record, prescriber=PrescriberFactory(), reason="TRD", by=therapist
        )
    with pytest.raises(svc.ReferralError, match="future"):
        move(referral, S.SENT, therapist, happened_on=today() + timedelta(days=1))
    move(referral, S.SENT, therapist, happened_on=today() - timedelta(days=5))
    with pytest.raises(svc.ReferralError, match="before the previous step"):
        move(referral, S.UNDER_REVIEW, therapist, happened_on=today() - timedelta(days=6))
    move(referral, S.UNDER_REVIEW, therapist, happened_on=today() - timedelta(days=5))
    assert list(referral.transitions.values_list("to_status", flat=True)) == [
        S.SENT,
        S.UNDER_REVIEW,
    ]


@pytest.mark.django_db
def test_no_step_dated_before_the_referral_was_made(client_record, therapist):
    referral = svc.referral_create(
        client=client_record, prescriber=PrescriberFactory(), reason="TRD", by=therapist
    )
    made_on = timezone.localdate(referral.created_at)
    with pytest.raises(svc.ReferralError, match="before the referral was recorded"):
        move(referral, S.SENT, therapist, happened_on=date(1999, 1, 1))
    with pytest.raises(svc.ReferralError, match="before the referral was recorded"):
        move(referral, S.SENT, therapist, happened_on=made_on - timedelta(days=1))
    move(referral, S.SENT, therapist, happened_on=made_on)
    assert referral.transitions.get().happened_on == made_on


@pytest.mark.django_db
def test_one_open_referral_per_client(client_record, therapist):
    prescriber = PrescriberFactory()
    first = svc.referral_create(
        client=client_record, prescriber=prescriber, reason="TRD", by=therapist
    )
    with pytest.raises(svc.ReferralError, match="already has a referral in progress"):
        svc.referral_create(client=client_record, prescriber=prescriber, reason="x", by=therapist)
    move(first, S.WITHDRAWN, therapist, reason="Wrong prescriber")
    again = svc.referral_create(
        client=client_record, prescriber=prescriber, reason="TRD", by=therapist
    )
    assert again.status == S.DRAFT


@pytest.mark.django_db
def test_inactive_prescriber_and_empty_reason_refused(client_record, therapist):
    with pytest.raises(svc.ReferralError, match="inactive"):
        svc.referral_create(
            client=client_record,
            prescriber=PrescriberFactory(is_active=False),
            reason="TRD",
            by=therapist,
        )
    with pytest.raises(svc.ReferralError, match="reason"):
        svc.referral_create(
            client=client_record, prescriber=PrescriberFactory(), reason=" ", by=therapist
        )


@pytest.mark.django_db
def test_only_staff_who_can_change_the_client(client_record, other_therapist, admin_user):
    prescriber = PrescriberFactory()
    for outsider in (other_therapist, client_record.user):
        with pytest.raises(svc.ReferralError, match="cannot change"):
            svc.referral_create(
                client=client_record, prescriber=prescriber, reason="TRD", by=outsider
            )
    referral = svc.referral_create(
        client=client_record, prescriber=prescriber, reason="TRD", by=admin_user
    )
    with pytest.raises(svc.ReferralError, match="cannot change"):
        move(referral, S.SENT, other_therapist)
    referral, prescription = approved_referral_with_prescription(
        factories.ClientFactory(), admin_user
    )
    with pytest.raises(svc.ReferralError, match="cannot change"):
        svc.prescription_supersede(
            prescription=prescription, by=other_therapist, kind="change", dose_mg=150
        )


@pytest.mark.django_db
def test_approval_creates_the_prescription(client_record, therapist):
    referral, prescription = approved_referral_with_prescription(client_record, therapist)
    assert referral.status == S.APPROVED
    assert prescription.referral == referral
    assert prescription.prescriber == referral.prescriber
    assert prescription.medication == "Ketamine"
    assert prescription.form == Prescription.Form.RDT
    assert prescription.route == Prescription.Route.SUBLINGUAL
    assert (prescription.dose_mg, prescription.doses_authorised) == (100, 6)
    assert prescription.min_days_between_doses == 14
    assert prescription.recorded_by == therapist


@pytest.mark.django_db
@pytest.mark.parametrize(
    "route", ["sublingual", "buccal", "oral", "intramuscular", "intravenous", "intranasal"]
)
def test_r4_each_route_is_recorded_as_itself(client_record, therapist, route):
    """R4: sublingual, buccal and oral (swallowed) are separate routes; IM, IV and intranasal
    exist (a prescriber may use them) and are recorded too, though the dosing chart refuses
    them (sessions.dosing)."""
    referral = ReferralFactory(client=client_record, status=S.SENT)
    prescription = svc.referral_approve(
        referral=referral, happened_on=today(), by=therapist, route=route, **rx_fields()
    )
    prescription.refresh_from_db()
    assert prescription.route == route
    assert prescription.charted_in_office is (route in ("sublingual", "buccal", "oral"))


@pytest.mark.django_db
@pytest.mark.parametrize("route", ["oral_buccal", "Oral (buccal)", "IM"])
def test_r4_an_unknown_route_is_refused_by_the_service_and_the_database(
    client_record, therapist, route
):
    referral = ReferralFactory(client=client_record, status=S.SENT)
    with pytest.raises(svc.ReferralError, match="Choose the route from the list"):
        svc.referral_approve(
            referral=referral, happened_on=today(), by=therapist, route=route, **rx_fields()
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        PrescriptionFactory(referral__client=client_record, route=route)


@pytest.mark.django_db
@pytest.mark.parametrize("dose", [10, 24, 401, 800])
def test_out_of_range_dose_needs_confirmation(dose, client_record, therapist):
    """R4: warn outside 25–400 mg; the prescriber decides, so confirming is enough."""
    referral = ReferralFactory(client=client_record, status=S.SENT)
    with pytest.raises(svc.ReferralError, match="outside the usual 25–400 mg"):
        svc.referral_approve(
            referral=referral, happened_on=today(), by=therapist, **rx_fields(dose_mg=dose)
        )
    referral.refresh_from_db()
    assert referral.status == S.SENT
    prescription = svc.referral_approve(
        referral=referral,
        happened_on=today(),
        by=therapist,
        dose_confirmed=True,
        **rx_fields(dose_mg=dose),
    )
    assert prescription.dose_mg == dose


@pytest.mark.django_db
@pytest.mark.parametrize("dose", [25, 400])
def test_dose_at_the_range_edges_needs_no_confirmation(dose, client_record, therapist):
    referral = ReferralFactory(client=client_record, status=S.SENT)
    prescription = svc.referral_approve(
        referral=referral, happened_on=today(), by=therapist, **rx_fields(dose_mg=dose)
    )
    assert prescription.dose_mg == dose


@pytest.mark.django_db
@pytest.mark.parametrize(("interval", "ok"), [(2, False), (3, True), (28, True), (29, False)])
def test_interval_between_3_and_28_days(interval, ok, client_record, therapist):
    referral = ReferralFactory(client=client_record, status=S.SENT)
    kwargs = {"referral": referral, "happened_on": today(), "by": therapist}
    if ok:
        svc.referral_approve(**kwargs, **rx_fields(min_days_between_doses=interval))
    else:
        with pytest.raises(svc.ReferralError, match="between 3 and 28 days"):
            svc.referral_approve(**kwargs, **rx_fields(min_days_between_doses=interval))


@pytest.mark.django_db
@pytest.mark.parametrize("interval", [2, 29])
def test_interval_database_constraint(interval, client_record):
    """R6: even a write that skips the service cannot store an interval outside 3–28 days."""
    with pytest.raises(IntegrityError), transaction.atomic():
        PrescriptionFactory(referral__client=client_record, min_days_between_doses=interval)


@pytest.mark.django_db
def test_valid_until_before_received_refused(client_record, therapist):
    referral = ReferralFactory(client=client_record, status=S.SENT)
    with pytest.raises(svc.ReferralError, match="Valid until"):
        svc.referral_approve(
            referral=referral,
            happened_on=today(),
            by=therapist,
            **rx_fields(valid_until=today() - timedelta(days=1)),
        )


@pytest.mark.django_db
def test_supersede_keeps_the_old_prescription(client_record, therapist):
    """R4/R24: a renewal is a new row; the old one is kept, marked superseded, never edited."""
    _, old = approved_referral_with_prescription(client_record, therapist)
    new = svc.prescription_supersede(
        prescription=old,
        by=therapist,
        kind="renewal",
        doses_authorised=4,
        valid_until=today() + timedelta(90),
    )
    old.refresh_from_db()
    assert old.superseded_at is not None
    assert (old.doses_authorised, old.dose_mg) == (6, 100)
    assert new.supersedes == old
    assert new.superseded_at is None
    assert (new.doses_authorised, new.dose_mg, new.referral_id) == (4, 100, old.referral_id)
    assert Prescription.objects.filter(client=client_record, superseded_at__isnull=True).get() == (
        new
    )
    with pytest.raises(svc.ReferralError, match="already been replaced"):
        svc.prescription_supersede(prescription=old, by=therapist, kind="change", dose_mg=150)


@pytest.mark.django_db
def test_supersede_checks_the_dose_too(client_record, therapist):
    _, old = approved_referral_with_prescription(client_record, therapist)
    with pytest.raises(svc.ReferralError, match="outside the usual"):
        svc.prescription_supersede(prescription=old, by=therapist, kind="change", dose_mg=500)
    new = svc.prescription_supersede(
        prescription=old, by=therapist, kind="change", dose_mg=500, dose_confirmed=True
    )
    assert new.dose_mg == 500


@pytest.mark.django_db
def test_one_current_prescription_per_client_in_the_database(client_record):
    PrescriptionFactory(referral__client=client_record)
    with pytest.raises(IntegrityError), transaction.atomic():
        PrescriptionFactory(referral__client=client_record)


@pytest.mark.django_db
def test_a_second_approved_referral_supersedes_the_previous_prescription(client_record, therapist):
    _, first = approved_referral_with_prescription(client_record, therapist)
    _, second = approved_referral_with_prescription(client_record, therapist, dose_mg=150)
    first.refresh_from_db()
    assert first.superseded_at is not None
    assert second.supersedes == first
