"""Client portal questionnaires (R19, R20), phone-first: what is due, the form, the result.

A client only ever reaches their own record (patients.record_access, through the access policy);
staff get a 404.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.access import client_required
from kap_clinic.errors import DomainError, add_refusal
from patients.models import Client
from patients.questionnaires import scoring, selectors, services
from patients.questionnaires.forms import AnswersForm
from patients.record_access import own_record_for_page

# What the client reads about their result: plain words, no diagnosis (R19 measures screen, they
# do not diagnose).
BAND_MESSAGES = {
    0: "Your answers suggest few or no symptoms right now.",
    1: "Your answers suggest some symptoms right now.",
    2: "Your answers suggest a moderate level of symptoms right now.",
    3: "Your answers suggest quite a lot of symptoms right now.",
    4: "Your answers suggest a high level of symptoms right now.",
}


def _own_client(request: HttpRequest, *, page: str) -> Client:
    client = own_record_for_page(request, page=page)
    if client is None:
        raise Http404
    return client


def _nothing_to_fill_in(request, client: Client, definition: scoring.Definition) -> HttpResponse:
    just_sent = client.questionnaire_responses.filter(
        instrument=definition.key, submitted_at__gte=timezone.now() - timedelta(minutes=30)
    ).exists()
    if just_sent:  # usually a second tap on "Send": the first one was stored
        messages.info(request, f"We already have your {definition.name} answers. Thank you.")
    else:
        messages.info(
            request,
            f"There is no {definition.name} for you to fill in right now. Your therapist will "
            "ask when it is time to fill it in again.",
        )
    return redirect("portal:questionnaires:list")


@client_required
def questionnaire_list(request: HttpRequest) -> HttpResponse:
    client = _own_client(request, page="Portal questionnaires")
    return render(
        request,
        "questionnaires/portal_list.html",
        {
            "client": client,
            "todo": selectors.portal_todo(client=client),
            "history": selectors.own_history(client=client),
        },
    )


@client_required
@require_http_methods(["GET", "POST"])
def questionnaire_fill(request: HttpRequest, instrument: str) -> HttpResponse:
    try:
        definition = scoring.definition(instrument)
    except ValueError:
        raise Http404 from None
    client = _own_client(request, page=f"Portal {definition.name}")
    # A POST is checked by the service, under a lock, so that a double tap stores once.
    if request.method == "GET" and not services.client_may_start(
        client=client, instrument=instrument
    ):
        return _nothing_to_fill_in(request, client, definition)
    form = AnswersForm(request.POST or None, instrument=instrument)
    if request.method == "POST" and form.is_valid():
        try:
            response = services.questionnaire_submit(
                client=client,
                instrument=instrument,
                answers=form.answers(),
                by=request.user,
                base_url=request.build_absolute_uri("/").rstrip("/"),
            )
        except services.NotRequestedError:
            return _nothing_to_fill_in(request, client, definition)
        except DomainError as error:
            add_refusal(form, error)
        else:
            return redirect("portal:questionnaires:result", response_id=response.pk)
    return render(
        request,
        "questionnaires/portal_fill.html",
        {
            "client": client,
            "definition": definition,
            "form": form,
            "crisis_line": settings.CRISIS_LINE,
        },
    )


@client_required
def questionnaire_result(request: HttpRequest, response_id: int) -> HttpResponse:
    client = _own_client(request, page="Portal questionnaire result")
    response = selectors.response_for_client(client=client, response_id=response_id)
    if response is None:
        raise Http404
    level = scoring.band_level(response.instrument, response.band)
    return render(
        request,
        "questionnaires/portal_result.html",
        {
            "client": client,
            "response": response,
            "definition": scoring.definition(response.instrument),
            "band_message": BAND_MESSAGES[level],
            "crisis_line": settings.CRISIS_LINE,
            "todo": selectors.portal_todo(client=client),
        },
    )
