"""The guided dosing-session chart (R9-R16, R20): one page in phases (preparation → pre-dose blood
pressure → dose → return and discharge) and one POST endpoint per step.

Views are thin: the access policy (client_for_view), the session (session_for_chart) or 404, a
form for the input's shape, then dosing_services, which checks every rule again. A refusal
(DosingError) re-renders the chart with the form as typed and the message beside it; a success
redirects back to the chart at the step that follows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.access import staff_required
from accounts.middleware import keep_alive
from clinic import settings_reader
from kap_clinic import formats
from kap_clinic.errors import DomainError
from patients.access import can_change_client, client_for_view
from patients.models import Client
from patients.questionnaires.scoring import PHQ_GAD_CHOICES
from patients.record_access import row_for_page
from patients.referrals.selectors import current_prescription
from sessions.dosing import forms, rules, services
from sessions.dosing.selectors import (
    ChartState,
    chart_keeps_alive,
    chart_sessions,
    chart_state,
    session_for_chart,
)
from sessions.models import BloodPressureReading, DoseAdministration, PrescriberNotice, Session

PAGE = "Dosing chart"

STEPS = (
    ("preparation", "Preparation", "preparation"),
    ("blood_pressure", "Blood pressure", "blood-pressure"),
    ("administration", "Dose", "dose"),
    ("return", "Return & discharge", "return"),
)
_STEP_INDEX = {"start": 0, "preparation": 0, "blood_pressure": 1, "administration": 2, "return": 3}


@dataclass(frozen=True)
class Step:
    label: str
    state: str  # done, current, next, stopped, locked
    anchor: str


def stepper(state: ChartState) -> list[Step]:
    """The four phases of R10 as done / current / locked; a deferral stops at the step it
    happened in."""
    phase = state.phase
    if phase == "discharged":
        return [Step(label, "done", anchor) for _, label, anchor in STEPS]
    if phase == "deferred":
        stop = 0 if state.chart.preparation_done_at is None else 1
        states = ["done"] * stop + ["stopped"] + ["locked"] * (len(STEPS) - stop - 1)
    elif phase == "return" and state.dose.spat_at is None:
        # The hold is running: the dose is the step in hand; the return is open already (an
        # adverse event can happen now) but comes next.
        states = ["done", "done", "current", "next"]
    else:
        here = _STEP_INDEX[phase]
        states = ["done"] * here + ["current"] + ["locked"] * (len(STEPS) - here - 1)
    return [Step(label, s, anchor) for (_, label, anchor), s in zip(STEPS, states, strict=True)]


def _session(request: HttpRequest, client_id: int, session_id: int, *, change: bool) -> Session:
    client = client_for_view(request, client_id, page=PAGE, for_change=change)
    session = session_for_chart(client=client, session_id=session_id)
    if session is None:
        raise Http404
    return session


def _chart_url(session: Session, anchor: str = "") -> str:
    url = reverse(
        "patients:sessions:dosing_chart",
        kwargs={"client_id": session.client_id, "session_id": session.pk},
    )
    return f"{url}#{anchor}" if anchor else url


def _back(session: Session, anchor: str) -> HttpResponse:
    return redirect(_chart_url(session, anchor))


def _session_page_url(session: Session) -> str:
    return session.get_absolute_url()


def _dose_number(session: Session, prescription) -> int | None:
    """Which dose of the prescription this session holds ("dose 3 of 6"). One query."""
    if prescription is None:
        return None
    before = (
        DoseAdministration.objects.counted_against(prescription)
        .filter(given_at__lt=session.starts_at)
        .exclude(session=session)
        .count()
    )
    return before + 1


def _duration(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    parts = [f"{hours} hour{'s' if hours != 1 else ''}"] if hours else []
    if rest:
        parts.append(f"{rest} minutes")
    return " ".join(parts)


def _iso(moment) -> str:
    """For static/js/dosing.js: the clinic's local time with its UTC offset, to the second."""
    return timezone.localtime(moment).replace(microsecond=0).isoformat() if moment else ""


def prescription_text(prescription, number: int | None) -> str:
    """ "100 mg, 1 RDT, sublingual; dose 3 of 6"."""
    unit = {"rdt": "RDT", "troche": "troche"}.get(prescription.form, "tablet")
    count = prescription.tablets_per_dose
    text = (
        f"{prescription.dose_mg} mg, {count} {unit}{'s' if count != 1 else ''}, "
        f"{prescription.get_route_display().lower()}"
    )
    if number is not None:
        text += f"; dose {number} of {prescription.doses_authorised}"
    return text


def _forms(state: ChartState, bound: dict) -> dict:
    """Every form the page can show, unbound with sensible defaults, except the one just
    refused (``bound``), which keeps what was typed."""
    session, chart = state.session, state.chart
    day = formats.clinic_date(session.starts_at)
    now = timezone.localtime(state.now).time().replace(second=0, microsecond=0)
    prescription = state.prescription
    built = {
        "prep": forms.PrepareForm(
            day=day,
            initial={
                "check_in": chart.check_in,
                "intention": chart.intention,
                "fasting_confirmed": chart.fasting_confirmed,
                "chaperone_confirmed": chart.chaperone_confirmed,
            }
            if chart
            else None,
        ),
        "pre": forms.ReadingForm(
            day=day, pre_dose=True, initial={"moment": "pre_dose", "taken_time": now}
        ),
        "post": forms.ReadingForm(
            day=day,
            pre_dose=False,
            initial={
                "moment": "discharge" if state.post_dose_vitals_taken else "post_dose",
                "taken_time": now,
            },
        ),
        "defer": forms.DeferForm(day=day),
        "dose": forms.DoseForm(
            day=day,
            initial={
                "given_time": now,
                "dose_mg": prescription.dose_mg if prescription else None,
                "tablets": prescription.tablets_per_dose if prescription else None,
                "hold_minutes": settings_reader.current().dose_hold_minutes,
            },
        ),
        "hold": forms.HoldEndForm(day=day, initial={"spat_time": now}),
        "ae": forms.AdverseEventForm(day=day, initial={"noticed_time": now}),
        "return": forms.ReturnForm(
            day=day,
            initial={
                "return_notes": chart.return_notes,
                "chaperone_name": chart.chaperone_name,
                "chaperone_phone": chart.chaperone_phone,
                "pickup_expected_time": timezone.localtime(chart.pickup_expected_at).time()
                if chart.pickup_expected_at
                else None,
            }
            if chart
            else None,
        ),
        "discharge": forms.DischargeForm(day=day, initial={"pickup_time": now}),
    }
    notices = {
        n.pk: forms.NoticeDoneForm(day=day, notice_id=n.pk) for n in state.notices if not n.done_at
    }
    for key, form in bound.items():
        if key.startswith("notice"):
            notices[int(key[len("notice") :])] = form
        else:
            built[key] = form
    built["notices"] = [(n, notices.get(n.pk)) for n in state.notices]
    return built


def _visible_forms(state: ChartState) -> set[str]:
    """The forms the page shows in the chart's phase (templates/sessions/_dosing_*.html). A
    refusal for any other (a crafted POST, or a second person charting meanwhile) is shown at
    the top of the chart instead."""
    phase = state.phase
    keys = {
        "start": {"start"},
        "preparation": {"prep", "defer"},
        "blood_pressure": {"prep", "pre", "defer"},
        "administration": {"prep", "pre", "defer", "dose"},
        "return": {"post", "ae", "return", "discharge"},
        "deferred": {"ae"},
    }.get(phase, set())
    if phase == "return" and state.dose.spat_at is None:
        keys.add("hold")
    keys.update(f"notice{n.pk}" for n in state.notices if not n.done_at)
    return keys


def _page(
    request: HttpRequest,
    session: Session,
    *,
    bound: dict | None = None,
    error: str = "",
    warning: str = "",
    where: str = "",
) -> HttpResponse:
    """The chart. ``where`` names the form that ``error`` or ``warning`` belongs to."""
    state = chart_state(session=session)
    prescription = state.prescription or current_prescription(client=session.client)
    thresholds = state.thresholds
    number = _dose_number(session, prescription)
    context = {
        "client": session.client,
        "session": session,
        "state": state,
        "chart": state.chart,
        "dose": state.dose,
        "gate": state.gate,
        "phase": state.phase,
        "steps": stepper(state),
        "prescription": prescription,
        "prescription_text": prescription_text(prescription, number) if prescription else "",
        # R4: shown before the chart is started, which refuses it (dosing_services).
        "route_problem": rules.route_blocker(prescription.route) if prescription else None,
        "safety_answer": dict(PHQ_GAD_CHOICES).get(state.safety.item9_score)
        if state.safety
        else "",
        "safety_needed": bool(
            state.safety and state.chart and not state.chart.safety_alert_acknowledged_at
        ),
        "iso": {
            "now": _iso(state.now),
            "recheck": _iso(state.gate.next_reading_at),
            "open_until": _iso(state.gate.open_until),
            "hold": _iso(state.hold_ends_at),
            "vitals": _iso(state.post_dose_vitals_due_at),
            "discharge": _iso(state.earliest_discharge_at),
        },
        "keepalive_url": reverse(
            "patients:sessions:dosing_keepalive",
            kwargs={"client_id": session.client_id, "session_id": session.pk},
        )
        if chart_keeps_alive(session, now=state.now)
        else "",
        "keepalive_seconds": settings.DOSING_KEEPALIVE_SECONDS,
        "thresholds": thresholds,
        "recheck_minutes": int(thresholds.recheck_wait.total_seconds() // 60),
        "observation_text": _duration(int(thresholds.min_observation.total_seconds() // 60)),
        "post_dose_minutes": int(thresholds.post_dose_vitals_after.total_seconds() // 60),
        "forms": _forms(state, bound or {}),
        "error": error,
        "warning": warning,
        "where": where,
        "elsewhere": bool(where) and where not in _visible_forms(state),
        "elsewhere_form": (bound or {}).get(where),
        "session_page": _session_page_url(session),
        "discharge_reading_taken": any(
            r.moment == BloodPressureReading.Moment.DISCHARGE for r in state.readings
        ),
        "vitals_overdue": bool(
            state.dose
            and not state.post_dose_vitals_taken
            and state.now >= state.post_dose_vitals_due_at
        ),
        **_integration_prompt(session, state),
    }
    return render(request, "sessions/dosing_chart.html", context)


def _integration_prompt(session: Session, state: ChartState) -> dict:
    """R7: after the dose, the integration session 1-3 days later: the one booked, or a link that
    books it (the day after the dose at 10:00, to adjust). One query once a dose is given."""
    if state.dose is None:
        return {}
    booked = (
        Session.objects.filter(follows_dose=session)
        .exclude(status="cancelled")
        .order_by("starts_at")
        .first()
    )
    day_after = formats.clinic_date(state.dose.given_at) + timedelta(days=1)
    return {
        "integration_booked": booked,
        "integration_book_url": reverse(
            "patients:sessions:create", kwargs={"client_id": session.client_id}
        )
        + f"?kind=integration&start={day_after.isoformat()}T10:00",
    }


@staff_required
def dosing_chart(request: HttpRequest, client_id: int, session_id: int) -> HttpResponse:
    # The session with its client through the access policy, in one query.
    rows = chart_sessions()
    return _page(
        request, row_for_page(request, rows, client_id=client_id, pk=session_id, page=PAGE)
    )


# --- Steps ---------------------------------------------------------------------------------------


def _refused(request, session, key: str, form, error: Exception) -> HttpResponse:
    return _page(request, session, bound={key: form}, error=str(error), where=key)


@staff_required
@require_POST
def dosing_keepalive(request: HttpRequest, client_id: int, session_id: int) -> HttpResponse:
    """The open chart's ping (static/js/dosing.js, every minute while the page is visible): 204
    and the sign-in stays alive while the session is under way (R22 otherwise: 15 idle minutes
    would sign the therapist out mid-dose); 409 once the chart is closed, and the ping stops.
    Shows no client data, so it records no view (the chart's own page did)."""
    client = Client.objects.filter(pk=client_id).first()
    if client is None or not can_change_client(request.user, client):
        raise Http404
    session = session_for_chart(client=client, session_id=session_id)
    if session is None:
        raise Http404
    if not chart_keeps_alive(session, now=timezone.now()):
        return HttpResponse(status=409)
    keep_alive(request)
    return HttpResponse(status=204)


@staff_required
@require_POST
def dosing_start(request: HttpRequest, client_id: int, session_id: int) -> HttpResponse:
    session = _session(request, client_id, session_id, change=True)
    try:
        services.chart_open(session=session, by=request.user)
    except DomainError as error:
        return _page(request, session, error=str(error), where="start")
    messages.success(request, "Dosing chart started. Begin with the preparation.")
    return _back(session, "preparation")


@staff_required
@require_POST
def dosing_prepare(request: HttpRequest, client_id: int, session_id: int) -> HttpResponse:
    session = _session(request, client_id, session_id, change=True)
    form = forms.PrepareForm(request.POST, day=formats.clinic_date(session.starts_at))
    if not form.is_valid():
        return _page(request, session, bound={"prep": form}, where="prep")
    data = form.cleaned_data
    try:
        services.chart_prepare(
            session=session,
            by=request.user,
            check_in=data["check_in"],
            intention=data["intention"],
            fasting_confirmed=data["fasting_confirmed"],
            chaperone_confirmed=data["chaperone_confirmed"],
            acknowledge_safety=data["acknowledge_safety"],
        )
    except services.PreparationIncomplete as incomplete:
        # Saved as typed; what is missing is a to-do, not a failure.
        return _page(request, session, bound={"prep": form}, warning=str(incomplete), where="prep")
    except DomainError as error:
        return _refused(request, session, "prep", form, error)
    messages.success(request, "Preparation saved. Next: the pre-dose blood pressure.")
    return _back(session, "blood-pressure")


@staff_required
@require_POST
def dosing_bp(request: HttpRequest, client_id: int, session_id: int) -> HttpResponse:
    session = _session(request, client_id, session_id, change=True)
    pre_dose = request.POST.get("moment", "pre_dose") == BloodPressureReading.Moment.PRE_DOSE
    key = "pre" if pre_dose else "post"
    form = forms.ReadingForm(
        request.POST, day=formats.clinic_date(session.starts_at), pre_dose=pre_dose
    )
    if not form.is_valid():
        return _page(request, session, bound={key: form}, where=key)
    data = form.cleaned_data
    try:
        reading = services.bp_record(
            session=session,
            by=request.user,
            moment=data["moment"],
            systolic=data["systolic"],
            diastolic=data["diastolic"],
            pulse=data["pulse"],
            taken_at=data["taken_at"],
        )
    except DomainError as error:
        return _refused(request, session, key, form, error)
    recorded = f"Blood pressure {reading.systolic}/{reading.diastolic} recorded"
    if reading.result == BloodPressureReading.Result.IN_RANGE:
        messages.success(request, f"{recorded}: in range.")
    elif reading.result == BloodPressureReading.Result.HIGH:
        messages.warning(request, f"{recorded}: high (at or above the defer threshold).")
    else:
        messages.error(request, f"{recorded}: at or above the hard stop.")
    if not pre_dose:
        return _back(session, "return")
    # An in-range pre-dose reading opens the dose step: go there.
    return _back(session, "dose" if reading.result == "in_range" else "blood-pressure")


@staff_required
@require_POST
def dosing_defer(request: HttpRequest, client_id: int, session_id: int) -> HttpResponse:
    session = _session(request, client_id, session_id, change=True)
    form = forms.DeferForm(request.POST, day=formats.clinic_date(session.starts_at))
    if not form.is_valid():
        return _page(request, session, bound={"defer": form}, where="defer")
    try:
        services.chart_defer(session=session, by=request.user, note=form.cleaned_data["note"])
    except DomainError as error:
        return _refused(request, session, "defer", form, error)
    messages.success(request, "The dose is deferred for today. The session is completed.")
    return _back(session, "outcome")


@staff_required
@require_POST
def dosing_administer(request: HttpRequest, client_id: int, session_id: int) -> HttpResponse:
    session = _session(request, client_id, session_id, change=True)
    form = forms.DoseForm(request.POST, day=formats.clinic_date(session.starts_at))
    if not form.is_valid():
        return _page(request, session, bound={"dose": form}, where="dose")
    data = form.cleaned_data
    try:
        services.dose_record(
            session=session,
            by=request.user,
            given_at=data["given_at"],
            dose_mg=data["dose_mg"],
            tablets=data["tablets"],
            mismatch_reason=data["mismatch_reason"],
            hold_minutes=data["hold_minutes"],
            eye_mask=data["eye_mask"],
            music=data["music"],
            setting_notes=data["setting_notes"],
        )
    except DomainError as error:
        return _refused(request, session, "dose", form, error)
    messages.success(request, "Dose recorded. The hold timer is running.")
    return _back(session, "dose")


@staff_required
@require_POST
def dosing_hold_end(request: HttpRequest, client_id: int, session_id: int) -> HttpResponse:
    session = _session(request, client_id, session_id, change=True)
    form = forms.HoldEndForm(request.POST, day=formats.clinic_date(session.starts_at))
    if not form.is_valid():
        return _page(request, session, bound={"hold": form}, where="hold")
    try:
        services.dose_hold_end(
            session=session,
            by=request.user,
            spat_at=form.cleaned_data["spat_at"],
            swallowed=form.cleaned_data["swallowed"],
        )
    except DomainError as error:
        return _refused(request, session, "hold", form, error)
    messages.success(request, "End of the hold recorded.")
    return _back(session, "return")


@staff_required
@require_POST
def dosing_adverse(request: HttpRequest, client_id: int, session_id: int) -> HttpResponse:
    session = _session(request, client_id, session_id, change=True)
    form = forms.AdverseEventForm(request.POST, day=formats.clinic_date(session.starts_at))
    if not form.is_valid():
        return _page(request, session, bound={"ae": form}, where="ae")
    data = form.cleaned_data
    try:
        event = services.adverse_event_record(
            session=session,
            by=request.user,
            kind=data["kind"],
            severity=data["severity"],
            noticed_at=data["noticed_at"],
            description=data["description"],
            rescue_medication=data["rescue_medication"],
        )
    except DomainError as error:
        return _refused(request, session, "ae", form, error)
    messages.success(request, f"Adverse event recorded: {event}.")
    return _back(session, "adverse-events")


@staff_required
@require_POST
def dosing_return(request: HttpRequest, client_id: int, session_id: int) -> HttpResponse:
    session = _session(request, client_id, session_id, change=True)
    form = forms.ReturnForm(request.POST, day=formats.clinic_date(session.starts_at))
    if not form.is_valid():
        return _page(request, session, bound={"return": form}, where="return")
    data = form.cleaned_data
    try:
        services.chart_return_save(
            session=session,
            by=request.user,
            return_notes=data["return_notes"],
            chaperone_name=data["chaperone_name"],
            chaperone_phone=data["chaperone_phone"],
            pickup_expected_at=data["pickup_expected_at"],
        )
    except DomainError as error:
        return _refused(request, session, "return", form, error)
    messages.success(request, "Return notes and chaperone saved.")
    return _back(session, "discharge")


@staff_required
@require_POST
def dosing_discharge(request: HttpRequest, client_id: int, session_id: int) -> HttpResponse:
    session = _session(request, client_id, session_id, change=True)
    form = forms.DischargeForm(request.POST, day=formats.clinic_date(session.starts_at))
    if not form.is_valid():
        return _page(request, session, bound={"discharge": form}, where="discharge")
    try:
        chart = services.discharge(
            session=session, by=request.user, pickup_at=form.cleaned_data["pickup_at"]
        )
    except DomainError as error:
        return _refused(request, session, "discharge", form, error)
    messages.success(
        request,
        f"Discharged into the care of {chart.chaperone_name}. The session is completed.",
    )
    return _back(session, "outcome")


@staff_required
@require_POST
def dosing_notice_done(
    request: HttpRequest, client_id: int, session_id: int, notice_id: int
) -> HttpResponse:
    session = _session(request, client_id, session_id, change=True)
    notice = PrescriberNotice.objects.filter(session=session, pk=notice_id).first()
    if notice is None:
        raise Http404
    notice.session = session
    key = f"notice{notice.pk}"
    form = forms.NoticeDoneForm(
        request.POST, day=formats.clinic_date(session.starts_at), notice_id=notice.pk
    )
    if not form.is_valid():
        return _page(request, session, bound={key: form}, where=key)
    try:
        services.prescriber_notice_done(
            notice=notice, by=request.user, note=form.cleaned_data["note"]
        )
    except DomainError as error:
        return _refused(request, session, key, form, error)
    messages.success(request, "Recorded: the prescriber has been informed.")
    return _back(session, "outcome")
