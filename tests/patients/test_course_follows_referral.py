"""R1: the treatment course opens with the referral and moves with what happened to it: sent →
referral; approved with a prescription → preparation; each move recorded with the referral's step
as its reason. It used to stay "No treatment course yet" after an approval, then open at intake
and need two clicks to reach preparation."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from patients.courses.services import course_advance
from patients.models import CourseTransition, Phase, Referral, TreatmentCourse
from patients.referrals import services as referral_services
from tests.conftest import sign_in
from tests.factories_intake import submitted_intake
from tests.factories_referrals import PrescriberFactory, approved_referral_with_prescription

pytestmark = pytest.mark.django_db


def course_of(client) -> TreatmentCourse:
    return TreatmentCourse.objects.get(client=client)


def steps(course) -> list[tuple[str, str, str]]:
    return list(
        CourseTransition.objects.filter(course=course)
        .order_by("id")
        .values_list("from_phase", "to_phase", "reason")
    )


def test_the_course_opens_with_the_referral_and_follows_it_to_preparation(
    client, client_record, therapist
):
    submitted_intake(client_record)
    prescriber = PrescriberFactory(clinician_name="Dana Osei", credentials="MD", organisation="")
    referral = referral_services.referral_create(
        client=client_record, prescriber=prescriber, reason="Depression.", by=therapist
    )
    assert course_of(client_record).phase == Phase.INTAKE
    referral_services.referral_transition(
        referral=referral,
        to_status=Referral.Status.SENT,
        happened_on=timezone.localdate(),
        by=therapist,
    )
    assert course_of(client_record).phase == Phase.REFERRAL
    referral_services.referral_approve(
        referral=referral,
        happened_on=timezone.localdate(),
        by=therapist,
        dose_mg=100,
        tablets_per_dose=1,
        doses_authorised=6,
        valid_until=timezone.localdate().replace(year=timezone.localdate().year + 1),
        received_on=timezone.localdate(),
    )
    course = course_of(client_record)
    assert course.phase == Phase.PREPARATION
    assert course.referral == referral
    assert steps(course) == [
        ("", Phase.INTAKE, ""),
        (Phase.INTAKE, Phase.REFERRAL, "The referral to Dana Osei, MD was sent."),
        (Phase.REFERRAL, Phase.PREPARATION, "The referral to Dana Osei, MD was approved."),
    ]
    # The client record says so, no longer "No treatment course yet".
    sign_in(client, therapist)
    page = client.get(reverse("patients:client_detail", kwargs={"client_id": client_record.pk}))
    assert "No treatment course yet" not in page.content.decode()


def test_without_a_submitted_intake_the_course_waits_and_the_referral_still_goes(client_record):
    referral, _prescription = approved_referral_with_prescription(client_record)
    referral.refresh_from_db()
    assert referral.status == Referral.Status.APPROVED
    course = course_of(client_record)
    assert course.phase == Phase.INTAKE  # R1: referral needs the submitted intake first
    submitted_intake(client_record)
    course_advance(course=course, to_phase=Phase.REFERRAL, by=client_record.primary_therapist)
    course = course_advance(
        course=course, to_phase=Phase.PREPARATION, by=client_record.primary_therapist
    )
    assert course.phase == Phase.PREPARATION


def test_a_referral_after_a_completed_course_opens_a_booster(client_record):
    submitted_intake(client_record)
    approved_referral_with_prescription(client_record)
    first = course_of(client_record)
    TreatmentCourse.objects.filter(pk=first.pk).update(
        phase=Phase.COMPLETE, closed_at=timezone.now()
    )
    approved_referral_with_prescription(client_record)
    booster = TreatmentCourse.objects.exclude(pk=first.pk).get(client=client_record)
    assert booster.booster_of == first
    assert booster.phase == Phase.PREPARATION


def test_a_course_already_past_the_referral_is_left_where_it_is(client_record):
    """A second referral (a change of prescriber) during dosing moves nothing back."""
    submitted_intake(client_record)
    approved_referral_with_prescription(client_record)
    course = course_of(client_record)
    before = steps(course)
    referral = Referral.objects.get(client=client_record)
    Referral.objects.filter(pk=referral.pk).update(status=Referral.Status.WITHDRAWN)
    approved_referral_with_prescription(client_record)
    assert course_of(client_record).phase == Phase.PREPARATION
    assert steps(course_of(client_record)) == before
