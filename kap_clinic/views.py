"""Project-level views: where each role lands after signing in, the help page, and the health
check."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from clinic import settings_reader
from kap_clinic.celery import app

logger = logging.getLogger(__name__)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Everyone signs in on the same page and lands on their own home."""
    if request.user.is_client:
        return redirect("portal:home")
    return redirect("patients:client_list")


@login_required
@require_GET
def help_page(request: HttpRequest) -> HttpResponse:
    """Help for whoever is signed in: how sign-in and sign-out work, where things are for their
    role, and how to reach the clinic (a client) or what to do about a lost phone (staff).

    It reads nothing of its own from the database: the user is already loaded by the middleware
    and the clinic settings are the cached ones the base layout reads anyway. That makes it the
    benchmark's floor page (docs/benchmarks.md): the cost of the base layout through the whole
    middleware stack, against which every other page is measured. A query added here moves the
    floor of every ratio; tests/kap_clinic/test_help_page.py holds it to the base layout's."""
    clinic = settings_reader.current()
    return render(
        request,
        "help.html",
        {
            "idle_minutes": clinic.idle_timeout_seconds // 60,
            "session_hours": settings.SESSION_COOKIE_AGE // 3600,
            "clinic_phone": clinic.clinic_phone,
            "reply_to_email": clinic.reply_to_email,
            "self_booking_url": clinic.self_booking_url,
            "crisis_line": settings.CRISIS_LINE,
            "integration_alert_hours": settings.INTEGRATION_ALERT_HOURS,
        },
    )


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
