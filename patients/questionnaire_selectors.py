"""Reads about questionnaires and alerts for other pages. Fixed query counts."""

from __future__ import annotations

from django.db.models import QuerySet

from patients.models import Alert, Client, QuestionnaireRequest, QuestionnaireResponse


def latest_scores(*, client: Client) -> dict[str, QuestionnaireResponse]:
    """The newest response per instrument, e.g. {"phq9": <response>, "gad7": <response>}."""
    latest: dict[str, QuestionnaireResponse] = {}
    for response in client.questionnaire_responses.order_by("-submitted_at", "-id")[:50]:
        latest.setdefault(response.instrument, response)
    return latest


def due_requests(*, client: Client) -> QuerySet[QuestionnaireRequest]:
    return client.questionnaire_requests.filter(
        completed_at__isnull=True, cancelled_at__isnull=True
    ).order_by("due_date", "requested_at")


def open_alerts(*, user) -> QuerySet[Alert]:
    """Unacknowledged safety alerts addressed to ``user``."""
    return Alert.objects.filter(recipient=user, acknowledged_at__isnull=True).select_related(
        "client"
    )
