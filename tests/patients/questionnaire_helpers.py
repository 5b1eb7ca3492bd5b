"""Shared helpers for the questionnaire and alert tests (R19, R20)."""

from __future__ import annotations

import pytest

from kap_clinic.celery import app
from patients.models import QuestionnaireRequest
from patients.questionnaires import services

# A PHQ-9 totalling 12 ("moderate") with item 9 = 1.
PHQ9_ITEM9 = [2, 2, 1, 1, 1, 2, 1, 1, 1]
# A PHQ-9 totalling 6 ("mild") with item 9 = 0.
PHQ9_CALM = [1, 1, 1, 1, 1, 1, 0, 0, 0]
GAD7_MILD = [1, 1, 1, 1, 1, 1, 0]  # 6, mild


def post_data(answers: list[int], **extra) -> dict:
    return {f"item_{n}": str(value) for n, value in enumerate(answers, start=1)} | extra


def request_for(client_record, instrument: str, by, **kwargs) -> QuestionnaireRequest:
    return services.questionnaire_request(
        client=client_record, instrument=instrument, by=by, **kwargs
    )


def submit(client_record, instrument: str, answers: list[int], by=None, **kwargs):
    return services.questionnaire_submit(
        client=client_record,
        instrument=instrument,
        answers=answers,
        by=by or client_record.user,
        **kwargs,
    )


@pytest.fixture
def eager_celery():
    """Tasks queued with .delay() run in this process, at once (Celery's own eager mode), so
    nothing is published to a broker from the test suite."""
    old = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = old
