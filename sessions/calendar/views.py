"""The therapist's calendar: a week (or a day) of sessions in the clinic's time zone, and booking a
session from an empty slot. Therapists see their own sessions; an admin sees everyone's or picks
a therapist. Only sessions of clients the user may see are shown (patients.access)."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from accounts.access import staff_required
from patients.access import client_for_view, visible_clients
from sessions.calendar import selectors
from sessions.scheduling.forms import SessionForm, parse_start
from sessions.scheduling.views import book, booked_message, form_context


def _day(value: str | None) -> date:
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        return timezone.localdate()


def _therapist_id(request: HttpRequest, therapists) -> int | None:
    """An admin's picked therapist (None: everyone). Therapists always see their own."""
    if not request.user.is_admin:
        return None
    try:
        wanted = int(request.GET.get("therapist", ""))
    except ValueError:
        return None
    return wanted if any(t.pk == wanted for t in therapists) else None


@staff_required
@vary_on_headers("HX-Request")
def week(request: HttpRequest) -> HttpResponse:
    day = _day(request.GET.get("date"))
    view = "day" if request.GET.get("view") == "day" else "week"
    show_cancelled = request.GET.get("cancelled") == "1"
    therapists = list(selectors.picker_therapists()) if request.user.is_admin else []
    therapist_id = _therapist_id(request, therapists)
    first = day if view == "day" else selectors.week_start(day)
    step = timedelta(days=1 if view == "day" else 7)
    calendar = selectors.calendar_week(
        user=request.user,
        first=first,
        days=1 if view == "day" else 7,
        therapist_id=therapist_id,
        show_cancelled=show_cancelled,
    )

    def link(**changes) -> str:
        params = {
            "date": day.isoformat(),
            "view": view,
            "therapist": therapist_id or "",
            "cancelled": "1" if show_cancelled else "",
            **changes,
        }
        query = urlencode({k: v for k, v in params.items() if v not in ("", None)})
        return f"{reverse('calendar:week')}?{query}"

    today = timezone.localdate()
    context = {
        "calendar": calendar,
        "view": view,
        "day": day,
        "today": today,
        "shows_today": calendar.first <= today <= calendar.last,
        "show_cancelled": show_cancelled,
        "therapists": therapists,
        "therapist_id": therapist_id,
        "all_therapists": request.user.is_admin and therapist_id is None,
        "time_zone": settings.TIME_ZONE,
        "links": {
            "previous": link(date=(first - step).isoformat()),
            "today": link(date=today.isoformat()),
            "next": link(date=(first + step).isoformat()),
            "week": link(view="week"),
            "day": link(view="day"),
            "cancelled": link(cancelled="" if show_cancelled else "1"),
        },
        "day_headers": [(d, link(date=d.isoformat(), view="day")) for d in calendar.days],
    }
    partial = request.htmx and not request.htmx.history_restore_request
    return render(request, "calendar/_calendar.html" if partial else "calendar/week.html", context)


@staff_required
@require_http_methods(["GET", "POST"])
def new(request: HttpRequest) -> HttpResponse:
    """Book a session from the calendar: the client is chosen among those the user may see."""
    clients = (
        visible_clients(request.user)
        .active()
        .select_related(None)
        .order_by("last_name", "first_name")
    )
    if request.method == "POST":
        form = SessionForm(request.POST, clients=clients)
        if form.is_valid():
            # The access policy again, and the view is recorded against the chosen client (R22).
            client = client_for_view(
                request, form.cleaned_data["client"].pk, page="Schedule a session", for_change=True
            )
            session = book(request, form, client)
            if session is not None:
                messages.success(request, booked_message(session))
                return redirect(session)
    else:
        initial = {**parse_start(request.GET.get("start")), "kind": request.GET.get("kind", "")}
        client_id = request.GET.get("client", "")
        if client_id.isdigit() and clients.filter(pk=client_id).exists():
            initial["client"] = int(client_id)
        form = SessionForm(initial=initial, clients=clients)
    back = reverse("calendar:week")
    if form.initial.get("date"):
        back += f"?date={form.initial['date'].isoformat()}"
    return render(
        request, "sessions/session_form.html", {"client": None, "back": back, **form_context(form)}
    )
