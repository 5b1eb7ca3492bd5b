"""Staff pages for referrals to the external prescriber, the prescription on file and the
referral packet (R3, R4, R18, R23). Thin: access check, form, service, redirect."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import staff_required
from kap_clinic.errors import DomainError, add_refusal
from patients.access import client_for_view
from patients.models import Client, Referral
from patients.record_access import row_for_page
from patients.referrals import selectors, services
from patients.referrals.forms import (
    PrescriptionForm,
    ReferralForm,
    SupersedeForm,
    TransitionForm,
)

S = Referral.Status

# The button for each next step, what it means, and whether a reason is required.
ACTIONS = {
    S.SENT: {
        "label": "Mark as sent",
        "help": "You have sent the referral and its packet to the prescriber.",
        "style": "primary",
    },
    S.UNDER_REVIEW: {
        "label": "Prescriber is reviewing",
        "help": "The prescriber has confirmed they are assessing the client.",
        "style": "primary",
    },
    S.APPROVED: {
        "label": "Record approval and prescription",
        "help": "The prescriber approved treatment: enter the prescription they sent.",
        "style": "success",
    },
    S.DECLINED: {
        "label": "Record decline",
        "help": "The prescriber decided not to prescribe. Say why, as they explained it.",
        "style": "outline-danger",
    },
    S.WITHDRAWN: {
        "label": "Withdraw referral",
        "help": "Stop this referral, e.g. the client changed their mind. Say why.",
        "style": "outline-secondary",
    },
}


def _referral_or_404(client: Client, referral_id: int) -> Referral:
    referral = selectors.referral_for_client(client=client, referral_id=referral_id)
    if referral is None:
        raise Http404
    return referral


def _actions(referral: Referral, bound: TransitionForm | None = None) -> list[dict]:
    actions = []
    for status in selectors.next_actions(referral):
        form = None
        if status != S.APPROVED:
            if bound is not None and bound.data.get("to_status") == status:
                form = bound
            else:
                form = TransitionForm(initial={"to_status": status}, auto_id=f"id_{status}_%s")
        actions.append({"status": status, "form": form, **ACTIONS[status]})
    return actions


@staff_required
def referral_list(request: HttpRequest, client_id: int) -> HttpResponse:
    client = client_for_view(request, client_id, page="Referrals")
    referrals = selectors.referral_list(client=client)
    open_referral = next((r for r in referrals if r.status not in services.FINAL_STATUSES), None)
    return render(
        request,
        "referrals/referral_list.html",
        {
            "client": client,
            "referrals": referrals,
            "open_referral": open_referral,
            "prescription": selectors.current_prescription(client=client),
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def referral_create(request: HttpRequest, client_id: int) -> HttpResponse:
    client = client_for_view(request, client_id, page="New referral", for_change=True)
    form = ReferralForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            referral = services.referral_create(by=request.user, client=client, **form.cleaned_data)
        except DomainError as error:
            add_refusal(form, error)
        else:
            messages.success(
                request,
                "Referral saved as a draft. Print the referral packet, send it to the "
                "prescriber, then mark the referral as sent.",
            )
            return redirect(_detail_url(referral))
    return render(
        request,
        "referrals/referral_form.html",
        {
            "client": client,
            "form": form,
            "open_referral": selectors.open_referral(client=client),
        },
    )


def _detail_url(referral: Referral) -> str:
    return reverse(
        "patients:referrals:referral_detail",
        kwargs={"client_id": referral.client_id, "referral_id": referral.pk},
    )


def _render_detail(request, client, referral, *, bound=None, status=200) -> HttpResponse:
    return render(
        request,
        "referrals/referral_detail.html",
        {
            "client": client,
            "referral": referral,
            "actions": _actions(referral, bound),
            "bound": bound,
            "final": referral.status in services.FINAL_STATUSES,
        },
        status=status,
    )


@staff_required
def referral_detail(request: HttpRequest, client_id: int, referral_id: int) -> HttpResponse:
    client = client_for_view(request, client_id, page="Referral")
    return _render_detail(request, client, _referral_or_404(client, referral_id))


@staff_required
@require_POST
def referral_transition(request: HttpRequest, client_id: int, referral_id: int) -> HttpResponse:
    client = client_for_view(request, client_id, page="Referral", for_change=True)
    referral = _referral_or_404(client, referral_id)
    # The ids of the form's fields name the step (one form per button on the page); only a known
    # status goes into them (a crafted "%d" broke the id's formatting).
    posted = request.POST.get("to_status", "")
    step = posted if posted in S.values else "step"
    form = TransitionForm(request.POST, auto_id=f"id_{step}_%s")
    if form.is_valid():
        to_status = form.cleaned_data["to_status"]
        if to_status == S.APPROVED and to_status in selectors.next_actions(referral):
            return redirect(
                "patients:referrals:referral_approve", client_id=client.pk, referral_id=referral.pk
            )
        try:
            services.referral_transition(
                referral=referral,
                to_status=to_status,
                happened_on=form.cleaned_data["happened_on"],
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
        except DomainError as error:
            add_refusal(form, error)
        else:
            messages.success(request, f"Referral marked as {S(to_status).label.lower()}.")
            return redirect(_detail_url(referral))
    return _render_detail(request, client, referral, bound=form, status=400)


@staff_required
@require_http_methods(["GET", "POST"])
def referral_approve(request: HttpRequest, client_id: int, referral_id: int) -> HttpResponse:
    client = client_for_view(request, client_id, page="Referral approval", for_change=True)
    referral = _referral_or_404(client, referral_id)
    if S.APPROVED not in selectors.next_actions(referral):
        messages.error(request, services.forbidden_message(referral.status, S.APPROVED))
        return redirect(_detail_url(referral))
    form = PrescriptionForm(request.POST or None, with_date=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.referral_approve(
                referral=referral,
                happened_on=form.cleaned_data["happened_on"],
                dose_confirmed=form.cleaned_data["dose_confirmed"],
                by=request.user,
                **form.service_fields(),
            )
        except DomainError as error:
            add_refusal(form, error)
        else:
            messages.success(request, "Approval and prescription recorded.")
            return redirect(_detail_url(referral))
    return render(
        request,
        "referrals/approval_form.html",
        {"client": client, "referral": referral, "form": form},
    )


@staff_required
def prescription_detail(request: HttpRequest, client_id: int, prescription_id: int) -> HttpResponse:
    client = client_for_view(request, client_id, page="Prescription")
    prescription = selectors.prescription_for_client(client=client, prescription_id=prescription_id)
    if prescription is None:
        raise Http404
    return render(
        request,
        "referrals/prescription_detail.html",
        {
            "client": client,
            "prescription": prescription,
            "history": selectors.prescription_chain(prescription=prescription),
            "dose_unusual": services.dose_out_of_range(prescription.dose_mg),
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def prescription_supersede(
    request: HttpRequest, client_id: int, prescription_id: int
) -> HttpResponse:
    client = client_for_view(request, client_id, page="Prescription renewal", for_change=True)
    prescription = selectors.prescription_for_client(client=client, prescription_id=prescription_id)
    if prescription is None:
        raise Http404
    if prescription.superseded_at is not None:
        messages.error(
            request, "This prescription has already been replaced. Renew the current one instead."
        )
        return redirect(prescription_url(prescription))
    initial = {name: getattr(prescription, name) for name in services.PRESCRIPTION_FIELDS}
    initial.pop("received_on")
    initial.pop("valid_until")
    form = SupersedeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            new = services.prescription_supersede(
                prescription=prescription,
                kind=form.cleaned_data["kind"],
                dose_confirmed=form.cleaned_data["dose_confirmed"],
                by=request.user,
                **form.service_fields(),
            )
        except DomainError as error:
            add_refusal(form, error)
        else:
            messages.success(
                request, "New prescription recorded. The previous one is kept as history."
            )
            return redirect(prescription_url(new))
    return render(
        request,
        "referrals/prescription_form.html",
        {"client": client, "prescription": prescription, "form": form},
    )


def prescription_url(prescription) -> str:
    return reverse(
        "patients:referrals:prescription_detail",
        kwargs={"client_id": prescription.client_id, "prescription_id": prescription.pk},
    )


@staff_required
def referral_packet(request: HttpRequest, client_id: int, referral_id: int) -> HttpResponse:
    """The printable packet for the prescriber. Opening it is audited (R22); its content is an
    allow-list (R23: never psychotherapy notes; see referrals.selectors.referral_packet)."""
    # The referral with its client, prescriber and referring therapist in one query (the packet
    # shows neither its timeline nor its prescriptions).
    rows = Referral.objects.select_related("prescriber", "referred_by")
    referral = row_for_page(
        request, rows, client_id=client_id, pk=referral_id, page="Referral packet"
    )
    client = referral.client
    packet = selectors.referral_packet(client=client, referral=referral, prepared_by=request.user)
    return render(
        request,
        "referrals/packet.html",
        {"client": client, "referral": referral, "packet": packet},
    )
