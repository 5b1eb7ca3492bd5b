"""Prescribers, referrals and prescriptions for tests (R3, R4).

The factories write rows directly (fast, any state); ``approved_referral_with_prescription`` goes
through the real services so a test that needs "an approved referral with a prescription on file"
gets exactly what the pages produce."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from patients.models import Client, Prescriber, Prescription, Referral
from patients.referrals import services as referral_services
from tests.factories import ClientFactory, TherapistFactory


def _today():
    return timezone.localdate()


class PrescriberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Prescriber

    organisation = factory.Sequence(lambda n: f"Prescribing Service {n}")
    clinician_name = factory.Faker("name")
    credentials = "MD"
    email = factory.Sequence(lambda n: f"prescriber{n}@example.org")
    phone = "+1 555 0150"
    is_active = True


class ReferralFactory(factory.django.DjangoModelFactory):
    """``ReferralFactory(status="sent")`` gives a referral in that state (no transition rows: use
    the services when a test needs the history)."""

    class Meta:
        model = Referral

    client = factory.SubFactory(ClientFactory)
    prescriber = factory.SubFactory(PrescriberFactory)
    referred_by = factory.LazyAttribute(lambda o: o.client.primary_therapist)
    reason = "Treatment-resistant depression; two SSRIs tried without response."
    status = Referral.Status.DRAFT
    status_date = factory.LazyFunction(_today)


class PrescriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Prescription

    referral = factory.SubFactory(ReferralFactory, status=Referral.Status.APPROVED)
    client = factory.LazyAttribute(lambda o: o.referral.client)
    prescriber = factory.LazyAttribute(lambda o: o.referral.prescriber)
    recorded_by = factory.LazyAttribute(lambda o: o.referral.referred_by)
    dose_mg = 100
    tablets_per_dose = 1
    doses_authorised = 6
    min_days_between_doses = 14
    valid_until = factory.LazyFunction(lambda: _today() + timedelta(days=180))
    received_on = factory.LazyFunction(_today)


def approved_referral_with_prescription(
    client: Client | None = None, by=None, **prescription_fields
) -> tuple[Referral, Prescription]:
    """Draft → sent → approved with a prescription, through the services (R3). ``by`` defaults to
    the client's primary therapist."""
    if client is None:
        client = ClientFactory(primary_therapist=by or TherapistFactory())
    by = by or client.primary_therapist
    today = _today()
    referral = referral_services.referral_create(
        client=client,
        prescriber=PrescriberFactory(),
        reason="Treatment-resistant depression.",
        by=by,
    )
    referral_services.referral_transition(
        referral=referral, to_status=Referral.Status.SENT, happened_on=today, reason="", by=by
    )
    fields = {
        "dose_mg": 100,
        "tablets_per_dose": 1,
        "doses_authorised": 6,
        "min_days_between_doses": 14,
        "valid_until": today + timedelta(days=180),
        "received_on": today,
        **prescription_fields,
    }
    prescription = referral_services.referral_approve(
        referral=referral, happened_on=today, by=by, **fields
    )
    referral.refresh_from_db()
    return referral, prescription
