"""Session notes, posted from the notes panel of the session page (templates/sessions/_notes.html):
save the draft, sign and lock, add an addendum, keep a private psychotherapy note (R23).

POST only; every view goes through the access policy (client_for_view) and notes.services. The
panel lives on another page, so a refused write comes back as a message on that page; the note
form's "Sign and lock" saves the draft first, so a refused signature never loses the text."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from accounts.access import staff_required
from kap_clinic.errors import DomainError
from patients.access import client_for_view
from patients.models import Client
from sessions.models import Session
from sessions.notes import services
from sessions.notes.forms import AddendumForm, NoteForm, PsychotherapyNoteForm


def _session_or_404(client: Client, session_id: int) -> Session:
    session = Session.objects.filter(client=client, pk=session_id).first()
    if session is None:
        raise Http404
    session.client = client
    return session


def _back(session: Session) -> HttpResponse:
    """Back to the session page, at the notes panel."""
    return redirect(f"{session.get_absolute_url()}#notes")


def _form_problem(request: HttpRequest, form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else error)


def _target(request: HttpRequest, client_id: int, session_id: int, page: str) -> Session:
    client = client_for_view(request, client_id, page=page, for_change=True)
    return _session_or_404(client, session_id)


@staff_required
@require_POST
def note_save(request: HttpRequest, client_id: int, session_id: int) -> HttpResponse:
    session = _target(request, client_id, session_id, "Session note")
    form = NoteForm(request.POST, kind=session.kind)
    if not form.is_valid():
        _form_problem(request, form)
        return _back(session)
    try:
        services.note_save(session=session, content=form.cleaned_data, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Draft saved. It can still be changed until it is signed.")
    return _back(session)


@staff_required
@require_POST
def note_sign(request: HttpRequest, client_id: int, session_id: int) -> HttpResponse:
    session = _target(request, client_id, session_id, "Sign a session note")
    form = NoteForm(request.POST, kind=session.kind)
    if not form.is_valid():
        _form_problem(request, form)
        return _back(session)
    try:
        # The text on screen is what gets signed; saved first so a refusal below keeps it.
        if any(name in request.POST for name in form.fields):
            services.note_save(session=session, content=form.cleaned_data, by=request.user)
        services.note_sign(session=session, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Note signed and locked. Corrections are added as addenda.")
    return _back(session)


@staff_required
@require_POST
def note_addendum(request: HttpRequest, client_id: int, session_id: int) -> HttpResponse:
    session = _target(request, client_id, session_id, "Add an addendum to a session note")
    form = AddendumForm(request.POST)
    if not form.is_valid():
        _form_problem(request, form)
        return _back(session)
    try:
        services.note_addendum_add(session=session, text=form.cleaned_data["text"], by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Addendum added to the signed note.")
    return _back(session)


@staff_required
@require_POST
def private_note_save(request: HttpRequest, client_id: int, session_id: int) -> HttpResponse:
    session = _target(request, client_id, session_id, "Psychotherapy note")
    form = PsychotherapyNoteForm(request.POST)
    if not form.is_valid():
        _form_problem(request, form)
        return _back(session)
    try:
        services.psychotherapy_note_save(
            session=session, text=form.cleaned_data["text"], by=request.user
        )
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Psychotherapy note saved. Only you can see it.")
    return _back(session)
