"""The therapist's calendar feed: a staff page to make, replace or turn off the secret address,
and the public iCal feed itself (no sign-in: the unguessable token is the credential; an unknown
or revoked token is a 404).

R25: an event says only the session kind and the client's initials ("Preparation session ·
M.P."), with the time and the room; no name, no medication, no notes, no telehealth link."""

from __future__ import annotations

from datetime import UTC
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from icalendar import Calendar, Event

from accounts.access import staff_required
from kap_clinic.errors import DomainError
from sessions.calendar import feed_services as services
from sessions.models import Session


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
        {"feed": services.active_feed(therapist=request.user), "new_url": new_url},
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


def _summary(session: Session) -> str:
    # R25: the kind and the initials, nothing else.
    return f"{session.get_kind_display()} session · {session.client.initials}"


def _utc(moment):
    return moment.astimezone(UTC)


@require_GET
def feed_ics(request: HttpRequest, token: str) -> HttpResponse:
    found = services.feed_events(token=token)
    if found is None:
        raise Http404
    _therapist, sessions = found
    host = request.get_host().split(":")[0]
    calendar = Calendar()
    calendar.add("prodid", f"-//{settings.CLINIC_NAME}//Sessions//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", settings.CLINIC_NAME)
    calendar.add("x-published-ttl", "PT1H")
    stamp = _utc(timezone.now())
    for session in sessions:
        event = Event()
        event.add("uid", f"session-{session.pk}@{host}")
        event.add("dtstamp", stamp)
        event.add("dtstart", _utc(session.starts_at))
        event.add("dtend", _utc(session.ends_at))
        event.add("summary", _summary(session))
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
