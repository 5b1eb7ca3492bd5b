"""The therapist's calendar: a week (or a day) of sessions in the clinic's time zone, and booking a
session from an empty slot. Therapists see their own sessions; an admin sees everyone's or picks
a therapist. Only sessions of clients the user may see are shown (patients.access).

The therapist's calendar feed: a staff page to make, replace or turn off its secret address, and
the public iCal feed itself (no sign-in: the unguessable token is the credential; an unknown or
revoked token is a 404). R25: an event says "Session · M.P." (the kind too, "Preparation session
· M.P.", where the clinic turned it on in Clinic settings), with the time and the room; no name,
no medication, no notes, no telehealth link."""

from __future__ import annotations

from datetime import UTC, date, timedelta
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from icalendar import Calendar, Event

from accounts.access import staff_required
from audit.services import access_record_list
from clinic import settings_reader
from kap_clinic.errors import DomainError
from kap_clinic.fields import within_dates
from patients.access import client_for_view, visible_clients
from sessions.calendar import selectors, services
from sessions.models import Session
from sessions.scheduling.forms import SessionForm, parse_start
from sessions.scheduling.views import book, booked_message, form_context


def _day(value: str | None) -> date:
    """The day in the address (?date=), held within the dates a record can have; today if none
    or unreadable."""
    try:
        return within_dates(date.fromisoformat(value or ""))
    except ValueError:
        return timezone.localdate()


def _number(value: str | None) -> int:
    """A page number from the address; 1 if none or unreadable."""
    try:
        return int(value or "1")
    except ValueError:
        return 1


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
    group = None
    if request.user.is_admin and therapist_id is None:
        group = selectors.therapist_group(therapists, _number(request.GET.get("group")))
    first = day if view == "day" else selectors.week_start(day)
    step = timedelta(days=1 if view == "day" else 7)
    calendar = selectors.calendar_week(
        user=request.user,
        first=first,
        days=1 if view == "day" else 7,
        therapist_id=therapist_id,
        therapist_ids=group.ids if group else None,
        show_cancelled=show_cancelled,
    )

    def link(**changes) -> str:
        params = {
            "date": day.isoformat(),
            "view": view,
            "therapist": therapist_id or "",
            "group": group.number if group and group.number > 1 else "",
            "cancelled": "1" if show_cancelled else "",
            **changes,
        }
        query = urlencode({k: v for k, v in params.items() if v not in ("", None)})
        return f"{reverse('calendar:week')}?{query}"

    access_record_list(
        request=request,
        client_ids=[entry.session.client_id for entry in calendar.entries],
        page="Calendar",
    )
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
        "group": group,
        "time_zone": settings.TIME_ZONE,
        "links": {
            "previous": link(date=(first - step).isoformat()),
            "today": link(date=today.isoformat()),
            "next": link(date=(first + step).isoformat()),
            "week": link(view="week"),
            "day": link(view="day"),
            "group_previous": link(group=group.number - 1) if group and group.number > 1 else "",
            "group_next": link(group=group.number + 1)
            if group and group.number < group.count
            else "",
            "cancelled": link(cancelled="" if show_cancelled else "1"),
        },
        "day_headers": [(d, link(date=d.isoformat(), view="day")) for d in calendar.days],
        "new_url": reverse("calendar:new"),
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


# --- The calendar feed (R25): the staff page for its secret address, and the public iCal feed ---


def _therapist_required(view):
    """Therapists only, checked before the method: admins have no feed of their own (they are not
    therapists) and get a 404 like anyone else for whom the page does not exist."""

    @staff_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_therapist:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


def _page(request: HttpRequest, *, new_url: str = "") -> HttpResponse:
    response = render(
        request,
        "calendar/feed.html",
        {
            "feed": services.active_feed(therapist=request.user),
            "new_url": new_url,
            "shows_kind": settings_reader.current().calendar_feed_shows_kind,
        },
    )
    # The address is shown once: keep it out of the browser's cache and history snapshots.
    response["Cache-Control"] = "no-store"
    return response


@_therapist_required
@require_GET
def feed_page(request: HttpRequest) -> HttpResponse:
    return _page(request)


@_therapist_required
@require_POST
def feed_create(request: HttpRequest) -> HttpResponse:
    try:
        _feed, token = services.feed_create(therapist=request.user, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
        return redirect("calendar:feed")
    url = request.build_absolute_uri(reverse("calendar:feed_ics", kwargs={"token": token}))
    # Rendered, not redirected: the token exists only in this response.
    return _page(request, new_url=url)


@_therapist_required
@require_POST
def feed_revoke(request: HttpRequest) -> HttpResponse:
    try:
        turned_off = services.feed_revoke(therapist=request.user, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        if turned_off:
            messages.success(
                request,
                "Your calendar link is turned off. Calendars subscribed to it stop updating.",
            )
    return redirect("calendar:feed")


def _summary(session: Session, *, shows_kind: bool) -> str:
    # R25: "Session" and the initials, nothing else; the kind only where the clinic chose it.
    what = f"{session.get_kind_display()} session" if shows_kind else "Session"
    return f"{what} · {session.client.initials}"


def _utc(moment):
    return moment.astimezone(UTC)


@require_GET
def feed_ics(request: HttpRequest, token: str) -> HttpResponse:
    found = services.feed_events(token=token)
    if found is None:
        raise Http404
    therapist, sessions = found
    sessions = list(sessions)
    # Read by a calendar app with the therapist's secret address: their view of these clients.
    access_record_list(
        request=request,
        client_ids=[session.client_id for session in sessions],
        page="Calendar feed",
        user=therapist,
    )
    host = request.get_host().split(":")[0]
    calendar = Calendar()
    calendar.add("prodid", f"-//{settings.CLINIC_NAME}//Sessions//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", settings.CLINIC_NAME)
    calendar.add("x-published-ttl", "PT1H")
    stamp = _utc(timezone.now())
    shows_kind = settings_reader.current().calendar_feed_shows_kind
    for session in sessions:
        event = Event()
        event.add("uid", f"session-{session.pk}@{host}")
        event.add("dtstamp", stamp)
        event.add("dtstart", _utc(session.starts_at))
        event.add("dtend", _utc(session.ends_at))
        event.add("summary", _summary(session, shows_kind=shows_kind))
        event.add("status", "CONFIRMED")
        if session.location:
            event.add("location", session.location)
        elif session.telehealth_url:
            event.add("location", "Telehealth")
        calendar.add_component(event)
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="sessions.ics"'
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
