"""Reads for the referral pages, the prescribers directory, the client record's referral summary
and the referral packet. Each runs a fixed number of queries whatever the number of referrals,
transitions, flags or scores."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import (
    Case,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone

from patients.intake.flags import information_for
from patients.intake.schema import FLAG_ANSWERS, get_step
from patients.intake.selectors import latest_submitted
from patients.models import (
    Client,
    ClientFlag,
    Intake,
    Prescriber,
    Prescription,
    QuestionnaireResponse,
    Referral,
    ReferralTransition,
)
from patients.models.questionnaires import Instrument
from patients.referrals.services import allowed_next, dose_out_of_range

# --- Prescribers --------------------------------------------------------------------------------


def prescriber_list(*, search: str = "") -> QuerySet[Prescriber]:
    """Active prescribers first, then inactive ones; by organisation and name. One query."""
    prescribers = Prescriber.objects.annotate(
        inactive_last=Case(
            When(is_active=True, then=Value(0)), default=Value(1), output_field=IntegerField()
        )
    ).order_by("inactive_last", "organisation", "clinician_name", "id")
    search = search.strip()
    if search:
        prescribers = prescribers.filter(
            Q(clinician_name__icontains=search) | Q(organisation__icontains=search)
        )
    return prescribers


def active_prescribers() -> QuerySet[Prescriber]:
    return Prescriber.objects.filter(is_active=True).order_by("organisation", "clinician_name")


# --- Referrals ----------------------------------------------------------------------------------


def _with_history(referrals: QuerySet[Referral]) -> QuerySet[Referral]:
    return referrals.select_related("prescriber", "referred_by").prefetch_related(
        Prefetch(
            "transitions",
            queryset=ReferralTransition.objects.select_related("recorded_by").order_by(
                "happened_on", "recorded_at", "id"
            ),
        ),
        Prefetch(
            "prescriptions",
            queryset=Prescription.objects.select_related("recorded_by").order_by(
                "-created_at", "-id"
            ),
        ),
    )


def referral_list(*, client: Client) -> list[Referral]:
    """Every referral of ``client``, newest first, with its history. Three queries."""
    return list(_with_history(client.referrals.all()).order_by("-created_at", "-id"))


def referral_for_client(*, client: Client, referral_id: int) -> Referral | None:
    """One referral of ``client`` with its timeline and prescriptions, or None. Three queries."""
    referral = _with_history(client.referrals.filter(pk=referral_id)).first()
    if referral is not None:
        referral.client = client
    return referral


def open_referral(*, client: Client) -> Referral | None:
    return client.referrals.filter(
        status__in=[Referral.Status.DRAFT, Referral.Status.SENT, Referral.Status.UNDER_REVIEW]
    ).first()


def next_actions(referral: Referral) -> list[str]:
    """The statuses this referral can move to now, in the order the buttons are shown."""
    return list(allowed_next(referral.status))


def current_prescription(*, client: Client, rows=None) -> Prescription | None:
    """The client's prescription in force, with its referral and prescriber. One query.
    ``rows``: a function that adds to the queryset (annotations: with_referral_is_latest, the
    courses' doses counted)."""
    prescriptions = (
        Prescription.objects.in_force()
        .filter(client=client)
        .select_related("prescriber", "referral")
    )
    return (rows(prescriptions) if rows else prescriptions).first()


def with_referral_is_latest(prescriptions: QuerySet[Prescription]) -> QuerySet[Prescription]:
    """Each prescription with its referral's prescriber, and ``referral_is_latest``: no referral
    of the client is newer than the prescription's (then that referral is the one the client
    record's referral panel shows, and it needs no query of its own)."""
    newer = Referral.objects.filter(client=OuterRef("client_id")).filter(
        Q(created_at__gt=OuterRef("referral__created_at"))
        | Q(created_at=OuterRef("referral__created_at"), pk__gt=OuterRef("referral_id"))
    )
    return prescriptions.select_related("referral__prescriber").annotate(
        referral_is_latest=~Exists(newer)
    )


def prescription_for_client(*, client: Client, prescription_id: int) -> Prescription | None:
    prescription = (
        Prescription.objects.filter(client=client, pk=prescription_id)
        .select_related("prescriber", "referral", "recorded_by", "supersedes", "superseded_by")
        .first()
    )
    if prescription is not None:
        prescription.client = client
    return prescription


def prescription_chain(*, prescription: Prescription) -> list[Prescription]:
    """Every prescription of the same client, newest first (the renewal history). One query."""
    return list(
        Prescription.objects.filter(client_id=prescription.client_id)
        .select_related("recorded_by")
        .order_by("-created_at", "-id")
    )


def referral_summary(*, client: Client, prescription=False) -> dict:
    """For the client record (templates/patients/_referral_summary.html): the latest referral,
    its status, date and reason, and the prescription in force. Two queries; none for the
    prescription when it is given (current_prescription, None included), and none for the
    referral when the prescription carries it (with_referral_is_latest)."""
    if prescription is False:
        prescription = current_prescription(client=client)
    if prescription is not None and getattr(prescription, "referral_is_latest", False):
        latest = prescription.referral
    else:
        latest = (
            client.referrals.select_related("prescriber").order_by("-created_at", "-id").first()
        )
    today = timezone.localdate()
    return {
        "referral": latest,
        "status": latest.get_status_display() if latest else "",
        "status_code": latest.status if latest else "",
        "status_date": latest.status_date if latest else None,
        "status_reason": latest.status_reason if latest else "",
        "prescription": prescription,
        "doses_authorised": prescription.doses_authorised if prescription else None,
        "valid_until": prescription.valid_until if prescription else None,
        "expired": bool(prescription and prescription.valid_until < today),
        "dose_unusual": bool(prescription and dose_out_of_range(prescription.dose_mg)),
    }


# --- The referral packet (R17, R18, R19, R23) ---------------------------------------------------
#
# The packet is built from an explicit allow-list: only what the prescriber needs to assess the
# client (the minimum necessary). Anything not named below never reaches the template.
#
# Included, and why:
# - identifiers (legal name, preferred name, pronouns, date of birth, phone, e-mail, address): the
#   prescriber must identify and contact the client;
# - the referring therapist's name and e-mail, and the prescriber: who to answer;
# - the reason for referral: the therapist's clinical question to the prescriber;
# - intake: date submitted, consent version and date signed, current medications, allergies
#   (drug interactions), primary care provider (in-person medical check, S 000), emergency
#   contact (safety);
# - intake history the prescriber assesses (R17, R18): psychiatric history, substance use, prior
#   ketamine and psychedelic experience, and the client's goals (and worries), every answer of
#   those steps with its question (PACKET_HISTORY);
# - R18 flags with the exact questions and answers that raised them, and what the prescriber
#   should know that is not a flag (controlled hypertension: patients.intake.flags);
# - PHQ-9 / GAD-7 history (date, total, band, PHQ-9 item 9 positive): outcome measures (R19).
#
# Excluded on purpose:
# - psychotherapy notes (R23), now and when they exist: never part of any export;
# - the other free-text intake answers (blood-pressure history) except where they are the
#   evidence for a flag or an information item;
# - individual questionnaire item answers other than item 9's flag;
# - chaperone, portal account details, archive status, the audit trail.

PACKET_CLIENT_FIELDS = (
    "first_name",
    "last_name",
    "preferred_name",
    "pronouns",
    "date_of_birth",
    "phone",
    "email",
    "address",
    "emergency_contact_name",
    "emergency_contact_relationship",
    "emergency_contact_phone",
    "pcp_name",
    "pcp_practice",
    "pcp_phone",
)
# (intake step, question key) of the only intake answers the packet shows besides flag evidence.
PACKET_INTAKE_ANSWERS = {
    "medications": ("medical", "medications"),
    "allergies": ("medical", "allergies"),
}
# (intake step, heading, question keys) of the history sections, in the intake's order.
PACKET_HISTORY = (
    (
        "psychiatric",
        "Psychiatric history",
        ("psychosis", "dissociative", "mania", "suicidal_thoughts", "psychiatric_notes"),
    ),
    (
        "substances",
        "Substance use",
        ("alcohol", "drugs", "substance_use_disorder", "substance_notes"),
    ),
    (
        "experience",
        "Prior ketamine and psychedelic experience",
        ("ketamine_before", "psychedelics_before", "experience_notes"),
    ),
    ("goals", "Goals for treatment", ("goals", "concerns")),
)
PACKET_INSTRUMENTS = (Instrument.PHQ9, Instrument.GAD7)


@dataclass(frozen=True)
class PacketAnswer:
    question: str
    answer: str  # as the client reads it; "" when not answered
    flagged: bool  # the answer raised an R18 flag


def _history(answers: dict, raised: set[str]) -> list[dict]:
    """The PACKET_HISTORY sections from the intake's answers, each question with its answer."""
    sections = []
    for slug, heading, keys in PACKET_HISTORY:
        step = get_step(slug)
        assert step is not None  # PACKET_HISTORY names steps of the schema (a test checks)
        values = answers.get(slug) or {}
        rows = []
        for key in keys:
            question = step.question(key)
            value = values.get(key)
            rows.append(
                PacketAnswer(
                    question=question.label,
                    answer=question.display(value),
                    flagged=question.flag in raised and value in FLAG_ANSWERS,
                )
            )
        sections.append({"key": slug, "heading": heading, "answers": rows})
    return sections


@dataclass(frozen=True)
class PacketScore:
    instrument: str
    label: str
    submitted_at: datetime
    total: int
    band: str
    item9_positive: bool


@dataclass
class Packet:
    client: dict[str, object]
    therapist_name: str
    therapist_email: str
    prescriber: Prescriber
    reason: str
    referral_status: str
    intake_submitted_at: datetime | None = None
    consent_version: str = ""
    consent_signed_at: datetime | None = None
    medications: str = ""
    allergies: str = ""
    flags: list[dict] = field(default_factory=list)
    # Not flags: [{"label": ..., "evidence": [{"question": ..., "answer": ...}]}] (R18).
    information: list[dict] = field(default_factory=list)
    # [{"key": "psychiatric", "heading": "Psychiatric history", "answers": [PacketAnswer]}, ...]
    history: list[dict] = field(default_factory=list)
    # [{"key": "phq9", "label": "PHQ-9 (depression)", "rows": [PacketScore, ...]}, ...]
    scores: list[dict] = field(default_factory=list)
    prepared_on: date | None = None
    prepared_by: str = ""


def referral_packet(*, client: Client, referral: Referral, prepared_by) -> Packet:
    """The allow-listed content of the referral packet. Four queries."""
    intake: Intake | None = latest_submitted(client=client)
    answers = intake.answers if intake else {}
    flags = list(ClientFlag.objects.filter(intake=intake).order_by("code")) if intake else []
    responses = (
        QuestionnaireResponse.objects.filter(client=client, instrument__in=PACKET_INSTRUMENTS)
        .only("instrument", "submitted_at", "total", "band", "item9_score")
        .order_by("-submitted_at", "-id")
    )
    scores: dict[str, list[PacketScore]] = {key: [] for key in PACKET_INSTRUMENTS}
    for response in responses:
        scores[response.instrument].append(
            PacketScore(
                instrument=response.instrument,
                label=Instrument(response.instrument).label,
                submitted_at=response.submitted_at,
                total=response.total,
                band=response.band,
                item9_positive=bool(response.item9_score),
            )
        )
    therapist = referral.referred_by
    return Packet(
        client={name: getattr(client, name) for name in PACKET_CLIENT_FIELDS},
        therapist_name=therapist.get_full_name(),
        therapist_email=therapist.email,
        prescriber=referral.prescriber,
        reason=referral.reason,
        referral_status=referral.get_status_display(),
        intake_submitted_at=intake.submitted_at if intake else None,
        # intake.consent is None, without a query, when there is no consent_id.
        consent_version=intake.consent.version if intake and intake.consent else "",
        consent_signed_at=intake.consent_signed_at if intake else None,
        **{
            name: (answers.get(step) or {}).get(key, "")
            for name, (step, key) in PACKET_INTAKE_ANSWERS.items()
        },
        flags=[
            {"label": flag.get_code_display(), "evidence": list(flag.evidence)} for flag in flags
        ],
        information=[
            {"label": item.label, "evidence": list(item.evidence)}
            for item in information_for(answers)
        ],
        history=_history(answers, {flag.code for flag in flags}) if intake else [],
        scores=[
            {"key": key, "label": Instrument(key).label, "rows": rows}
            for key, rows in scores.items()
        ],
        prepared_on=timezone.localdate(),
        prepared_by=prepared_by.get_full_name(),
    )
