"""Staff intake review (R17, R18): the submitted intake grouped by step, the flags with the
answers that raised them, the history of amendments, and "Mark as reviewed"."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.access import staff_required
from kap_clinic.errors import DomainError
from patients.access import client_for_view
from patients.intake import selectors, services
from patients.intake.schema import step_title
from patients.models import Intake


@staff_required
def intake_review(request: HttpRequest, client_id: int, intake_id: int | None = None):
    # Access first, method second: an outsider gets the same 404 whatever the method.
    client = client_for_view(request, client_id, page="Intake")
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    review = selectors.intake_review(client=client, intake_id=intake_id)
    if review is None:
        raise Http404
    latest = review.intakes[0] if review.intakes else None
    return render(
        request,
        "intake/staff_review.html",
        {
            "client": client,
            "review": review,
            "intake": review.shown,
            "is_latest": review.shown is not None and review.shown == latest,
            "draft_step": step_title(review.draft.last_step) if review.draft else "",
        },
    )


@staff_required
@require_POST
def intake_mark_reviewed(request: HttpRequest, client_id: int, intake_id: int) -> HttpResponse:
    client = client_for_view(request, client_id, page="Intake", for_change=True)
    intake = get_object_or_404(Intake, pk=intake_id, client=client)
    try:
        services.intake_mark_reviewed(intake=intake, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Intake marked as reviewed.")
    if Intake.objects.filter(amends=intake).exists():
        return redirect("patients:intake:version", client_id=client.pk, intake_id=intake.pk)
    return redirect("patients:intake:review", client_id=client.pk)
