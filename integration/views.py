"""Staff pages of the integration follow-up (being built)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from kap_clinic.access import staff_required


@staff_required
def reminder_list(request: HttpRequest) -> HttpResponse:
    return render(request, "integration/reminder_list.html", {})
