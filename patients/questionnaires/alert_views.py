"""Staff safety alerts (R20): the list of open alerts and acknowledging one."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.access import staff_required
from kap_clinic.errors import DomainError
from patients.questionnaires import selectors, services


@staff_required
def alert_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "questionnaires/alert_list.html",
        {
            "alerts": selectors.open_alerts(user=request.user),
            "acknowledged": selectors.recently_acknowledged(user=request.user),
        },
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
