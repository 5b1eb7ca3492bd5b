"""The client's dosing-day page in the portal (phone-first): the clinic's checklist and the
chaperone who takes them home (R15). Only the client's own dosing sessions still to come; any
other id is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.access import client_required
from kap_clinic import formats
from patients.clients.validators import format_phone
from patients.record_access import own_record_for_page
from sessions.dosing import day
from sessions.dosing.day_forms import DosingDayForm
from sessions.models import DosingDayConfirmation


@client_required
@require_http_methods(["GET", "POST"])
def dosing_day(request: HttpRequest, session_id: int) -> HttpResponse:
    client = own_record_for_page(request, page="Portal dosing day")
    if client is None:
        raise Http404
    session = day.upcoming_dosing_session(client=client, session_id=session_id)
    if session is None:
        raise Http404
    session.client = client
    confirmed: DosingDayConfirmation | None = getattr(session, "dosing_day", None)
    zone = client.zone
    if confirmed is not None and confirmed.chaperone_confirmed:
        assert confirmed.pickup_at is not None  # a confirmed chaperone has a time (constraint)
        initial = {
            "checklist_read": confirmed.checklist_read_at is not None,
            "name": confirmed.chaperone_name,
            "phone": format_phone(confirmed.chaperone_phone),
            "pickup": confirmed.pickup_at.astimezone(zone).time(),
        }
    else:
        # The chaperone confirmed before the session moved, else the client's default one.
        known = confirmed if confirmed is not None and confirmed.chaperone_name else client
        initial = {
            "name": known.chaperone_name,
            "phone": format_phone(known.chaperone_phone),
            "pickup": session.ends_at.astimezone(zone).time(),
        }
    form = DosingDayForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            data = form.cleaned_data
            day.dosing_day_confirm(
                session=session,
                by=request.user,
                checklist_read=data["checklist_read"],
                chaperone_name=data["name"],
                chaperone_phone=data["phone"],
                pickup=data["pickup"],
            )
        except day.DosingDayError as error:
            form.add_error(error.field, str(error))
        else:
            messages.success(request, "Thank you. Your therapist can see who is picking you up.")
            return redirect("portal:dosing_day:confirm", session_id=session.pk)
    local = session.starts_at.astimezone(zone)
    return render(
        request,
        "portal/dosing_day.html",
        {
            "client": client,
            "session": session,
            "confirmed": confirmed if confirmed and confirmed.chaperone_confirmed else None,
            "form": form,
            "checklist": day.checklist(),
            "day": formats.weekday_day_long(local),
            "time": formats.clock(local),
            "until": formats.clock(session.ends_at.astimezone(zone)),
            "earliest_pickup": formats.clock(day.earliest_pickup(session).astimezone(zone)),
            "zone": zone,
        },
    )
