"""The client portal (phone-first). Clients only ever see their own record; staff get a 404."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from kap_clinic.access import client_for_view, client_required
from patients.models import Client


@client_required
def home(request: HttpRequest) -> HttpResponse:
    own = Client.objects.filter(user=request.user).values_list("pk", flat=True).first()
    if own is None:
        # A client login without a client record: nothing to show, nothing to leak.
        return render(request, "portal/no_record.html", status=404)
    client = client_for_view(request, own, page="Portal home")
    return render(request, "portal/home.html", {"client": client})
