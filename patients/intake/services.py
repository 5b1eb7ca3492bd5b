"""Writes to the intake (R17, R18): start, save a step, submit, amend, mark reviewed.

Keyword-only, inside a transaction; the audit trail is django-auditlog's (Intake, ClientFlag and
Client are registered in patients/audit.py, R22). A submitted intake is never edited: every write
re-reads the row under a lock and refuses one that is locked, whatever the caller holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone

from kap_clinic import formats
from kap_clinic.errors import DomainError
from patients.access import can_view_client
from patients.intake.flags import flags_for
from patients.intake.forms import StepForm, completed_steps, form_for, step_values
from patients.intake.schema import CONSENT_SLUG, DATE, NO, client_fields, get_step, step_title
from patients.intake.selectors import latest_consent
from patients.models import Client, ClientFlag, Intake

if TYPE_CHECKING:
    from collections.abc import Mapping

    from accounts.models import User


class IntakeError(DomainError):
    """A rule refused the change; the message is for the person who tried."""


class IntakeLocked(IntakeError):
    def __init__(self) -> None:
        super().__init__(
            "This intake form has been submitted and can no longer be changed. To correct an "
            "answer, request a change."
        )


class IntakeIncomplete(IntakeError):
    def __init__(self, steps: list[str]) -> None:
        self.steps = steps
        titles = ", ".join(step_title(slug) for slug in steps)
        super().__init__(f"Some steps still need your answers: {titles}.")


@dataclass
class StepSaved:
    intake: Intake
    form: StepForm

    @property
    def complete(self) -> bool:
        return not self.form.errors


def _require_own(by: User, client: Client) -> None:
    # R17: the intake is the client's own account of their history; staff read it, never write it.
    if client.user_id is None or by.pk != client.user_id:
        raise IntakeError("Only the client fills in their own intake form.")


def _lock(intake: Intake) -> Intake:
    return Intake.objects.select_for_update().select_related("client").get(pk=intake.pk)


def _locked_draft(intake: Intake) -> Intake:
    current = _lock(intake)
    if current.is_locked:
        raise IntakeLocked
    return current


@transaction.atomic
def intake_start(*, client: Client, by: User) -> Intake:
    """The client's one draft intake, created on first use (the database allows one per client)."""
    _require_own(by, client)
    draft = client.intakes.filter(status=Intake.Status.DRAFT).first()
    if draft is not None:
        return draft
    if client.intakes.filter(status=Intake.Status.SUBMITTED).exists():
        raise IntakeError(
            "Your intake form has been submitted. To correct an answer, request a change."
        )
    try:
        with transaction.atomic():
            return Intake.objects.create(client=client)
    except IntegrityError:
        # A second tab created it a moment ago (intake_one_draft_per_client).
        return client.intakes.get(status=Intake.Status.DRAFT)


@transaction.atomic
def intake_save_step(*, intake: Intake, step: str, data: Mapping, by: User) -> StepSaved:
    """R17: save one step of a draft, valid or not, so nothing typed is lost. The returned form
    carries the validation errors for display; the answers are stored regardless."""
    if get_step(step) is None:
        raise IntakeError("There is no such step in the intake form.")
    intake = _locked_draft(intake)
    _require_own(by, intake.client)
    consent = latest_consent() if step == CONSENT_SLUG else None
    form = form_for(step, data=data, client=intake.client, consent=consent)
    form.is_valid()
    values = step_values(form)
    if consent is not None:
        # The signature is given against the text version shown (R17).
        values["version"] = consent.version
    if intake.answers.get(step) != values or intake.last_step != step:
        intake.answers = {**intake.answers, step: values}
        intake.last_step = step
        intake.save(update_fields=["answers", "last_step", "updated_at"])
    return StepSaved(intake=intake, form=form)


@transaction.atomic
def intake_submit(*, intake: Intake, by: User) -> Intake:
    """Lock the intake (R17): every step complete, consent signed against the current text;
    raise the R18 flags; copy the contact details onto the client record."""
    intake = _locked_draft(intake)
    client = intake.client
    _require_own(by, client)
    consent = latest_consent()
    completed = completed_steps(answers=intake.answers, client=client, consent=consent)
    missing = [slug for slug, done in completed.items() if not done]
    if missing:
        raise IntakeIncomplete(missing)
    now = timezone.now()
    intake.status = Intake.Status.SUBMITTED
    intake.submitted_at = now
    intake.submitted_by = by
    intake.consent = consent
    intake.consent_name = " ".join(intake.answers[CONSENT_SLUG]["name"].split())
    intake.consent_signed_at = now
    intake.save()
    _raise_flags(intake)
    _copy_to_client(client, intake.answers)
    return intake


def _raise_flags(intake: Intake) -> None:
    """R18: the flags of this intake replace those of earlier ones, which are kept (R24)."""
    for old in ClientFlag.objects.filter(client_id=intake.client_id, is_current=True):
        old.is_current = False
        old.save(update_fields=["is_current"])  # row by row, so the audit trail records it
    for code, evidence in flags_for(intake.answers):
        ClientFlag.objects.create(
            client_id=intake.client_id, intake=intake, code=code, evidence=evidence
        )


def _copy_to_client(client: Client, answers: dict) -> None:
    """The client's own contact details, emergency contact, chaperone (R15) and primary care
    provider become the record's; phone numbers are already in international form."""
    no_doctor = (answers.get("doctor") or {}).get("has_pcp") == NO
    changed = []
    for slug, question in client_fields():
        value = (answers.get(slug) or {}).get(question.key) or ""
        if slug == "doctor" and no_doctor:
            value = ""
        if question.kind == DATE:
            value = date.fromisoformat(value) if value else None
        if getattr(client, question.client_field) != value:
            setattr(client, question.client_field, value)
            changed.append(question.client_field)
    if changed:
        client.save(update_fields=changed)


@transaction.atomic
def intake_amend(*, intake: Intake, by: User) -> Intake:
    """R17: a change to a submitted intake is a new draft that amends it; the original is kept
    as it was. The consent is signed again for the changed answers."""
    original = _lock(intake)
    _require_own(by, original.client)
    if not original.is_locked:
        raise IntakeError("This intake has not been submitted yet: you can still change it.")
    later = Intake.objects.filter(amends=original).first()
    if later is not None:
        if later.is_locked:
            raise IntakeError("This intake has already been replaced by a later version.")
        return later
    if original.client.intakes.filter(status=Intake.Status.DRAFT).exists():
        raise IntakeError("You already have an intake form in progress.")
    answers = {slug: dict(values) for slug, values in original.answers.items()}
    answers.pop(CONSENT_SLUG, None)
    return Intake.objects.create(
        client=original.client, amends=original, answers=answers, last_step=""
    )


@transaction.atomic
def intake_mark_reviewed(*, intake: Intake, by: User) -> Intake:
    """A therapist or admin records that they read the submitted intake (who, when)."""
    intake = _lock(intake)
    if not getattr(by, "is_clinic_staff", False) or not can_view_client(by, intake.client):
        raise IntakeError("Only the client's care team can mark an intake as reviewed.")
    if not intake.is_locked:
        raise IntakeError("The client has not submitted this intake yet.")
    if intake.reviewed_at is not None:
        reviewer = intake.reviewed_by.get_full_name() if intake.reviewed_by else "someone"
        raise IntakeError(
            f"Already marked as reviewed by {reviewer} on "
            f"{formats.day(timezone.localtime(intake.reviewed_at))}."
        )
    intake.reviewed_at = timezone.now()
    intake.reviewed_by = by
    intake.save(update_fields=["reviewed_at", "reviewed_by", "updated_at"])
    return intake
