"""Two rules every request and response of the app follows, whatever the view.

- Input: control characters (a NUL byte, an escape, ...) are taken out of every submitted and
  queried value before any form sees it. They have no place in a clinical record, PostgreSQL
  refuses a NUL in text outright (a server error, and the intake draft lost), and a form cannot
  forget to do it when it is done here once. Tab, line feed and carriage return stay: they are
  how a note is written.
- Output: a page or export for a signed-in person carries client data, so no browser or proxy
  keeps a copy (R22: a health record left in the cache of a shared computer is a disclosure), and
  every response turns off the browser features the app never uses.
"""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse, QueryDict

# C0 controls but tab, line feed and carriage return; DEL; the C1 controls.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), "
    "interest-cohort=()"
)


def without_control_characters(values: QueryDict) -> QueryDict:
    if not any(CONTROL_CHARACTERS.search(key + "".join(values.getlist(key))) for key in values):
        return values
    cleaned = QueryDict(mutable=True, encoding=values.encoding)
    for key in values:
        cleaned.setlist(
            CONTROL_CHARACTERS.sub("", key),
            [CONTROL_CHARACTERS.sub("", value) for value in values.getlist(key)],
        )
    cleaned._mutable = False
    return cleaned


class CleanInputMiddleware:
    """Before CSRF and every view: the request's GET and POST without control characters."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.GET = without_control_characters(request.GET)
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            request.POST = without_control_characters(request.POST)
        return self.get_response(request)


class PrivateResponseMiddleware:
    """``Cache-Control: no-store`` on every response to a signed-in person (pages, htmx
    fragments, CSV exports, redirects), and a Permissions-Policy on every response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response["Cache-Control"] = "no-store"
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
