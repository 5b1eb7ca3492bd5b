"""Page gates by role: staff, admin, client. Which client's records a user may see is the access
policy's question (patients.access); these only decide who may open a page at all."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404


def _role_required(test):
    """Page gates by role. The wrong role gets a 404 (no hint that the page exists); anonymous
    users are sent to sign in first. Applied outermost, before any method check."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not test(request.user):
                raise Http404
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


staff_required = _role_required(lambda user: user.is_clinic_staff)
admin_required = _role_required(lambda user: user.is_admin)
client_required = _role_required(lambda user: user.is_client)
