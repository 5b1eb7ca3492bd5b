"""The client portal (phone-first). Clients only ever see their own record; staff get a 404.
The invitation page is public: it is where a client without a login sets their password."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import client_required
from clinic import settings_reader
from kap_clinic.errors import DomainError, add_refusal
from kap_clinic.token_pages import token_page
from patients.clients import reminder_choice, services
from patients.clients.forms import SetPasswordForm
from patients.models import Intake, ReminderChoiceVia
from patients.portal import selectors as portal_selectors
from patients.questionnaires import selectors as questionnaire_selectors
from patients.record_access import own_record_for_page
from sessions.models import SessionKind
from sessions.scheduling import selectors as scheduling_selectors


@client_required
def home(request: HttpRequest) -> HttpResponse:
    client = own_record_for_page(request, page="Portal home")
    if client is None:
        # A client login without a client record: nothing to show, nothing to leak.
        return render(request, "portal/no_record.html", status=404)
    intake = portal_selectors.intake_card(client=client)
    questionnaire_todo = questionnaire_selectors.portal_todo(client=client)
    sessions = scheduling_selectors.portal_sessions(client=client)
    return render(
        request,
        "portal/home.html",
        {
            "client": client,
            "intake_task": intake if intake and intake.status == Intake.Status.DRAFT else None,
            "intake_not_started": intake is None,
            "questionnaire_todo": questionnaire_todo,
            "sessions": sessions,
            # R15: the dosing days to prepare (checklist, chaperone), from the list above.
            "dosing_todo": [
                s
                for s in sessions.upcoming
                if s.kind == SessionKind.DOSING and s.starts_at > timezone.now()
            ],
            "zone": client.zone,
        },
    )


@token_page
@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    if request.user.is_authenticated:
        return render(request, "portal/invitation_signed_in.html", status=409)
    invitation = services.invitation_for_token(token=token)
    if invitation is None:
        return render(request, "portal/invitation_invalid.html", status=410)
    form = SetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(token=token, password=form.cleaned_data["password1"])
        except ValidationError as error:
            form.add_error("password1", error)
        except DomainError as error:
            add_refusal(form, error)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, "Welcome! Your password is set. You are signed in.")
            return redirect("portal:home")
    return render(
        request, "portal/invitation_accept.html", {"form": form, "invitation": invitation}
    )


@client_required
@require_POST
def reminders_set(request: HttpRequest) -> HttpResponse:
    """The client turns their e-mail reminders on or off (the portal home's card)."""
    client = own_record_for_page(request, page="Portal reminders", record_view=False)
    if client is None:
        return render(request, "portal/no_record.html", status=404)
    wanted = request.POST.get("wanted") == "yes"
    try:
        reminder_choice.reminders_set(
            client=client, wanted=wanted, via=ReminderChoiceVia.PORTAL, by=request.user
        )
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            "Reminders by e-mail are on." if wanted else "Reminders by e-mail are off.",
        )
    return redirect("portal:home")


@token_page
@csrf_exempt  # RFC 8058: the mail program's one-click POST has no cookie; the token is the proof
@require_http_methods(["GET", "POST"])
def reminders_stop(request: HttpRequest, token: str) -> HttpResponse:
    """The link in every reminder: GET asks (a link checker opening it changes nothing), POST
    turns the reminders off, from the page's button or the mail program's one-click
    (``List-Unsubscribe=One-Click``). Public, and says nothing of the client but their first
    name (R25)."""
    client = reminder_choice.client_for_stop_token(token)
    if client is None:
        return render(request, "portal/reminders_stop_invalid.html", status=404)
    done = not client.reminders_wanted
    if request.method == "POST":
        reminder_choice.reminders_set(client=client, wanted=False, via=ReminderChoiceVia.EMAIL)
        done = True
        if request.POST.get("List-Unsubscribe") == "One-Click":
            return HttpResponse("Reminders are off.", content_type="text/plain")
    return render(
        request,
        "portal/reminders_stop.html",
        {
            "first_name": client.preferred_name or client.first_name,
            "done": done,
            "clinic_phone": settings_reader.current().clinic_phone,
        },
    )
