"""Writes for the hand-off to the external prescriber: referrals and their state machine, and the
prescription recorded from the prescriber's decision (R3, R4, R21, R24).

Every function is keyword-only, checks ``can_change_client`` itself (views check too, but a
service is the last line), writes inside ``transaction.atomic()`` and leaves the change history to
django-auditlog (Referral, ReferralTransition and Prescription are registered in patients/audit.py).
A rule that refuses raises ``ReferralError`` with a message a clinician understands."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import Field
from django.utils import timezone

from kap_clinic import formats
from kap_clinic.errors import DomainError
from patients.access import can_change_client
from patients.models import Client, Prescriber, Prescription, Referral, ReferralTransition
from patients.referrals.signals import referral_moved

if TYPE_CHECKING:
    from accounts.models import User

Status = Referral.Status

# The whole state machine. Approved, declined and withdrawn are final: a new referral is a new
# row. "approved" is only reachable through referral_approve (with its prescription, R3/R4).
ALLOWED_TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.DRAFT: (Status.SENT, Status.WITHDRAWN),
    Status.SENT: (Status.UNDER_REVIEW, Status.APPROVED, Status.DECLINED, Status.WITHDRAWN),
    Status.UNDER_REVIEW: (Status.APPROVED, Status.DECLINED, Status.WITHDRAWN),
    Status.APPROVED: (),
    Status.DECLINED: (),
    Status.WITHDRAWN: (),
}
FINAL_STATUSES = (Status.APPROVED, Status.DECLINED, Status.WITHDRAWN)
REASON_REQUIRED = (Status.DECLINED, Status.WITHDRAWN)

# R4: data-entry sanity range for the dose. Outside it the user must confirm; never a hard block,
# the prescriber decides the dose.
DOSE_WARN_MIN_MG = 25
DOSE_WARN_MAX_MG = 400
# R4/R6: the minimum days between doses, default 14, allowed 3–28 (also a DB constraint).
INTERVAL_MIN_DAYS = 3
INTERVAL_MAX_DAYS = 28

PRESCRIPTION_FIELDS = (
    "medication",
    "form",
    "route",
    "dose_mg",
    "tablets_per_dose",
    "doses_authorised",
    "min_days_between_doses",
    "valid_until",
    "received_on",
)


class ReferralError(DomainError):
    """A rule refused the change; the message is for the clinician."""


def _require_change(by: User, client: Client) -> None:
    if not can_change_client(by, client):
        raise ReferralError("You cannot change this client's referrals.")


def dose_out_of_range(dose_mg: int | None) -> bool:
    return dose_mg is not None and not (DOSE_WARN_MIN_MG <= dose_mg <= DOSE_WARN_MAX_MG)


def allowed_next(status: str) -> tuple[str, ...]:
    return ALLOWED_TRANSITIONS.get(status, ())


def forbidden_message(from_status: str, to_status: str) -> str:
    """The error a crafted request for an impossible transition gets."""
    src = Status(from_status).label.lower()
    dst = Status(to_status).label.lower()
    if from_status in FINAL_STATUSES:
        verbs: dict[str, str] = {
            Status.SENT: "marked as sent",
            Status.UNDER_REVIEW: "marked as under review",
            Status.APPROVED: "approved",
            Status.DECLINED: "declined",
            Status.WITHDRAWN: "withdrawn",
            Status.DRAFT: "returned to draft",
        }
        verb = verbs[to_status]
        article = "An" if src[0] in "aeiou" else "A"
        return f"{article} {src} referral cannot be {verb}. Start a new referral instead."
    if from_status == to_status:
        return f"This referral is already {dst}."
    article = "An" if src[0] in "aeiou" else "A"
    return f"{article} {src} referral cannot move to {dst}."


def referral_create(*, client: Client, prescriber: Prescriber, reason: str, by: User) -> Referral:
    """A new draft referral. The database allows one open referral per client."""
    _require_change(by, client)
    if client.is_archived:
        raise ReferralError("This record is archived. Restore it before referring the client.")
    if not prescriber.is_active:
        raise ReferralError("This prescriber is inactive. Choose an active prescriber.")
    reason = (reason or "").strip()
    if not reason:
        raise ReferralError("Give the reason for referral: the prescriber reads it first.")
    try:
        with transaction.atomic():
            referral = Referral.objects.create(
                client=client,
                prescriber=prescriber,
                referred_by=by,
                reason=reason,
                status=Status.DRAFT,
                status_date=timezone.localdate(),
            )
            referral_moved.send(sender=Referral, referral=referral, to_status=Status.DRAFT, by=by)
            return referral
    except IntegrityError as error:
        if "referral_one_open_per_client" in str(error) or "UNIQUE" in str(error).upper():
            raise ReferralError("This client already has a referral in progress.") from error
        raise


def _lock(referral: Referral) -> Referral:
    return Referral.objects.select_for_update().select_related("client").get(pk=referral.pk)


def _check_transition(locked: Referral, *, to_status: str, happened_on: date, reason: str) -> None:
    if to_status not in Status.values:
        raise ReferralError("Unknown referral status.")
    if to_status not in allowed_next(locked.status):
        raise ReferralError(forbidden_message(locked.status, to_status))
    if to_status in REASON_REQUIRED and not reason:
        word = "declined" if to_status == Status.DECLINED else "withdrawn"
        raise ReferralError(f"Give the reason the referral was {word}.")
    if happened_on is None:
        raise ReferralError("Give the date.")
    if happened_on > timezone.localdate():
        raise ReferralError("The date cannot be in the future.")
    made_on = formats.clinic_date(locked.created_at)
    if happened_on < made_on:
        raise ReferralError(
            f"The date cannot be before the referral was recorded ({formats.day(made_on)})."
        )
    previous = locked.transitions.order_by("-happened_on").values_list("happened_on", flat=True)
    last = previous.first()
    if last is not None and happened_on < last:
        raise ReferralError(f"The date cannot be before the previous step ({formats.day(last)}).")


def _record(locked: Referral, *, to_status: str, happened_on: date, reason: str, by: User):
    ReferralTransition.objects.create(
        referral=locked,
        from_status=locked.status,
        to_status=to_status,
        happened_on=happened_on,
        reason=reason,
        recorded_by=by,
    )
    locked.status = to_status
    locked.status_date = happened_on
    locked.status_reason = reason
    locked.save(update_fields=["status", "status_date", "status_reason", "updated_at"])
    referral_moved.send(sender=Referral, referral=locked, to_status=to_status, by=by)


def referral_transition(
    *, referral: Referral, to_status: str, happened_on: date, reason: str = "", by: User
) -> Referral:
    """Move a referral one step (the table above). Approval goes through ``referral_approve``
    because it is recorded together with the prescription (R3, R4)."""
    _require_change(by, referral.client)
    reason = (reason or "").strip()
    with transaction.atomic():
        locked = _lock(referral)
        if to_status == Status.APPROVED and to_status in allowed_next(locked.status):
            raise ReferralError("Record the approval together with the prescription.")
        _check_transition(locked, to_status=to_status, happened_on=happened_on, reason=reason)
        _record(locked, to_status=to_status, happened_on=happened_on, reason=reason, by=by)
    return locked


def _check_choices(fields: dict) -> None:
    """R4: the form and the route are among the recorded ones (the route is also a check
    constraint); the page offers only these, a crafted POST gets this refusal."""
    fields["route"] = fields.get("route") or Prescription.Route.SUBLINGUAL
    if fields["route"] not in Prescription.Route.values:
        raise ReferralError("Choose the route from the list (R4).")
    fields["form"] = fields.get("form") or Prescription.Form.RDT
    if fields["form"] not in Prescription.Form.values:
        raise ReferralError("Choose the form of the medication from the list (R4).")


def _check_prescription(fields: dict, *, dose_confirmed: bool) -> dict:
    unknown = set(fields) - set(PRESCRIPTION_FIELDS)
    if unknown:
        raise TypeError(f"Not prescription fields: {sorted(unknown)}")
    fields = {**fields}
    fields["medication"] = (fields.get("medication") or "Ketamine").strip() or "Ketamine"
    _check_choices(fields)
    for name in ("dose_mg", "doses_authorised", "valid_until", "received_on"):
        if fields.get(name) in (None, ""):
            field = Prescription._meta.get_field(name)
            assert isinstance(field, Field)  # the four names above are Prescription's own columns
            label = field.verbose_name
            raise ReferralError(f"Give the {label}.")
    interval = fields.setdefault("min_days_between_doses", 14)
    if not (INTERVAL_MIN_DAYS <= interval <= INTERVAL_MAX_DAYS):
        raise ReferralError(
            f"The minimum interval must be between {INTERVAL_MIN_DAYS} and "
            f"{INTERVAL_MAX_DAYS} days (R6)."
        )
    if fields["dose_mg"] < 1 or fields["doses_authorised"] < 1:
        raise ReferralError("The dose and the number of doses must be at least 1.")
    if dose_out_of_range(fields["dose_mg"]) and not dose_confirmed:
        raise ReferralError(
            f"{fields['dose_mg']} mg is outside the usual "
            f"{DOSE_WARN_MIN_MG}–{DOSE_WARN_MAX_MG} mg. "
            "Check the dose with the prescription and confirm it."
        )
    if fields["valid_until"] < fields["received_on"]:
        raise ReferralError("'Valid until' must be on or after the date received.")
    if fields["received_on"] > timezone.localdate():
        raise ReferralError("The date received cannot be in the future.")
    return fields


def referral_approve(
    *,
    referral: Referral,
    happened_on: date,
    by: User,
    reason: str = "",
    dose_confirmed: bool = False,
    **prescription_fields,
) -> Prescription:
    """R3/R4: the prescriber approved; record the approval and the prescription in one
    transaction. The prescription's prescriber is the referral's."""
    _require_change(by, referral.client)
    fields = _check_prescription(prescription_fields, dose_confirmed=dose_confirmed)
    reason = (reason or "").strip()
    with transaction.atomic():
        locked = _lock(referral)
        _check_transition(locked, to_status=Status.APPROVED, happened_on=happened_on, reason=reason)
        now = timezone.now()
        # A client referred again (e.g. for a booster) may still have an older prescription in
        # force; the new one replaces it, keeping the old row (R24).
        current = (
            Prescription.objects.select_for_update()
            .in_force()
            .filter(client_id=locked.client_id)
            .first()
        )
        if current is not None:
            current.superseded_at = now
            current.save(update_fields=["superseded_at"])
        prescription = Prescription.objects.create(
            client_id=locked.client_id,
            referral=locked,
            prescriber_id=locked.prescriber_id,
            supersedes=current,
            recorded_by=by,
            **fields,
        )
        _record(locked, to_status=Status.APPROVED, happened_on=happened_on, reason=reason, by=by)
    return prescription


def prescription_supersede(
    *,
    prescription: Prescription,
    by: User,
    kind: str,
    dose_confirmed: bool = False,
    **new_fields,
) -> Prescription:
    """A renewal or a change (R4): a new prescription that supersedes the current one. The old row
    is kept unchanged apart from ``superseded_at``; prescriptions are never edited in place.

    R5: a renewal is the prescriber's new authorisation, received on its own date: its doses are
    counted afresh. A change corrects the current prescription under the same authorisation: the
    doses already given count against it, so recording a "change" never gives doses back."""
    _require_change(by, prescription.client)
    if kind not in (Prescription.Kind.RENEWAL, Prescription.Kind.CHANGE):
        raise ReferralError("Say whether this is a renewal from the prescriber or a change.")
    with transaction.atomic():
        old = Prescription.objects.select_for_update().get(pk=prescription.pk)
        if old.superseded_at is not None:
            raise ReferralError(
                "This prescription has already been replaced. Renew the current one instead."
            )
        base = {name: getattr(old, name) for name in PRESCRIPTION_FIELDS}
        fields = _check_prescription({**base, **new_fields}, dose_confirmed=dose_confirmed)
        if kind == Prescription.Kind.RENEWAL and fields["received_on"] < old.received_on:
            raise ReferralError(
                "A renewal is a new authorisation from the prescriber: give the date it was "
                f"received, not before the current prescription's ({formats.day(old.received_on)})."
            )
        old.superseded_at = timezone.now()
        old.save(update_fields=["superseded_at"])
        return Prescription.objects.create(
            client_id=old.client_id,
            referral_id=old.referral_id,
            prescriber_id=old.prescriber_id,
            supersedes=old,
            kind=kind,
            authorisation_id=(
                old.authorisation_id_or_own if kind == Prescription.Kind.CHANGE else None
            ),
            recorded_by=by,
            **fields,
        )
