"""Intake services (R17, R18): drafts keep what was typed, submit checks every step and the
consent signature, locks, raises flags and copies contact details; amendments keep the original."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from patients.intake import services
from patients.intake.forms import RAW_MAX
from patients.models import ClientFlag, Intake
from patients.models.clients import FlagCode
from tests import factories
from tests.factories_intake import (
    ConsentDocumentFactory,
    consent,
    fill_all,
    step_post,
    submitted_intake,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(client_record):
    consent()
    return services.intake_start(client=client_record, by=client_record.user)


def save(intake, step, data):
    return services.intake_save_step(intake=intake, step=step, data=data, by=intake.client.user)


# --- Start --------------------------------------------------------------------------------------


def test_start_creates_one_draft_and_resumes_it(client_record):
    first = services.intake_start(client=client_record, by=client_record.user)
    again = services.intake_start(client=client_record, by=client_record.user)
    assert first == again
    assert first.status == Intake.Status.DRAFT
    assert client_record.intakes.count() == 1


def test_only_the_client_fills_in_their_intake(client_record, therapist, other_client_record):
    with pytest.raises(services.IntakeError, match="Only the client"):
        services.intake_start(client=client_record, by=therapist)
    with pytest.raises(services.IntakeError, match="Only the client"):
        services.intake_start(client=client_record, by=other_client_record.user)
    draft = services.intake_start(client=client_record, by=client_record.user)
    with pytest.raises(services.IntakeError):
        services.intake_save_step(
            intake=draft, step="about", data={"pronouns": "x"}, by=other_client_record.user
        )
    assert draft.answers == {}


def test_start_after_submit_points_to_request_a_change(client_record):
    submitted_intake(client_record)
    with pytest.raises(services.IntakeError, match="request a change"):
        services.intake_start(client=client_record, by=client_record.user)


# --- Saving a step ------------------------------------------------------------------------------


def test_a_draft_keeps_invalid_answers_with_their_errors(draft):
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    saved = save(draft, "about", {"phone": "12", "date_of_birth": future, "pronouns": " they "})
    assert not saved.complete
    assert "Enter a phone number we can call" in saved.form.errors["phone"][0]
    assert saved.form.errors["date_of_birth"] == ["The date of birth must be in the past."]
    draft.refresh_from_db()
    # Nothing typed is lost: the invalid values are stored as typed, valid ones cleaned.
    assert draft.answers["about"] == {
        "preferred_name": "",
        "pronouns": "they",
        "date_of_birth": future,
        "phone": "12",
        "address": "",
    }
    assert draft.last_step == "about"


def test_under_18_gets_a_clear_message(draft):
    today = timezone.localdate()
    dob = date(today.year - 17, 1, 1).isoformat()
    saved = save(draft, "about", step_post("about", draft.client, date_of_birth=dob))
    assert saved.form.errors["date_of_birth"] == [
        "Clients must be at least 18 years old for this treatment."
    ]


def test_a_valid_step_stores_cleaned_values(draft):
    saved = save(draft, "about", step_post("about", draft.client))
    assert saved.complete
    assert saved.intake.answers["about"]["phone"] == "+15552013344"
    assert saved.intake.answers["about"]["date_of_birth"] == "1988-03-14"


def test_too_long_text_is_kept_but_refused(draft):
    long = "x" * 2500
    saved = save(draft, "medical", {**step_post("medical", draft.client), "medications": long})
    assert "at most 2000 characters" in saved.form.errors["medications"][0]
    assert saved.intake.answers["medical"]["medications"] == long
    huge = save(draft, "goals", {"goals": "y" * (RAW_MAX + 50)})
    assert len(huge.intake.answers["goals"]["goals"]) == RAW_MAX  # a hard bound on storage


def test_unknown_fields_and_choices_are_not_stored(draft):
    saved = save(draft, "medical", {"liver": "definitely", "is_admin": "1"})
    assert saved.intake.answers["medical"]["liver"] == ""
    assert "is_admin" not in saved.intake.answers["medical"]


def test_follow_up_questions_are_required_when_they_apply(draft):
    saved = save(draft, "medical", step_post("medical", draft.client, high_bp="yes"))
    assert saved.form.errors["bp_controlled"] == [
        "Please answer this too, as you answered Yes or Unsure about high blood pressure."
    ]
    saved = save(draft, "doctor", {"has_pcp": "yes"})
    assert set(saved.form.errors) == {"pcp_name", "pcp_phone"}
    assert save(draft, "doctor", {"has_pcp": "no"}).complete


def test_unknown_step_is_refused(draft):
    with pytest.raises(services.IntakeError):
        save(draft, "billing", {})


# --- Submit -------------------------------------------------------------------------------------


def test_submit_refuses_incomplete_steps_naming_them(draft):
    save(draft, "about", step_post("about", draft.client))
    with pytest.raises(services.IntakeIncomplete) as refused:
        services.intake_submit(intake=draft, by=draft.client.user)
    assert refused.value.steps[0] == "contacts"
    assert "consent" in refused.value.steps
    assert "Emergency contact and chaperone" in str(refused.value)
    assert "Informed consent" in str(refused.value)
    draft.refresh_from_db()
    assert draft.status == Intake.Status.DRAFT


@pytest.mark.parametrize("typed", ["Someone Else", "Maya", "Maya Patel-Smith"])
def test_consent_name_must_match_the_legal_name(draft, typed):
    intake = fill_all(draft, overrides={"consent": {"name": typed}})
    with pytest.raises(services.IntakeIncomplete) as refused:
        services.intake_submit(intake=intake, by=draft.client.user)
    assert refused.value.steps == ["consent"]


def test_consent_name_ignores_case_and_extra_spaces(draft):
    intake = fill_all(draft, overrides={"consent": {"name": "  maya   PATEL "}})
    intake = services.intake_submit(intake=intake, by=draft.client.user)
    assert intake.consent_name == "maya PATEL"


def test_consent_box_must_be_ticked(draft):
    intake = fill_all(draft, overrides={"consent": {"agree": ""}})
    with pytest.raises(services.IntakeIncomplete):
        services.intake_submit(intake=intake, by=draft.client.user)


def test_consent_is_signed_again_when_the_text_changes(draft):
    intake = fill_all(draft)
    ConsentDocumentFactory(version="v-next", published_at=timezone.now())
    with pytest.raises(services.IntakeIncomplete) as refused:
        services.intake_submit(intake=intake, by=draft.client.user)
    assert refused.value.steps == ["consent"]
    intake = save(intake, "consent", step_post("consent", draft.client)).intake
    assert services.intake_submit(intake=intake, by=draft.client.user).consent.version == "v-next"


def test_submit_records_consent_locks_and_copies_details(client_record):
    before = timezone.now()
    intake = submitted_intake(client_record)
    assert intake.status == Intake.Status.SUBMITTED
    assert intake.submitted_by == client_record.user
    assert intake.submitted_at >= before
    assert intake.consent == consent()
    assert intake.consent_name == "Maya Patel"
    assert intake.consent_signed_at == intake.submitted_at
    assert intake.is_locked
    client_record.refresh_from_db()
    assert client_record.phone == "+15552013344"  # normalized
    assert client_record.phone_digits == "15552013344"
    assert client_record.date_of_birth == date(1988, 3, 14)
    assert client_record.preferred_name == "May"
    assert client_record.pronouns == "she/her"
    assert client_record.address == "12 Elm Street\nSpringfield"
    assert client_record.emergency_contact_name == "Ravi Patel"
    assert client_record.emergency_contact_relationship == "Brother"
    assert client_record.emergency_contact_phone == "+15552019999"
    assert client_record.chaperone_name == "Leah Patel"
    assert client_record.chaperone_phone == "+15552017777"
    assert client_record.pcp_name == "Dr. Ellen Hart"
    assert client_record.pcp_practice == "Elm Family Practice"
    assert client_record.pcp_phone == "+15552015555"


def test_no_doctor_clears_the_doctor_on_record(client_record):
    client_record.pcp_name = "Dr. Old"
    client_record.save()
    submitted_intake(
        client_record,
        overrides={
            "doctor": {"has_pcp": "no", "pcp_name": "", "pcp_phone": "", "pcp_practice": ""}
        },
    )
    client_record.refresh_from_db()
    assert client_record.pcp_name == ""


def test_submit_raises_the_flags_with_evidence(client_record):
    intake = submitted_intake(
        client_record, overrides={"medical": {"liver": "unsure", "pregnancy": "yes"}}
    )
    flags = {flag.code: flag for flag in ClientFlag.objects.filter(client=client_record)}
    assert set(flags) == {FlagCode.LIVER, FlagCode.PREGNANCY}
    assert flags[FlagCode.LIVER].intake == intake
    assert flags[FlagCode.LIVER].is_current
    assert flags[FlagCode.LIVER].evidence == [
        {"question": "Liver disease, for example hepatitis or cirrhosis?", "answer": "Unsure"}
    ]


def test_all_no_raises_no_flags(client_record):
    submitted_intake(client_record)
    assert not ClientFlag.objects.exists()


def test_a_submitted_intake_cannot_be_changed(client_record):
    intake = submitted_intake(client_record)
    answers, updated = intake.answers, intake.updated_at
    with pytest.raises(services.IntakeLocked):
        save(intake, "medical", step_post("medical", client_record, liver="yes"))
    with pytest.raises(services.IntakeLocked):
        services.intake_submit(intake=intake, by=client_record.user)
    # Even an object in memory that still says "draft" is refused: the row is re-read.
    stale = Intake.objects.get(pk=intake.pk)
    stale.status = Intake.Status.DRAFT
    with pytest.raises(services.IntakeLocked):
        save(stale, "medical", {"liver": "yes"})
    intake.refresh_from_db()
    assert intake.answers == answers
    assert intake.updated_at == updated


# --- Amendments ---------------------------------------------------------------------------------


def test_an_amendment_is_a_new_draft_and_keeps_the_original(client_record):
    original = submitted_intake(client_record, overrides={"medical": {"liver": "yes"}})
    kept = dict(original.answers)
    amendment = services.intake_amend(intake=original, by=client_record.user)
    assert amendment.pk != original.pk
    assert amendment.amends == original
    assert amendment.status == Intake.Status.DRAFT
    assert "consent" not in amendment.answers  # signed again for the changed answers
    assert amendment.answers["medical"] == original.answers["medical"]
    # Asking again resumes the same amendment.
    assert services.intake_amend(intake=original, by=client_record.user) == amendment

    amendment = save(
        amendment, "medical", step_post("medical", client_record, liver="no", heart="yes")
    ).intake
    amendment = save(amendment, "consent", step_post("consent", client_record)).intake
    amendment = services.intake_submit(intake=amendment, by=client_record.user)

    original.refresh_from_db()
    assert original.answers == kept
    assert original.status == Intake.Status.SUBMITTED
    # R18 flags: the amendment's replace the original's, which are kept but not current.
    current = ClientFlag.objects.filter(client=client_record, is_current=True)
    assert [(f.code, f.intake_id) for f in current] == [(FlagCode.CARDIAC, amendment.pk)]
    old = ClientFlag.objects.get(intake=original)
    assert (old.code, old.is_current) == (FlagCode.LIVER, False)

    with pytest.raises(services.IntakeError, match="replaced by a later version"):
        services.intake_amend(intake=original, by=client_record.user)
    assert services.intake_amend(intake=amendment, by=client_record.user).amends == amendment


def test_a_draft_cannot_be_amended(draft):
    with pytest.raises(services.IntakeError, match="not been submitted"):
        services.intake_amend(intake=draft, by=draft.client.user)


# --- Review -------------------------------------------------------------------------------------


def test_staff_mark_reviewed_records_who_and_when(client_record, therapist):
    intake = submitted_intake(client_record)
    reviewed = services.intake_mark_reviewed(intake=intake, by=therapist)
    assert reviewed.reviewed_by == therapist
    assert reviewed.reviewed_at is not None
    with pytest.raises(services.IntakeError, match="Already marked as reviewed by Sam Rivera"):
        services.intake_mark_reviewed(intake=intake, by=therapist)


def test_only_the_care_team_marks_reviewed(client_record, other_therapist, admin_user):
    intake = submitted_intake(client_record)
    for outsider in (other_therapist, client_record.user):
        with pytest.raises(services.IntakeError, match="care team"):
            services.intake_mark_reviewed(intake=intake, by=outsider)
    shared = factories.TherapistFactory()
    factories.ClientShareFactory(client=client_record, therapist=shared, granted_by=admin_user)
    assert services.intake_mark_reviewed(intake=intake, by=shared).reviewed_by == shared


def test_a_draft_cannot_be_marked_reviewed(draft, therapist):
    with pytest.raises(services.IntakeError, match="not submitted"):
        services.intake_mark_reviewed(intake=draft, by=therapist)
