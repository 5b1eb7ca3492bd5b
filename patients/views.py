from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from kap_clinic.access import client_for_view, staff_required
from patients import selectors

PAGE_SIZE = 25


@staff_required
def client_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()[:100]
    archived = request.GET.get("archived") == "1"
    clients = selectors.client_list(user=request.user, search=search, archived=archived)
    page = Paginator(clients, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "patients/client_list.html",
        {"page": page, "search": search, "archived": archived, "filter_query": query.urlencode()},
    )


@staff_required
def client_detail(request: HttpRequest, client_id: int) -> HttpResponse:
    client = client_for_view(request, client_id, page="Client record")
    return render(
        request,
        "patients/client_detail.html",
        {"client": client, "shares": selectors.client_shares(client=client)},
    )
