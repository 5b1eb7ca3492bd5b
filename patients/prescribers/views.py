"""The prescribers directory: list, add, edit, deactivate/reactivate (staff only; clients 404)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import staff_required
from kap_clinic.errors import DomainError, add_refusal
from patients.models import Prescriber
from patients.prescribers import services
from patients.prescribers.forms import PrescriberForm, PrescriberSearchForm
from patients.referrals import selectors

PAGE_SIZE = 50


@staff_required
def prescriber_list(request: HttpRequest) -> HttpResponse:
    form = PrescriberSearchForm(request.GET or None)
    search = form.cleaned_data.get("q", "") if form.is_valid() else ""
    page = Paginator(selectors.prescriber_list(search=search), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "prescribers/prescriber_list.html",
        {"form": form, "page": page, "search": search},
    )


@staff_required
@require_http_methods(["GET", "POST"])
def prescriber_create(request: HttpRequest) -> HttpResponse:
    form = PrescriberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            prescriber = services.prescriber_create(by=request.user, **form.cleaned_data)
        except DomainError as error:
            add_refusal(form, error)
        else:
            messages.success(request, f"{prescriber} was added to the prescribers directory.")
            return redirect("prescribers:prescriber_list")
    return render(request, "prescribers/prescriber_form.html", {"form": form, "prescriber": None})


@staff_required
@require_http_methods(["GET", "POST"])
def prescriber_edit(request: HttpRequest, prescriber_id: int) -> HttpResponse:
    prescriber = get_object_or_404(Prescriber, pk=prescriber_id)
    form = PrescriberForm(request.POST or None, instance=prescriber)
    if request.method == "POST" and form.is_valid():
        try:
            services.prescriber_update(by=request.user, prescriber=prescriber, **form.cleaned_data)
        except DomainError as error:
            add_refusal(form, error)
        else:
            messages.success(request, "Changes saved.")
            return redirect("prescribers:prescriber_list")
    return render(
        request, "prescribers/prescriber_form.html", {"form": form, "prescriber": prescriber}
    )


@staff_required
@require_POST
def prescriber_set_active(request: HttpRequest, prescriber_id: int) -> HttpResponse:
    prescriber = get_object_or_404(Prescriber, pk=prescriber_id)
    active = request.POST.get("active") == "1"
    try:
        services.prescriber_set_active(by=request.user, prescriber=prescriber, active=active)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        if active:
            messages.success(request, f"{prescriber} is active again and can receive referrals.")
        else:
            messages.success(
                request,
                f"{prescriber} is now inactive: no new referrals. Past referrals are kept.",
            )
    return redirect("prescribers:prescriber_list")
