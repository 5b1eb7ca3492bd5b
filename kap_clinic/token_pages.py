"""Public pages opened by a link with a token in its address (a portal invitation, an appointment
reminder's answer, the stop-reminders link): never cached, never indexed, and their address (so
the token) is not sent to other sites as a referrer. Not "no-referrer": with it a browser sends
the page's own form posts with "Origin: null", which Django's CSRF check refuses."""

from __future__ import annotations

from functools import wraps

from django.views.decorators.cache import never_cache


def token_page(view):
    @never_cache
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["X-Robots-Tag"] = "noindex"
        response["Referrer-Policy"] = "same-origin"
        return response

    return wrapped
