"""Staff safety alerts (R20): the list of open alerts and acknowledging one."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.access import staff_required
from audit.services import access_record_list
from kap_clinic.errors import DomainError
from patients.questionnaires import selectors, services


@staff_required
def alert_list(request: HttpRequest) -> HttpResponse:
    alerts = list(selectors.open_alerts(user=request.user))
    acknowledged = list(selectors.recently_acknowledged(user=request.user))
    access_record_list(
        request=request,
        client_ids=[alert.client_id for alert in alerts + acknowledged],
        page="Safety alerts",
    )
    return render(
        request,
        "questionnaires/alert_list.html",
        {"alerts": alerts, "acknowledged": acknowledged},
    )


@staff_required
@require_POST
def alert_acknowledge(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = selectors.alert_for_user(user=request.user, alert_id=alert_id)
    if alert is None:
        raise Http404
    try:
        services.alert_acknowledge(alert=alert, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Alert acknowledged. Your name and the time are recorded.")
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(back)
    return redirect("patients:alerts:alert_list")
