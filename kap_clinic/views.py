"""Project-level views: where each role lands after signing in, and the health check."""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from kap_clinic.celery import app

logger = logging.getLogger(__name__)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Everyone signs in on the same page and lands on their own home."""
    if request.user.is_client:
        return redirect("portal:home")
    return redirect("patients:client_list")


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.exception("healthz: database check failed")
        return False


def _broker_ok() -> bool:

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        logger.exception("healthz: broker check failed")
        return False


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers and compose healthchecks: 200 when the database and the Celery broker
    answer, 503 otherwise. Says nothing else about the installation."""
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    status = 200 if all(checks.values()) else 503
    return JsonResponse(
        {name: "ok" if ok else "error" for name, ok in checks.items()}, status=status
    )
