"""The clinic's outbox: every e-mail the app sends (invitations, password resets, safety alerts,
reminders), what is due, sent, failed (with the reason) and "Send again". Thin: the access policy
in the selectors (outsiders get 404), the rules in the services."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from accounts.access import staff_required
from audit.services import access_record_list
from kap_clinic.errors import DomainError
from kap_clinic.listing import keyset_page
from outbox.models import MessageStatus
from staff.outbox import selectors, services

PAGE_SIZE = 50


@staff_required
@require_GET
def outbox_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in MessageStatus.values:
        status = ""
    page = keyset_page(
        selectors.messages_for(request.user, status=status or None),
        order=selectors.MESSAGE_ORDER,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
        size=PAGE_SIZE,
    )
    access_record_list(
        request=request,
        client_ids=[m.client_id for m in page.rows if m.client_id],
        page="Outbox",
    )
    counts = selectors.status_counts(request.user)
    query = request.GET.copy()
    query.pop("after", None)
    query.pop("before", None)
    return render(
        request,
        "outbox/outbox_list.html",
        {
            "page": page,
            "status": status,
            "status_label": MessageStatus(status).label if status else "",
            "filters": [(value, label, counts[value]) for value, label in MessageStatus.choices],
            "total": counts[""],
            "query": query.urlencode(),
            "time_zone": settings.TIME_ZONE,
        },
    )


@staff_required
@require_POST
def outbox_resend(request: HttpRequest, message_id: int) -> HttpResponse:
    message = selectors.message_for(request.user, message_id=message_id)
    if message is None:
        raise Http404
    try:
        services.outbox_resend(message=message, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, f"The message to {message.to} will be sent again within a minute."
        )
    back = request.POST.get("next", "")
    if back.startswith("/") and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(back)
    return redirect("outbox:list")
