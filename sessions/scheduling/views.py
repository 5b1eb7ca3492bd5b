"""A client's sessions (R2, R3, R6, R7, R9): the list, booking, the session page, reschedule,
cancel and marking completed / no-show. Every page goes through the access policy
(client_for_view); every change goes through scheduling.services, which checks the rules again."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import staff_required
from kap_clinic import formats
from kap_clinic.errors import DomainError, add_refusal
from patients.access import client_for_view
from patients.models import Client
from sessions.models import Session, SessionKind, SessionStatus
from sessions.notes.selectors import notes_for
from sessions.scheduling import selectors, services
from sessions.scheduling.forms import (
    CancelForm,
    RescheduleForm,
    SessionForm,
    StatusForm,
    parse_start,
)


def _session_or_404(client: Client, session_id: int) -> Session:
    session = selectors.session_for_client(client=client, session_id=session_id)
    if session is None:
        raise Http404
    return session


def booked_message(session: Session) -> str:
    local = timezone.localtime(session.starts_at)
    return (
        f"{session.get_kind_display()} session booked with {session.client.full_name} on "
        f"{formats.weekday_day(local)} at {formats.clock(local)}."
    )


def book(request: HttpRequest, form: SessionForm, client: Client) -> Session | None:
    """Run the booking service for a valid ``form``; on a refusal put the message on the form
    (everything typed stays) and return None. R7: the integration warning re-shows the form with
    the box to tick."""
    try:
        return services.session_schedule(
            client=client, kind=form.cleaned_data["kind"], by=request.user, **form.service_kwargs()
        )
    except services.IntegrationWarning as warning:
        form.require_acknowledgement(str(warning))
    except DomainError as error:
        add_refusal(form, error)
    return None


def form_context(form) -> dict:
    return {"form": form, "time_zone": settings.TIME_ZONE}


@staff_required
def session_list(request: HttpRequest, client_id: int) -> HttpResponse:
    client = client_for_view(request, client_id, page="Sessions")
    return render(
        request,
        "sessions/session_list.html",
        {"client": client, "sessions": selectors.client_sessions(client=client)},
    )


@staff_required
@require_http_methods(["GET", "POST"])
def session_create(request: HttpRequest, client_id: int) -> HttpResponse:
    client = client_for_view(request, client_id, page="Schedule a session", for_change=True)
    if request.method == "POST":
        form = SessionForm(request.POST)
        if form.is_valid():
            session = book(request, form, client)
            if session is not None:
                messages.success(request, booked_message(session))
                return redirect(session)
    else:
        initial = {"kind": request.GET.get("kind", ""), **parse_start(request.GET.get("start"))}
        form = SessionForm(initial=initial)
    return render(request, "sessions/session_form.html", {"client": client, **form_context(form)})


def _dosing_chart_url(session: Session) -> str | None:
    """The dosing chart is another piece of work: link to it once its page exists."""
    if session.kind != SessionKind.DOSING:
        return None
    return reverse(
        "patients:sessions:dosing_chart",
        kwargs={"client_id": session.client_id, "session_id": session.pk},
    )


def _detail_page(
    request: HttpRequest, session: Session, *, cancel_form: CancelForm | None = None, status=200
) -> HttpResponse:
    context = {
        "client": session.client,
        "session": session,
        "local_start": timezone.localtime(session.starts_at),
        "local_end": timezone.localtime(session.ends_at),
        "time_zone": settings.TIME_ZONE,
        "status_change": selectors.status_change(session=session),
        "dosing_chart_url": _dosing_chart_url(session),
        "cancel_form": cancel_form or CancelForm(),
        "cancel_failed": cancel_form is not None,
        "can_mark": session.is_open and session.starts_at <= timezone.now(),
        **notes_for(session=session, user=request.user),
    }
    return render(request, "sessions/session_detail.html", context, status=status)


@staff_required
def session_detail(request: HttpRequest, client_id: int, session_id: int) -> HttpResponse:
    client = client_for_view(request, client_id, page="Session")
    return _detail_page(request, _session_or_404(client, session_id))


@staff_required
@require_http_methods(["GET", "POST"])
def session_reschedule(request: HttpRequest, client_id: int, session_id: int) -> HttpResponse:
    client = client_for_view(request, client_id, page="Reschedule a session", for_change=True)
    session = _session_or_404(client, session_id)
    if not session.is_open:
        messages.error(
            request,
            f"This session is {session.get_status_display().lower()} and can no longer be moved.",
        )
        return redirect(session)
    form = RescheduleForm(request.POST or None, session=session)
    if request.method == "POST" and form.is_valid():
        kwargs = form.service_kwargs()
        try:
            moved = services.session_reschedule(session=session, by=request.user, **kwargs)
        except services.IntegrationWarning as warning:
            form.require_acknowledgement(str(warning))
        except DomainError as error:
            add_refusal(form, error)
        else:
            local = timezone.localtime(moved.starts_at)
            messages.success(
                request,
                f"Session moved to {formats.weekday_day(local)} at {formats.clock(local)}.",
            )
            return redirect(moved)
    return render(
        request,
        "sessions/session_form.html",
        {"client": client, "session": session, **form_context(form)},
    )


@staff_required
@require_POST
def session_cancel(request: HttpRequest, client_id: int, session_id: int) -> HttpResponse:
    client = client_for_view(request, client_id, page="Cancel a session", for_change=True)
    session = _session_or_404(client, session_id)
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            services.session_cancel(
                session=session, reason=form.cleaned_data["reason"], by=request.user
            )
        except DomainError as error:
            add_refusal(form, error)
        else:
            messages.success(request, "The session was cancelled. Its time is free again.")
            return redirect(session)
    return _detail_page(request, session, cancel_form=form)


@staff_required
@require_POST
def session_status(request: HttpRequest, client_id: int, session_id: int) -> HttpResponse:
    client = client_for_view(request, client_id, page="Mark a session", for_change=True)
    session = _session_or_404(client, session_id)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose completed or no-show.")
        return redirect(session)
    status = form.cleaned_data["status"]
    try:
        services.session_mark(session=session, status=status, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            "The session is marked completed."
            if status == SessionStatus.COMPLETED
            else "The session is marked as a no-show.",
        )
    return redirect(session)
