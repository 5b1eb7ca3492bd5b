"""Sharing a client with a second therapist, under /clients/<client_id>/shares/. The form sits on
the client record; this page shows it again, with what was typed, when it needs correcting."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import staff_required
from kap_clinic.errors import DomainError
from patients.access import client_for_view
from patients.clients import share_services as services
from patients.clients.share_forms import ShareForm


@staff_required
@require_http_methods(["GET", "POST"])
def share_add(request: HttpRequest, client_id: int) -> HttpResponse:
    client = client_for_view(request, client_id, page="Share client", for_change=True)
    if not services.can_manage_shares(request.user, client):
        raise Http404
    form = ShareForm(request.POST or None, client=client)
    if request.method == "POST" and form.is_valid():
        therapist = form.cleaned_data["therapist"]
        try:
            services.client_share(
                client=client,
                therapist=therapist,
                by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, f"{client.full_name} is now shared with {therapist.get_full_name()}."
            )
            return redirect(client)
    return render(request, "patients/share_form.html", {"client": client, "form": form})


@staff_required
@require_POST
def share_revoke(request: HttpRequest, client_id: int, share_id: int) -> HttpResponse:
    client = client_for_view(request, client_id, page="Stop sharing client", for_change=True)
    if not services.can_manage_shares(request.user, client):
        raise Http404
    share = get_object_or_404(
        client.shares.select_related("therapist", "client"), pk=share_id, revoked_at__isnull=True
    )
    try:
        services.client_share_revoke(share=share, by=request.user)
    except DomainError as error:
        messages.info(request, str(error))
    else:
        messages.success(
            request,
            f"{client.full_name} is no longer shared with {share.therapist.get_full_name()}.",
        )
    return redirect(client)
