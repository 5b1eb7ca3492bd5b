"""Request gates for R22: idle logoff, and staff two-factor before any client data; and the
two-factor device check that django-otp would otherwise make with a query on every request."""

from __future__ import annotations

import time
from urllib.parse import urlencode, urlparse

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.utils.functional import SimpleLazyObject
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect
from django_otp import DEVICE_ID_SESSION_KEY, user_has_device
from django_otp.middleware import OTPMiddleware as DjangoOTPMiddleware

from clinic import settings_reader

LAST_ACTIVITY_KEY = "kap_last_activity"
SIGNED_IN_KEY = "kap_signed_in_at"
# A request with this header (the open dosing chart's ping) does not count as activity by
# itself; the view it reaches decides (sessions.dosing.views.dosing_keepalive).
KEEPALIVE_HEADER = "X-KAP-Keepalive"
# The last-activity time is written at most once a minute (a tenth of the idle timeout when that
# is shorter): a request that changes nothing else then saves no session. Saving it on every
# request was three of the floor page's statements (issue 13). The idle logoff can therefore
# come up to that much early, never late.
ACTIVITY_WRITE_SECONDS = 60


def _activity_is_fresh(session, now: float) -> bool:
    """The activity time is recent enough not to be written again on this request. Both the idle
    logoff (the write) and the two-factor check (OTPMiddleware) follow this one answer, so the
    session is saved at most once a minute, for both."""
    last = session.get(LAST_ACTIVITY_KEY)
    timeout = settings_reader.current().idle_timeout_seconds
    return last is not None and 0 <= now - last < min(ACTIVITY_WRITE_SECONDS, timeout // 10)


def stamp_sign_in(sender, request: HttpRequest, user, **kwargs) -> None:
    """On sign-in (``user_logged_in``, connected in accounts.apps): the 12 hours start now, and
    signing in is activity, so the first page after it has nothing to save."""
    now = time.time()
    request.session[SIGNED_IN_KEY] = now
    request.session[LAST_ACTIVITY_KEY] = now


def _return_path(request: HttpRequest) -> str:
    """Where to send the user back to after they sign in again."""
    if request.method == "GET" and not getattr(request, "htmx", False):
        return request.get_full_path()
    # A form post or an htmx call: return to the page it came from.
    source = getattr(request, "htmx", None) and request.htmx.current_url
    source = source or request.headers.get("Referer", "")
    if source and url_has_allowed_host_and_scheme(
        source, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        parsed = urlparse(source)
        return parsed.path + (f"?{parsed.query}" if parsed.query else "")
    return request.path


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return redirect(url)


class IdleLogoutMiddleware:
    """R22 automatic logoff: a session idle for IDLE_TIMEOUT_SECONDS is ended, and any session
    SESSION_COOKIE_AGE (12 hours) after sign-in whatever the activity; the login page says why
    and returns the user to the page they were on. An open dosing chart keeps its session from
    going idle while the session is in progress (its ping), never past the 12 hours."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            signed_in = request.session.setdefault(SIGNED_IN_KEY, now)
            last = request.session.get(LAST_ACTIVITY_KEY)
            idle = last is not None and now - last > settings_reader.current().idle_timeout_seconds
            capped = now - signed_in > settings.SESSION_COOKIE_AGE
            if idle or capped:
                back_to = _return_path(request)
                logout(request)
                query = urlencode({"next": back_to, "timeout": "12h" if capped else "1"})
                return _redirect(request, f"{resolve_url(settings.LOGIN_URL)}?{query}")
            if KEEPALIVE_HEADER not in request.headers and not _activity_is_fresh(
                request.session, now
            ):
                request.session[LAST_ACTIVITY_KEY] = now
        return self.get_response(request)


def keep_alive(request: HttpRequest) -> None:
    """Count this request as activity (the dosing chart's ping, once its view has checked). The
    ping comes once a minute, so it is written every time."""
    request.session[LAST_ACTIVITY_KEY] = time.time()


class OTPMiddleware(DjangoOTPMiddleware):
    """django-otp's middleware (``request.user.otp_device``, ``user.is_verified()``) without its
    query on most requests. django-otp loads the device named in the session on every request to
    check that it still exists, is this user's and is confirmed. Here that check is made when the
    activity time is written (at most once a minute, when the session is saved anyway); in between
    the device is loaded only if something reads ``otp_device``. The session is server-side and
    only a verified code (django_otp.login) puts a device there, so what can change in between is
    a device an admin removed (a two-factor reset for a lost phone): such a session stops counting
    as verified within the minute. A deactivated account or a changed password still ends the
    session at once (the user's own query checks both)."""

    def _verify_user_sync(self, request, user):
        self._init_user_fields(user)
        persistent_id = (
            request.session.get(DEVICE_ID_SESSION_KEY) if user.is_authenticated else None
        )
        if not persistent_id:
            return user
        if _activity_is_fresh(request.session, time.time()):
            user.otp_device = SimpleLazyObject(
                lambda: self._finalize_device(
                    request, user, self._device_from_persistent_id(persistent_id)
                )
            )
        else:
            device = self._device_from_persistent_id(persistent_id)
            user.otp_device = self._finalize_device(request, user, device)
        return user


# Pages an unverified staff member may use: sign out, and the two-factor pages themselves.
TWO_FACTOR_OPEN_URLS = {
    "accounts:logout",
    "accounts:two_factor_setup",
    "accounts:two_factor_verify",
    "healthz",
}


class StaffTwoFactorMiddleware:
    """R22 person authentication: staff (admins, therapists) reach nothing but the two-factor pages
    until they have enrolled an authenticator and entered a code in this session."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        user = request.user
        if not (user.is_authenticated and user.is_clinic_staff) or user.is_verified():
            return None
        if request.resolver_match.view_name in TWO_FACTOR_OPEN_URLS:
            return None

        target = (
            "accounts:two_factor_verify" if user_has_device(user) else "accounts:two_factor_setup"
        )
        query = urlencode({"next": _return_path(request)})
        return _redirect(request, f"{resolve_url(target)}?{query}")
