"""Reads about questionnaires (R19) and safety alerts (R20). Each runs a fixed number of queries
whatever the data size; pages call them, never the ORM directly."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import OuterRef, QuerySet, Subquery

from patients.access import visible_rows
from patients.models import Alert, Client, QuestionnaireRequest, QuestionnaireResponse
from patients.models.questionnaires import Instrument
from patients.questionnaires import scoring

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from accounts.models import User


def latest_scores(*, client: Client) -> dict[str, QuestionnaireResponse]:
    """The newest response per instrument, e.g. {"phq9": <response>, "gad7": <response>}, in
    the order PHQ-9, GAD-7, PCL-5. One query."""
    newest = (
        QuestionnaireResponse.objects.filter(
            client=OuterRef("client"), instrument=OuterRef("instrument")
        )
        .order_by("-submitted_at", "-id")
        .values("pk")[:1]
    )
    responses = QuestionnaireResponse.objects.filter(client=client, pk=Subquery(newest))
    by_instrument = {response.instrument: response for response in responses}
    return {key: by_instrument[key] for key in Instrument.values if key in by_instrument}


def due_requests(*, client: Client) -> QuerySet[QuestionnaireRequest]:
    return client.questionnaire_requests.filter(
        completed_at__isnull=True, cancelled_at__isnull=True
    ).order_by("due_date", "requested_at")


def baseline_instruments(*, client: Client) -> list[str]:
    """PHQ-9 / GAD-7 the client has never completed and has no request for: offered in the portal
    without a request (R19 "given at intake"). One query."""
    responded = (
        QuestionnaireResponse.objects.filter(client=client)
        .values_list("instrument", flat=True)
        .order_by()
    )
    requested = due_requests(client=client).values_list("instrument", flat=True).order_by()
    seen = set(responded.union(requested))
    return [key for key in (Instrument.PHQ9, Instrument.GAD7) if key not in seen]


def portal_todo(*, client: Client) -> list[dict]:
    """What the portal shows as "to do": requested questionnaires first (by due date), then the
    first PHQ-9 / GAD-7. Each item: instrument key, name, title, due date, the request or None."""
    items = [
        {
            "instrument": request.instrument,
            "name": scoring.definition(request.instrument).name,
            "title": scoring.definition(request.instrument).title,
            "due_date": request.due_date,
            "request": request,
            "questions": len(scoring.definition(request.instrument).items),
        }
        for request in due_requests(client=client)
    ]
    requested = {item["instrument"] for item in items}
    for key in baseline_instruments(client=client):
        if key not in requested:
            spec = scoring.definition(key)
            items.append(
                {
                    "instrument": key,
                    "name": spec.name,
                    "title": spec.title,
                    "due_date": None,
                    "request": None,
                    "questions": len(spec.items),
                }
            )
    return items


def client_history(*, client: Client) -> list[dict]:
    """Every response of ``client``, grouped by instrument (PHQ-9, GAD-7, PCL-5 order, only those
    with responses), newest first, with who entered each. One query."""
    responses = client.questionnaire_responses.select_related("entered_by").order_by(
        "-submitted_at", "-id"
    )
    grouped: dict[str, list[QuestionnaireResponse]] = {}
    for response in responses:
        grouped.setdefault(response.instrument, []).append(response)
    return [
        {
            "instrument": key,
            "definition": scoring.definition(key),
            "label": Instrument(key).label,
            "responses": grouped[key],
        }
        for key in Instrument.values
        if key in grouped
    ]


def own_history(*, client: Client) -> QuerySet[QuestionnaireResponse]:
    """The portal's "your past questionnaires": totals and bands only, no answers."""
    return client.questionnaire_responses.only(
        "id", "instrument", "total", "band", "submitted_at", "client_id"
    ).order_by("-submitted_at", "-id")


def response_for_client(*, client: Client, response_id: int) -> QuestionnaireResponse | None:
    return (
        client.questionnaire_responses.select_related("entered_by", "request")
        .filter(pk=response_id)
        .first()
    )


def response_items(response: QuestionnaireResponse) -> list[dict]:
    """Each question with the answer given, for the detail page. No query."""
    spec = scoring.definition(response.instrument)
    return [
        {
            "number": number,
            "text": text,
            "value": value,
            "label": scoring.answer_label(response.instrument, value),
            "safety": response.instrument == Instrument.PHQ9 and number == scoring.ITEM9_INDEX + 1,
        }
        for number, (text, value) in enumerate(zip(spec.items, response.answers, strict=False), 1)
    ]


# --- Alerts -------------------------------------------------------------------------------------


def _alerts_for(user: User | AnonymousUser) -> QuerySet[Alert]:
    """Alerts ``user`` may act on: admins all; therapists those addressed to them, for clients
    they can still see (a revoked share hides the client's alerts too)."""
    if not user.is_authenticated or not user.is_active or not user.is_clinic_staff:
        return Alert.objects.none()
    alerts = visible_rows(user, Alert.objects.all())
    if not user.is_admin:
        alerts = alerts.filter(recipient=user)
    return alerts


def open_alerts(*, user) -> QuerySet[Alert]:
    """Unacknowledged safety alerts for ``user`` (admins: all of them), newest first."""
    return (
        _alerts_for(user)
        .filter(acknowledged_at__isnull=True)
        .select_related("client", "recipient", "response")
        .order_by("-created_at", "-id")
    )


def open_alert_rows(*, user) -> QuerySet[Alert]:
    """R20: the open safety alerts ``user`` is shown (the navbar's count)."""
    return _alerts_for(user).filter(acknowledged_at__isnull=True)


def open_alert_count(*, user) -> int:
    """One COUNT query."""
    return open_alert_rows(user=user).count()


def recently_acknowledged(*, user, limit: int = 20) -> QuerySet[Alert]:
    return (
        _alerts_for(user)
        .filter(acknowledged_at__isnull=False)
        .select_related("client", "recipient", "acknowledged_by", "response")
        .order_by("-acknowledged_at", "-id")[:limit]
    )


def alert_for_user(*, user, alert_id: int) -> Alert | None:
    return _alerts_for(user).select_related("client").filter(pk=alert_id).first()


def client_open_alert_count(*, user, client: Client) -> int:
    return _alerts_for(user).filter(client=client, acknowledged_at__isnull=True).count()
