"""The page an appointment reminder's link opens (sessions.scheduling.replies): public, one
question, nothing clinical (R25); a token page (kap_clinic.token_pages)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from clinic import settings_reader
from kap_clinic import formats
from kap_clinic.token_pages import token_page
from sessions.models import ClientReply
from sessions.scheduling import replies


@token_page
@require_http_methods(["GET", "POST"])
def session_reply(request: HttpRequest, token: str) -> HttpResponse:
    error = ""
    if request.method == "POST":
        try:
            replies.session_reply(token=token, answer=request.POST.get("answer", ""))
        except replies.ReplyError as refused:
            error = str(refused)
        else:
            return redirect("session_reply", token=token)
    link = replies.session_for_token(token)
    context: dict = {
        "problem": link.problem,
        "error": error,
        "clinic_phone": settings_reader.current().clinic_phone,
        "answers": ClientReply,
    }
    if link.session is not None:
        session, client = link.session, link.session.client
        local = session.starts_at.astimezone(client.zone)
        context |= {
            "session": session,
            "first_name": client.preferred_name or client.first_name,
            "therapist_first_name": session.therapist.first_name,
            "day": formats.weekday_day_long(local),
            "time": formats.clock(local),
        }
    return render(request, "sessions/reply.html", context, status=410 if link.problem else 200)
