"""Staff pages for the client record: list, hub, create/edit, archive, portal invitation."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import staff_required
from audit.services import access_record_list
from kap_clinic import formats
from kap_clinic.errors import DomainError, add_refusal
from patients.access import client_for_view
from patients.clients import reminder_choice, selectors, services
from patients.clients.forms import ArchiveForm, ClientFilterForm, ClientForm, ShareForm
from patients.courses.record import client_record
from patients.models import PortalInvitation, ReminderChoiceVia
from patients.record_access import client_for_page

PAGE_SIZE = 25


@staff_required
def client_list(request: HttpRequest) -> HttpResponse:
    form = ClientFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    clients = selectors.client_list(
        user=request.user,
        search=(filters.get("q") or "").strip(),
        archived=bool(filters.get("archived")),
        status=filters.get("status") or "",
        phase=filters.get("phase") or "",
        flag=filters.get("flag") or "",
        sort=filters.get("sort") or "name",
    )
    page = Paginator(clients, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    access_record_list(
        request=request, client_ids=[c.pk for c in page.object_list], page="Client list"
    )
    query = request.GET.copy()
    query.pop("page", None)
    filtered = any(filters.get(key) for key in ("q", "status", "phase", "flag", "archived"))
    return render(
        request,
        "patients/client_list.html",
        {
            "form": form,
            "page": page,
            "filtered": filtered,
            "search": filters.get("q", ""),
            "archived": bool(filters.get("archived")),
            "filter_query": query.urlencode(),
        },
    )


@staff_required
def client_detail(request: HttpRequest, client_id: int) -> HttpResponse:
    # With the portal account: the portal panel needs it (patients.courses.record).
    client = client_for_page(
        request, client_id, page="Client record", related=("user", "reminders_changed_by")
    )
    can_manage_shares = services.can_manage_shares(request.user, client)
    return render(
        request,
        "patients/client_detail.html",
        {
            "client": client,
            "can_manage_shares": can_manage_shares,
            **client_record(client=client, manage_shares=can_manage_shares),
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def client_create(request: HttpRequest) -> HttpResponse:
    form = ClientForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        therapist = data.pop("primary_therapist", None)
        try:
            client = services.client_create(by=request.user, primary_therapist=therapist, **data)
        except DomainError as error:
            add_refusal(form, error)
        else:
            messages.success(request, f"{client.full_name} was added.")
            return redirect(client)
    return render(request, "patients/client_form.html", {"form": form, "client": None})


@staff_required
@require_http_methods(["GET", "POST"])
def client_edit(request: HttpRequest, client_id: int) -> HttpResponse:
    client = client_for_view(request, client_id, page="Edit client record", for_change=True)
    form = ClientForm(request.POST or None, instance=client, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        therapist = data.pop("primary_therapist", None)
        try:
            services.client_update(
                by=request.user, client=client, primary_therapist=therapist, **data
            )
        except DomainError as error:
            add_refusal(form, error)
        else:
            messages.success(request, "Changes saved.")
            return redirect(client)
    return render(request, "patients/client_form.html", {"form": form, "client": client})


@staff_required
@require_POST
def client_archive(request: HttpRequest, client_id: int) -> HttpResponse:
    client = client_for_view(request, client_id, page="Archive client", for_change=True)
    form = ArchiveForm(request.POST)
    if form.is_valid():
        try:
            services.client_archive(
                by=request.user, client=client, reason=form.cleaned_data["reason"]
            )
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request, f"{client.full_name} was archived. The record is kept and can be restored."
            )
    else:
        messages.error(request, "Give a reason for archiving (up to 500 characters).")
    return redirect(client)


@staff_required
@require_POST
def client_restore(request: HttpRequest, client_id: int) -> HttpResponse:
    client = client_for_view(request, client_id, page="Restore client", for_change=True)
    try:
        services.client_restore(by=request.user, client=client)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{client.full_name} was restored to the active list.")
    return redirect(client)


@staff_required
@require_POST
def invitation_send(request: HttpRequest, client_id: int) -> HttpResponse:
    client = client_for_view(request, client_id, page="Portal invitation", for_change=True)
    try:
        invitation = services.invitation_send(
            by=request.user, client=client, base_url=request.build_absolute_uri("/").rstrip("/")
        )
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"Invitation to {invitation.email} saved: it will be e-mailed within a minute. "
            "The page shows when it has gone out. The link works once, until "
            f"{formats.day(timezone.localtime(invitation.expires_at))}.",
        )
    return redirect(client)


@staff_required
@require_POST
def invitation_revoke(request: HttpRequest, client_id: int, invitation_id: int) -> HttpResponse:
    client = client_for_view(request, client_id, page="Portal invitation", for_change=True)
    invitation = get_object_or_404(PortalInvitation, pk=invitation_id, client=client)
    try:
        services.invitation_revoke(by=request.user, invitation=invitation)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "The invitation link was cancelled and no longer works.")
    return redirect(client)


# --- Sharing a client with a second therapist, under /clients/<client_id>/shares/ ------------


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
            add_refusal(form, error)
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


@staff_required
@require_POST
def reminders_set(request: HttpRequest, client_id: int) -> HttpResponse:
    """Staff turn the client's e-mail reminders on or off (the record's Portal panel)."""
    client = client_for_view(request, client_id, page="Client reminders", for_change=True)
    wanted = request.POST.get("wanted") == "yes"
    try:
        reminder_choice.reminders_set(
            client=client,
            wanted=wanted,
            via=ReminderChoiceVia.STAFF,
            by=request.user,
            client_asked=request.POST.get("client_asked") == "on",
        )
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"Appointment and integration reminders to {client.full_name} are "
            f"{'on' if wanted else 'off'}.",
        )
    return redirect(client)
