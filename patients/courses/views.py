"""Staff pages for treatment courses (R1-R6): the client's courses, one course with its timeline,
numbers and allowed phase changes, and the prescriber hand-off summary. Every page goes through
the access policy (client_for_view); every change goes through courses.services."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.access import staff_required
from integration import selectors as integration_selectors
from kap_clinic.errors import DomainError, add_refusal
from patients.access import client_for_view
from patients.courses import detail as course_page
from patients.courses import outcomes as outcome_selectors
from patients.courses import selectors, services
from patients.courses.forms import CourseOpenForm, TransitionForm
from patients.courses.handoff import handoff
from patients.models import Client, Phase, TreatmentCourse
from patients.record_access import row_for_page


def _list_url(client_id: int) -> str:
    return reverse("patients:courses:list", kwargs={"client_id": client_id})


def _course_or_404(client: Client, course_id: int) -> TreatmentCourse:
    course = selectors.course_for_client(client=client, course_id=course_id)
    if course is None:
        raise Http404
    return course


@staff_required
def course_list(request: HttpRequest, client_id: int) -> HttpResponse:
    client = client_for_view(request, client_id, page="Treatment courses")
    courses = list(selectors.client_courses(client=client))
    active = next((c for c in courses if c.is_active), None)
    latest = courses[0] if courses else None
    return render(
        request,
        "courses/course_list.html",
        {
            "client": client,
            "courses": courses,
            "active": active,
            "booster_after": latest if latest and latest.phase == Phase.COMPLETE else None,
        },
    )


@staff_required
@require_POST
def course_open(request: HttpRequest, client_id: int) -> HttpResponse:
    client = client_for_view(request, client_id, page="Open a treatment course", for_change=True)
    form = CourseOpenForm(request.POST, client=client)
    if not form.is_valid():
        messages.error(request, "That course is not one of this client's courses.")
        return redirect(_list_url(client.pk))
    booster_of = form.cleaned_data["booster_of"]
    try:
        course = services.course_open(client=client, by=request.user, booster_of=booster_of)
    except DomainError as error:
        messages.error(request, str(error))
        return redirect(_list_url(client.pk))
    messages.success(
        request,
        f"{'Booster course' if booster_of else 'Treatment course'} opened for "
        f"{client.full_name}. It starts in intake.",
    )
    return redirect(_detail_url(course))


def _detail_url(course: TreatmentCourse) -> str:
    return reverse(
        "patients:courses:detail", kwargs={"client_id": course.client_id, "course_id": course.pk}
    )


def _detail_page(
    request: HttpRequest, course: TreatmentCourse, failed: TransitionForm | None = None
) -> HttpResponse:
    detail = course_page.course_detail(course=course)
    forms = {}
    for action in detail.actions:
        if failed is not None and failed.kind == action.kind:
            forms[action.kind] = failed
        else:
            forms[action.kind] = TransitionForm(
                kind=action.kind, initial={"to_phase": action.to_phase}
            )
    return render(
        request,
        "courses/course_detail.html",
        {
            "client": course.client,
            "course": course,
            "detail": detail,
            "numbers": detail.numbers,
            "action_forms": [(action, forms[action.kind]) for action in detail.actions],
            "failed": failed,
            # R8: the reminders of this course's doses (one query).
            "course_reminders": list(
                integration_selectors.reminders_for(request.user, course=course)
            ),
            # R19: PHQ-9 / GAD-7 over time with this course's doses (one query: the scores).
            "outcome": outcome_selectors.outcome_chart(
                client=course.client, course=course, doses=detail.dose_dates
            ),
        },
    )


def _course_for_page(request: HttpRequest, client_id: int, course_id: int, page: str):
    """The course with its client, through the access policy, in one query (and the view's
    access row)."""
    rows = selectors.course_rows()
    return row_for_page(request, rows, client_id=client_id, pk=course_id, page=page)


@staff_required
def course_detail(request: HttpRequest, client_id: int, course_id: int) -> HttpResponse:
    return _detail_page(
        request, _course_for_page(request, client_id, course_id, "Treatment course")
    )


@staff_required
@require_POST
def course_transition(request: HttpRequest, client_id: int, course_id: int) -> HttpResponse:
    client = client_for_view(
        request, client_id, page="Change a treatment course phase", for_change=True
    )
    course = _course_or_404(client, course_id)
    kind = request.POST.get("kind", "")
    form = TransitionForm(request.POST, kind=kind if kind in _KINDS else "change")
    if form.is_valid():
        to_phase = form.cleaned_data["to_phase"]
        try:
            services.course_advance(
                course=course,
                to_phase=to_phase,
                by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            add_refusal(form, error)
        else:
            messages.success(request, _done_message(course, to_phase))
            return redirect(_detail_url(course))
    return _detail_page(request, course, failed=form)


_KINDS = {"forward", "resume", "hold", "discontinue"}


def _done_message(course: TreatmentCourse, to_phase: str) -> str:
    if to_phase == Phase.ON_HOLD:
        return "The course is on hold. Resume it from this page when the client is ready."
    if to_phase == Phase.DISCONTINUED:
        return "The course was discontinued. Its history is kept."
    if to_phase == Phase.COMPLETE:
        return "The course is complete. A booster course can follow it."
    return f"The course is now in {Phase(to_phase).label.lower()}."


@staff_required
def course_handoff(request: HttpRequest, client_id: int, course_id: int) -> HttpResponse:
    course = _course_for_page(request, client_id, course_id, "Prescriber hand-off summary")
    summary = handoff(course=course)
    return render(
        request,
        "courses/handoff.html",
        {"client": course.client, "course": course, "summary": summary, "numbers": summary.numbers},
    )
