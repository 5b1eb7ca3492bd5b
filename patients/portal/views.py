"""The client portal (phone-first). Clients only ever see their own record; staff get a 404.
The invitation page is public: it is where a client without a login sets their password."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.access import client_required
from kap_clinic.errors import DomainError, add_refusal
from patients.clients import services
from patients.clients.forms import SetPasswordForm
from patients.models import Intake
from patients.portal import selectors as portal_selectors
from patients.questionnaires import selectors as questionnaire_selectors
from patients.record_access import own_record_for_page
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
            "zone": client.zone,
        },
    )


@never_cache
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
