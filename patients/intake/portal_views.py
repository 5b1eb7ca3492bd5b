"""The client's intake form in the portal (R17), phone-first.

Every page works on the signed-in client's own record only (patients.access) and never on a
submitted intake: writes go through intake_services, which refuses a locked one whatever is
posted. Each step is saved on Back / Save and continue and by htmx autosave, valid or not.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import client_required
from kap_clinic.errors import DomainError
from patients.intake import selectors, services
from patients.intake.forms import (
    first_unfinished,
    form_for,
    form_sections,
    initial_values,
    stored_form,
)
from patients.intake.schema import (
    CONSENT_SLUG,
    STEPS,
    get_step,
    neighbours,
    step_number,
)
from patients.intake.selectors import answer_rows
from patients.models import Client
from patients.record_access import own_record_for_page


def _own_client(request: HttpRequest, *, record_view: bool = True) -> Client:
    client = own_record_for_page(request, page="Intake", record_view=record_view)
    if client is None:
        raise Http404
    return client


def _step_url(slug: str, *, check: bool = False) -> str:
    url = reverse("portal:intake:step", kwargs={"step": slug})
    return f"{url}?check=1" if check else url


@client_required
@require_http_methods(["GET", "POST"])
def intake_start(request: HttpRequest) -> HttpResponse:
    """Start (POST), resume at the first unfinished step, or show the submitted intake."""
    client = _own_client(request)
    draft = selectors.draft_for(client=client)
    if request.method == "POST":
        try:
            draft = services.intake_start(client=client, by=request.user)
        except DomainError as error:
            messages.error(request, str(error))
            return redirect("portal:intake:start")
    if draft is not None:
        progress = selectors.draft_progress(intake=draft, consent=selectors.latest_consent())
        slug = first_unfinished(progress.completed)
        return redirect(_step_url(slug) if slug else reverse("portal:intake:review"))
    submitted = selectors.latest_submitted(client=client)
    if submitted is not None:
        return render(
            request,
            "intake/portal_submitted.html",
            {"client": client, "intake": submitted, "rows": answer_rows(submitted.answers)},
        )
    return render(request, "intake/portal_start.html", {"client": client, "steps": STEPS})


@client_required
@require_http_methods(["GET", "POST"])
def intake_step(request: HttpRequest, step: str) -> HttpResponse:
    current = get_step(step)
    if current is None:
        raise Http404
    client = _own_client(request)
    draft = selectors.draft_for(client=client)
    if draft is None:
        if request.method == "POST":
            messages.error(request, str(services.IntakeLocked()))
        return redirect("portal:intake:start")
    consent = selectors.latest_consent()
    before, after = neighbours(step)
    if request.method == "POST":
        try:
            saved = services.intake_save_step(
                intake=draft, step=step, data=request.POST, by=request.user
            )
        except DomainError as error:
            messages.error(request, str(error))
            return redirect("portal:intake:start")
        action = request.POST.get("action", "next")
        if action == "back" and before is not None:
            return redirect(_step_url(before.slug))
        if action == "later":
            messages.success(request, "Your answers are saved. Come back and finish any time.")
            return redirect("portal:home")
        if saved.complete:
            return redirect(_step_url(after.slug) if after else reverse("portal:intake:review"))
        draft, form = saved.intake, saved.form
    elif request.GET.get("check"):
        # From the review page: show what is missing in what was saved.
        form = stored_form(step, answers=draft.answers, client=client, consent=consent)
        form.is_valid()
    else:
        form = form_for(
            step,
            initial=initial_values(current, answers=draft.answers, client=client),
            client=client,
            consent=consent,
        )
    progress = selectors.draft_progress(intake=draft, consent=consent)
    number = step_number(step)
    return render(
        request,
        "intake/portal_step.html",
        {
            "client": client,
            "intake": draft,
            "step": current,
            "form": form,
            "sections": form_sections(form),
            "progress": progress,
            "number": number,
            "percent": round(number * 100 / progress.total / 5) * 5,
            "before": before,
            "after": after,
            "consent": consent if step == CONSENT_SLUG else None,
            "steps": STEPS,
        },
    )


@client_required
@require_POST
def intake_autosave(request: HttpRequest, step: str) -> HttpResponse:
    """htmx: save the step as typed so far; answers with a one-line status (role=status)."""
    if get_step(step) is None:
        raise Http404
    client = _own_client(request, record_view=False)
    draft = selectors.draft_for(client=client)
    saved_at, problem = None, ""
    if draft is None:
        problem = "Not saved: this form has already been submitted."
    else:
        try:
            saved = services.intake_save_step(
                intake=draft, step=step, data=request.POST, by=request.user
            )
        except DomainError as error:
            problem = f"Not saved: {error}"
        else:
            saved_at = saved.intake.updated_at
    return render(
        request, "intake/_autosave_status.html", {"saved_at": saved_at, "problem": problem}
    )


def _review(request: HttpRequest, client: Client, draft, error=None) -> HttpResponse:
    progress = selectors.draft_progress(intake=draft, consent=selectors.latest_consent())
    missing = [get_step(slug) for slug, done in progress.completed.items() if not done]
    return render(
        request,
        "intake/portal_review.html",
        {
            "client": client,
            "intake": draft,
            "rows": answer_rows(draft.answers, complete=progress.completed),
            "progress": progress,
            "missing": missing,
            "error": error,
        },
        status=400 if error else 200,
    )


@client_required
@require_GET
def intake_review(request: HttpRequest) -> HttpResponse:
    """Every answer on one page before submitting, with a link to change each step."""
    client = _own_client(request)
    draft = selectors.draft_for(client=client)
    if draft is None:
        return redirect("portal:intake:start")
    return _review(request, client, draft)


@client_required
@require_POST
def intake_submit(request: HttpRequest) -> HttpResponse:
    client = _own_client(request)
    draft = selectors.draft_for(client=client)
    if draft is None:
        messages.error(request, str(services.IntakeLocked()))
        return redirect("portal:intake:start")
    try:
        services.intake_submit(intake=draft, by=request.user)
    except DomainError as error:
        return _review(request, client, draft, error=error)
    messages.success(
        request,
        "Thank you. Your intake form was sent to your care team. Your therapist will go "
        "through it with you.",
    )
    return redirect("portal:intake:start")


@client_required
@require_POST
def intake_amend(request: HttpRequest) -> HttpResponse:
    """Request a change: a new draft copied from the submitted intake, which is kept (R17)."""
    client = _own_client(request)
    submitted = selectors.latest_submitted(client=client)
    if submitted is None:
        return redirect("portal:intake:start")
    try:
        services.intake_amend(intake=submitted, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
        return redirect("portal:intake:start")
    messages.info(
        request,
        "Change the answers you need to, then sign and submit again. Your earlier answers stay "
        "on record.",
    )
    return redirect("portal:intake:review")
