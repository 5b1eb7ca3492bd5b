"""Writes for questionnaires (R19) and safety alerts (R20, R25).

Keyword-only, typed, inside a transaction; the audit rows come from django-auditlog (the models
are registered in patients/audit.py). The total and band are always recomputed here by
patients/scoring.py: a score in the POST is never read. E-mails are outbox rows written in the
same transaction.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from kap_clinic.errors import DomainError
from outbox.models import MessageKind, OutboxMessage
from outbox.services import message_queue
from patients.access import can_change_client, can_view_client
from patients.models import Alert, Client, QuestionnaireRequest, QuestionnaireResponse
from patients.models.questionnaires import Instrument
from patients.questionnaires import scoring

logger = logging.getLogger(__name__)


class QuestionnaireError(DomainError):
    """A rule refused the change; the message is for the clinician or the client."""


class NotRequestedError(QuestionnaireError):
    """The client has nothing of this questionnaire to fill in (already done, or not asked)."""


def _instrument(value: str) -> str:
    if value not in Instrument.values:
        raise QuestionnaireError("Choose one of the questionnaires offered.")
    return value


def _require_staff_change(by: User, client: Client) -> None:
    if not can_change_client(by, client):
        raise QuestionnaireError("You cannot change this client's record.")
    if client.is_archived:
        raise QuestionnaireError("This record is archived. Restore it before making changes.")


# --- Requests -----------------------------------------------------------------------------------


def questionnaire_request(
    *, client: Client, instrument: str, by: User, due_date: date | None = None
) -> QuestionnaireRequest:
    """R19: staff ask the client to complete a questionnaire (before a dosing session, at course
    end); it shows as due in the portal. One open request per client and questionnaire."""
    _require_staff_change(by, client)
    instrument = _instrument(instrument)
    if due_date is not None and due_date < timezone.localdate():
        raise QuestionnaireError("The due date cannot be in the past.")
    try:
        with transaction.atomic():
            return QuestionnaireRequest.objects.create(
                client=client, instrument=instrument, requested_by=by, due_date=due_date
            )
    except IntegrityError as error:
        # The partial unique index "questionnaire_one_open_request" (a race-proof check).
        name = scoring.definition(instrument).name
        raise QuestionnaireError(
            f"A {name} is already waiting for this client. Cancel it first to change its due date."
        ) from error


@transaction.atomic
def questionnaire_request_cancel(
    *, questionnaire_request: QuestionnaireRequest, by: User
) -> QuestionnaireRequest:
    """R24: a request is cancelled, never deleted; the portal stops showing it as due."""
    _require_staff_change(by, questionnaire_request.client)
    locked = QuestionnaireRequest.objects.select_for_update().get(pk=questionnaire_request.pk)
    if locked.completed_at or locked.cancelled_at:
        raise QuestionnaireError("This request is no longer open.")
    locked.cancelled_at = timezone.now()
    locked.save()
    return locked


# --- Responses ----------------------------------------------------------------------------------


def client_may_start(*, client: Client, instrument: str) -> bool:
    """What a client may fill in on the portal: anything the clinic has requested, and a first
    PHQ-9 and GAD-7 (R19: "given at intake") without waiting for a request. Later ones come on
    request, so the therapist decides when the measures are repeated."""
    open_request = client.questionnaire_requests.filter(
        instrument=instrument, completed_at__isnull=True, cancelled_at__isnull=True
    )
    if open_request.exists():
        return True
    if instrument in (Instrument.PHQ9, Instrument.GAD7):
        return not client.questionnaire_responses.filter(instrument=instrument).exists()
    return False


def questionnaire_submit(
    *,
    client: Client,
    instrument: str,
    answers: list[int],
    by: User,
    request: QuestionnaireRequest | None = None,
    base_url: str = "",
) -> QuestionnaireResponse:
    """Store a completed questionnaire (R19) with its server-computed score.

    ``by`` is the client in the portal, or staff entering the answers in session on the client's
    behalf. ``request`` is the clinic's request being answered; when None, the open request for
    this questionnaire (if any) is completed. R20: a PHQ-9 item 9 answered 1 or more alerts the
    client's therapists at once. ``base_url`` makes the link in the alert e-mail absolute.
    """
    instrument = _instrument(instrument)
    is_own = by.is_client and client.user_id == by.pk
    if is_own:
        if client.is_archived or not by.is_active:
            raise QuestionnaireError("Your portal is closed. Please contact the clinic.")
    else:
        _require_staff_change(by, client)
    try:
        result = scoring.score(instrument, answers)
    except ValueError as error:
        raise QuestionnaireError(str(error)) from error

    with transaction.atomic():
        # One submission at a time per client: a double tap on "Send" must not store (and alert)
        # twice. The second one finds the request completed and is refused.
        Client.objects.select_for_update().filter(pk=client.pk).values_list("pk").first()
        if is_own and not client_may_start(client=client, instrument=instrument):
            raise NotRequestedError("This questionnaire has not been requested by the clinic.")
        open_request = _open_request(client=client, instrument=instrument, request=request)
        response = QuestionnaireResponse.objects.create(
            client=client,
            instrument=instrument,
            answers=list(answers),
            total=result.total,
            band=result.band,
            item9_score=result.item9,
            request=open_request,
            entered_by=by,
        )
        if open_request is not None:
            open_request.completed_at = response.submitted_at
            open_request.save()
        if result.item9_positive:
            _raise_item9_alerts(response=response, by=by, base_url=base_url)
    return response


def _open_request(
    *, client: Client, instrument: str, request: QuestionnaireRequest | None
) -> QuestionnaireRequest | None:
    """The open request this response completes, locked; None when there is none."""
    open_requests = QuestionnaireRequest.objects.select_for_update().filter(
        client=client, instrument=instrument, completed_at__isnull=True, cancelled_at__isnull=True
    )
    if request is None:
        return open_requests.first()
    locked = open_requests.filter(pk=request.pk).first()
    if locked is None:
        raise QuestionnaireError("This questionnaire request is no longer open.")
    return locked


def alert_recipients(*, client: Client) -> list[User]:
    """R20: the client's primary therapist and the therapists it is shared with (share not
    revoked), active accounts only. With none of those, the clinic's admins, so that an alert is
    never addressed to nobody."""
    therapists = list(
        User.objects.filter(is_active=True, role=Role.THERAPIST)
        .filter(
            Q(pk=client.primary_therapist_id)
            | Q(shared_clients__client=client, shared_clients__revoked_at__isnull=True)
        )
        .distinct()
        .order_by("pk")
    )
    if therapists:
        return therapists
    return list(User.objects.filter(is_active=True, role=Role.ADMIN).order_by("pk"))


def _raise_item9_alerts(*, response: QuestionnaireResponse, by: User, base_url: str) -> None:
    """R20: an alert for each of the client's therapists, and (but for the one who entered it in
    session) its e-mail in the outbox, in the same transaction as the answers: no broker, no
    mail server can lose it."""
    for recipient in alert_recipients(client=response.client):
        alert = Alert.objects.create(
            kind=Alert.Kind.PHQ9_ITEM9,
            client=response.client,
            recipient=recipient,
            response=response,
        )
        if recipient.pk == by.pk:
            continue  # entered in session by this therapist: they know already; no e-mail
        if not recipient.email:
            continue
        alert.message = _alert_message(alert=alert, base_url=base_url or settings.SITE_URL)
        alert.save(update_fields=["message"])


def _alert_message(*, alert: Alert, base_url: str) -> OutboxMessage:
    """R20/R25: that there is something to review, and nothing more: no client name, no score,
    no medication."""
    context = {
        "first_name": alert.recipient.first_name,
        "clinic": settings.CLINIC_NAME,
        "link": base_url + reverse("patients:alerts:alert_list"),
    }
    return message_queue(
        kind=MessageKind.SAFETY_ALERT,
        to=alert.recipient.email,
        subject=render_to_string("emails/alert_subject.txt", context).strip(),
        text=render_to_string("emails/alert_body.txt", context),
        client=alert.client,
        expires_at=timezone.now() + timedelta(hours=settings.OUTBOX_ALERT_HOURS),
    )


# --- Alerts -------------------------------------------------------------------------------------


@transaction.atomic
def alert_acknowledge(*, alert: Alert, by: User) -> Alert:
    """R20: the recipient (or an admin) confirms they have seen the alert; who and when are kept.
    Only staff who can see the client may acknowledge."""
    if not by.is_clinic_staff or not can_view_client(by, alert.client):
        raise QuestionnaireError("You cannot acknowledge this alert.")
    if alert.recipient_id != by.pk and not by.is_admin:
        raise QuestionnaireError("This alert is addressed to another therapist.")
    locked = Alert.objects.select_for_update().get(pk=alert.pk)
    if locked.acknowledged_at is not None:
        raise QuestionnaireError("This alert was already acknowledged.")
    locked.acknowledged_at = timezone.now()
    locked.acknowledged_by = by
    locked.save()
    return locked
