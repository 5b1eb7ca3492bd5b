"""Staff pages of the integration follow-up (R7, R8): the open alerts (doses without an
integration session booked) and the reminders, clinic-wide for admins and for the caseload of a
therapist; sending a failed reminder again; acknowledging an alert. Thin: the access policy via
the selectors (outsiders get 404), the rules in integration.services."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.access import staff_required
from audit.services import access_record_list
from integration import selectors, services
from integration.models import ReminderStatus
from kap_clinic.errors import DomainError

PAGE_SIZE = 25


@staff_required
def reminder_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in ReminderStatus.values:
        status = ""
    reminders = selectors.reminders_for(request.user, status=status or None)
    page = Paginator(reminders, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    alerts = list(selectors.open_alerts_for(request.user))
    access_record_list(
        request=request,
        client_ids=[r.client_id for r in [*alerts, *page.object_list]],
        page="Reminders",
    )
    query = request.GET.copy()
    query.pop("page", None)
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
            "total": sum(counts.values()),
            "filter_query": query.urlencode(),
            "time_zone": settings.TIME_ZONE,
        },
    )


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
