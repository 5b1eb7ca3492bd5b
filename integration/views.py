"""Staff pages of the integration follow-up (R7, R8): the open alerts (doses without an
integration session booked) and the reminders, clinic-wide for admins and for the caseload of a
therapist; sending a failed reminder again; acknowledging an alert. Thin: the access policy via
the selectors (outsiders get 404), the rules in integration.services."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.access import staff_required
from audit.services import access_record_list
from integration import selectors, services
from integration.models import ReminderStatus
from kap_clinic.errors import DomainError
from kap_clinic.listing import keyset_page

PAGE_SIZE = 25
ALERTS_PAGE_SIZE = 10


@staff_required
def reminder_list(request: HttpRequest) -> HttpResponse:
    """The open alerts and the reminders, each a keyset page (kap_clinic.listing): the page reads
    only the rows it shows, whatever the size of the clinic's history."""
    status = request.GET.get("status", "")
    if status not in ReminderStatus.values:
        status = ""
    page = keyset_page(
        selectors.reminders_for(request.user, status=status or None),
        order=selectors.REMINDER_ORDER,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
        size=PAGE_SIZE,
    )
    alerts = selectors.open_alerts_for(
        request.user,
        after=request.GET.get("alerts_after"),
        before=request.GET.get("alerts_before"),
        size=ALERTS_PAGE_SIZE,
    )
    access_record_list(
        request=request,
        client_ids=[r.client_id for r in [*alerts.rows, *page.rows]],
        page="Reminders",
    )
    counts = selectors.status_counts(request.user)
    return render(
        request,
        "integration/reminder_list.html",
        {
            "alerts": alerts,
            "page": page,
            "status": status,
            "status_label": ReminderStatus(status).label if status else "",
            "filters": [(value, label, counts[value]) for value, label in ReminderStatus.choices],
            "total": counts[""],
            "query": _query_without(request, "after", "before"),
            "alerts_query": _query_without(request, "alerts_after", "alerts_before"),
            "time_zone": settings.TIME_ZONE,
        },
    )


def _query_without(request: HttpRequest, *names: str) -> str:
    """The page's query string without ``names``, for links that replace them."""
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


def _reminder_or_404(request: HttpRequest, reminder_id: int):
    reminder = selectors.reminder_for(request.user, reminder_id=reminder_id)
    if reminder is None:
        raise Http404
    return reminder


def _back(request: HttpRequest) -> HttpResponse:
    """Back to the page the button was on (the list with its filter and page, or the course),
    if it is one of ours; else the list."""
    back = request.POST.get("next", "")
    if back.startswith("/") and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(back)
    return redirect("integration:reminder_list")


@staff_required
@require_POST
def reminder_resend(request: HttpRequest, reminder_id: int) -> HttpResponse:
    reminder = _reminder_or_404(request, reminder_id)
    try:
        services.reminder_resend(reminder=reminder, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"The reminder to {reminder.client.full_name} will be sent again within a minute.",
        )
    return _back(request)


@staff_required
@require_POST
def alert_acknowledge(request: HttpRequest, reminder_id: int) -> HttpResponse:
    reminder = _reminder_or_404(request, reminder_id)
    try:
        services.alert_acknowledge(reminder=reminder, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Alert acknowledged. Your name and the time are recorded.")
    return _back(request)
