"""Staff questionnaire pages for one client (R19, R20): history, requests, answers entered in
session, one response in full. Every page goes through the access policy (client_for_view)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import staff_required
from kap_clinic.errors import DomainError, add_refusal
from patients.access import client_for_view
from patients.questionnaires import scoring, selectors, services
from patients.questionnaires.forms import AnswersForm, RequestForm


def _history_url(client_id: int) -> str:
    return reverse("patients:questionnaires:history", kwargs={"client_id": client_id})


def _definition_or_404(instrument: str) -> scoring.Definition:
    try:
        return scoring.definition(instrument)
    except ValueError:
        raise Http404 from None


def _history_page(request: HttpRequest, client, request_form: RequestForm) -> HttpResponse:
    return render(
        request,
        "questionnaires/staff_history.html",
        {
            "client": client,
            "history": selectors.client_history(client=client),
            "due_requests": selectors.due_requests(client=client).select_related("requested_by"),
            "request_form": request_form,
            "definitions": list(scoring.DEFINITIONS.values()),
            "client_open_alerts": selectors.client_open_alert_count(
                user=request.user, client=client
            ),
        },
    )


@staff_required
def history(request: HttpRequest, client_id: int) -> HttpResponse:
    client = client_for_view(request, client_id, page="Questionnaires")
    return _history_page(request, client, RequestForm())


@staff_required
@require_POST
def request_create(request: HttpRequest, client_id: int) -> HttpResponse:
    client = client_for_view(request, client_id, page="Request a questionnaire", for_change=True)
    form = RequestForm(request.POST)
    if form.is_valid():
        try:
            questionnaire_request = services.questionnaire_request(
                client=client,
                instrument=form.cleaned_data["instrument"],
                due_date=form.cleaned_data["due_date"],
                by=request.user,
            )
        except DomainError as error:
            add_refusal(form, error)
        else:
            messages.success(
                request,
                f"{questionnaire_request.get_instrument_display()} requested. It now shows as "
                "due in the client's portal.",
            )
            return redirect(_history_url(client.pk))
    return _history_page(request, client, form)


@staff_required
@require_POST
def request_cancel(request: HttpRequest, client_id: int, request_id: int) -> HttpResponse:
    client = client_for_view(
        request, client_id, page="Cancel questionnaire request", for_change=True
    )
    questionnaire_request = get_object_or_404(client.questionnaire_requests, pk=request_id)
    try:
        services.questionnaire_request_cancel(
            questionnaire_request=questionnaire_request, by=request.user
        )
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Request cancelled. It no longer shows in the client's portal.")
    return redirect(_history_url(client.pk))


@staff_required
@require_http_methods(["GET", "POST"])
def enter(request: HttpRequest, client_id: int, instrument: str) -> HttpResponse:
    """Answers entered by the therapist in session, on the client's behalf (entered_by = them)."""
    client = client_for_view(request, client_id, page="Enter questionnaire", for_change=True)
    definition = _definition_or_404(instrument)
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
        except DomainError as error:
            add_refusal(form, error)
        else:
            text = f"{definition.name} saved: {response.total} ({response.band})."
            if response.item9_score:
                text += (
                    " Item 9 was answered above 0, so a safety alert was raised for the care team."
                )
            messages.success(request, text)
            return redirect(
                "patients:questionnaires:response",
                client_id=client.pk,
                response_id=response.pk,
            )
    return render(
        request,
        "questionnaires/staff_enter.html",
        {"client": client, "definition": definition, "form": form},
    )


@staff_required
def response_detail(request: HttpRequest, client_id: int, response_id: int) -> HttpResponse:
    client = client_for_view(request, client_id, page="Questionnaire answers")
    response = selectors.response_for_client(client=client, response_id=response_id)
    if response is None:
        raise Http404
    return render(
        request,
        "questionnaires/staff_response.html",
        {
            "client": client,
            "response": response,
            "definition": scoring.definition(response.instrument),
            "items": selectors.response_items(response),
        },
    )
