"""Writes to the audit trail. Callers: the access policy (every view of a client record)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings

from audit.models import AccessEvent

if TYPE_CHECKING:
    from django.http import HttpRequest

    from patients.models import Client


def client_ip(request: HttpRequest) -> str | None:
    """The address the request came from. Behind a proxy (PROXY_COUNT > 0), the address the
    trusted proxy saw, taken from X-Forwarded-For counting from the right."""

    proxies = settings.PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR") or None


def access_record(*, request: HttpRequest, client: Client, page: str) -> AccessEvent:
    """R22: record that ``request.user`` viewed ``client``'s record on ``page``."""
    user = request.user
    # The caller found the client through visible_clients, which shows nothing to anonymous users.
    assert user.is_authenticated
    return AccessEvent.objects.create(
        user=user,
        client=client,
        page=page[:100],
        path=request.get_full_path()[:500],
        method=request.method or "GET",
        ip_address=client_ip(request),
    )
