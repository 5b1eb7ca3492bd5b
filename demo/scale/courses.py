"""KAP treatment courses (R1-R8), each told as the story it would have in the clinic and cut off at
now, so every course is in the phase its history leads to: the intake (R17, with its R18 flags),
the referral to a prescriber and its steps (R3), the prescription (R4), three preparation sessions
(R2), dosing sessions at least the prescription's interval apart (R6) each with its chart and an
integration session after it (R7), and completion; some are declined, withdrawn, put on hold,
or stopped along the way. A course whose next session lies ahead has it booked and goes no
further. A tenth of the courses are boosters after a completed course (R1)."""

from __future__ import annotations

import json
from datetime import timedelta

from demo.scale import dosing
from demo.scale.context import DAY, HOUR, MINUTE, Context
from demo.scale.people import chaperone_of
from demo.scale.records import Client, Course, Intake, Prescription, Referral, Session
from demo.scale.therapy import book
from patients.intake.flags import flags_for
from patients.models import Intake as IntakeModel
from patients.models import Prescription as PrescriptionModel
from patients.models import Referral as ReferralModel
from patients.models import TreatmentCourse

DECLINED = (
    "Blood pressure above target at assessment; asks the primary care doctor to treat it "
    "first, then refer again."
)
WITHDRAWN = "Client decided to wait until after moving house."
HOLD_REASONS = (
    "Travelling for work until next month; resume on return.",
    "Family illness; pausing for a few weeks.",
    "Waiting for the primary care doctor's blood-pressure follow-up.",
)
REFERRAL_REASON = (
    "Treatment-resistant depression after two SSRIs; interested in KAP alongside our weekly "
    "therapy. Intake and PHQ-9/GAD-7 attached."
)
ROUTES = ("sublingual",) * 7 + ("buccal",) * 2 + ("oral",)
STEPS = ("about", "contacts", "doctor", "medical", "psychiatric", "substances", "experience")


def make_courses(ctx: Context) -> None:
    """The plan's courses: first courses for as many clients, then boosters for clients whose
    course completed a while ago, topped up with first courses for other clients where too few
    completed in time for one."""
    rng = ctx.rng
    boosters = round(ctx.plan.courses * 0.1)
    order = list(ctx.clients)
    rng.shuffle(order)
    first = ctx.plan.courses - boosters
    for client in order[:first]:
        _story(ctx, client, _opening_day(ctx))
    done = [
        c
        for c in ctx.courses
        if c.phase == "complete" and c.closed is not None and c.closed < ctx.now - 60 * DAY
    ]
    rng.shuffle(done)
    for course in done[:boosters]:
        day = ctx.grid.day_of(course.closed) + rng.randrange(30, 200)
        if day < ctx.grid.today - 2:
            _story(ctx, course.client, day, booster_of=course)
    extra = ctx.plan.courses - len(ctx.courses)
    for client in order[first : first + max(0, extra)]:
        _story(ctx, client, _opening_day(ctx))


def _opening_day(ctx: Context) -> int:
    """Half the courses opened in the last five months (still under way, mostly), half earlier
    in the window (finished, mostly)."""
    today = ctx.grid.today
    if ctx.chance(0.5):
        return ctx.rng.randrange(today - 150, today - 1)
    return ctx.rng.randrange(0, today - 150)


def _story(ctx: Context, client: Client, day: int, *, booster_of: Course | None = None) -> None:
    rng = ctx.rng
    opened = ctx.grid.at(day, 9, rng.randrange(60))
    course = Course(
        id=ctx.ids.take(TreatmentCourse),
        client=client,
        therapist=client.therapist,
        opened=opened,
        booster_of=booster_of,
    )
    course.steps.append(
        ("", "intake", f"Booster after course #{booster_of.id}" if booster_of else "", opened)
    )
    client.courses.append(course)
    ctx.courses.append(course)
    # R17: the intake, online, a few days after the course opened (a booster keeps the first).
    if booster_of is None:
        submit_day = day + rng.randint(3, 18)
        submitted = ctx.grid.at(submit_day, rng.randint(18, 21), rng.randrange(60))
        _intake(ctx, client, opened + rng.randrange(1, 8) * HOUR, submitted)
        if submitted > ctx.now:
            return
        client.scores.append((submitted + 10 * MINUTE, 0.0))
        ref_day = submit_day + rng.randint(1, 4)
    else:
        ref_day = day + rng.randint(0, 3)
    approved = _referred(ctx, course, ref_day)
    if approved is not None:
        prescription, decided = approved
        start = ctx.grid.day_of(decided) + rng.randint(2, 7)
        _treatment(ctx, course, prescription, start, decided)


def _referred(ctx: Context, course: Course, day: int) -> tuple[Prescription, int] | None:
    """R3: the referral, sent the day it is written, reviewed and decided: approved with a
    prescription (returned, with the moment), declined (the course discontinued), or withdrawn
    (the course on hold, later perhaps discontinued). None when the story stops here."""
    rng = ctx.rng
    grid = ctx.grid
    now = ctx.now
    client = course.client
    prescriber_id, prescriber = ctx.pick(ctx.prescribers)
    sent = grid.at(day, 12, rng.randrange(60))
    if sent > now:
        if ctx.chance(0.4) and sent - DAY < now:
            _referral(ctx, client, prescriber_id, now - rng.randrange(1, 20) * HOUR)
        return None
    referral = _referral(ctx, client, prescriber_id, sent - 40 * MINUTE)
    _step(referral, "sent", grid, sent)
    course.move("referral", sent + MINUTE, f"The referral to {prescriber} was sent.")
    review = sent + rng.randint(2, 7) * DAY
    if review > now:
        return None
    _step(referral, "under_review", grid, review)
    decided = review + rng.randint(3, 12) * DAY + rng.randrange(4 * HOUR)
    if decided > now:
        return None
    roll = rng.random() if course.booster_of is None else 1.0
    if roll < 0.08:
        _step(referral, "declined", grid, decided, DECLINED)
        course.move(
            "discontinued",
            decided + HOUR,
            "Prescriber declined for now; continuing weekly therapy without KAP.",
        )
        return None
    if roll < 0.15:
        _step(referral, "withdrawn", grid, decided, WITHDRAWN)
        course.move("on_hold", decided + HOUR, "Waiting until after her move; refer again then.")
        later = decided + rng.randint(30, 120) * DAY
        if ctx.chance(0.5) and later <= now:
            course.move("discontinued", later, "No longer wishes to pursue KAP for now.")
        return None
    prescription = _approve(ctx, client, referral, prescriber_id, decided, course.booster_of)
    course.referral = referral
    course.move("preparation", decided + MINUTE, f"The referral to {prescriber} was approved.")
    return prescription, decided


class _Plan:
    """Where a course's treatment stands as its story is told: the next day to book from, the
    moment of the last event, the doses given, and the events at which it pauses or stops."""

    def __init__(self, ctx: Context, prescription: Prescription, day: int, after: int):
        self.day = day
        self.after = after
        self.given = 0
        self.steps = 0
        self.last_dose_day: int | None = None
        self.hold_at = ctx.rng.randrange(1, 8) if ctx.chance(0.08) else -1
        self.stop_after = -1
        if prescription.doses > 1 and ctx.chance(0.07):
            self.stop_after = ctx.rng.randrange(1, prescription.doses)


def _treatment(ctx: Context, course: Course, prescription: Prescription, day: int, after: int):
    """R2 preparation, then the doses (R6) with their integration sessions (R7), to completion,
    unless a session ahead is booked first (the story stops there) or the client stops."""
    plan = _Plan(ctx, prescription, day, after)
    if not _preparation(ctx, course, plan):
        return
    plan.day = ctx.grid.day_of(plan.after) + ctx.rng.randint(2, 8)
    while plan.given < prescription.doses:
        if not _dose(ctx, course, prescription, plan):
            return
    close = plan.after + ctx.rng.randint(0, 4) * DAY + ctx.rng.randrange(6 * HOUR)
    if close <= ctx.now:
        course.move("complete", close)
        course.client.scores.append((close - HOUR, 1.0))


def _preparation(ctx: Context, course: Course, plan: _Plan) -> bool:
    """R2: the preparation sessions, about a week apart. False when the story stops."""
    for _ in range(ctx.values.prep_sessions_required):
        session = book(ctx, course.client, "preparation", plan.day, course=course, after=plan.after)
        if session is None or session.status != "completed":
            return False
        plan.after = session.end
        plan.day = ctx.grid.day_of(session.start) + ctx.rng.randint(4, 9)
        plan.steps += 1
        if plan.steps == plan.hold_at and not _hold(ctx, course, plan.after):
            return False
    return True


def _dose(ctx: Context, course: Course, prescription: Prescription, plan: _Plan) -> bool:
    """One dosing session (R6: at least the interval after the last dose) with its chart, and
    the integration session after a dose. False when the story stops."""
    rng = ctx.rng
    grid = ctx.grid
    if plan.last_dose_day is not None:
        plan.day = max(plan.day, plan.last_dose_day + prescription.min_days + rng.randint(0, 5))
    if grid.date(plan.day) > prescription.valid_until:
        return False  # expired: the course waits in dosing for a renewal
    session = book(ctx, course.client, "dosing", plan.day, course=course, after=plan.after)
    if session is None:
        return False
    if session.start + 4 * HOUR > ctx.now:
        session.status = "scheduled"  # booked ahead, or under way
        session.changed = None
        return False
    record = dosing.chart(ctx, session, prescription)
    session.chart = record
    session.changed = record.discharged or record.deferred
    if record.given is None:
        plan.after = session.changed
        plan.day = grid.day_of(session.start) + 7
        return True
    plan.given += 1
    plan.last_dose_day = grid.day_of(session.start)
    if plan.given == 1:
        course.move("dosing", record.given)
    # R19: scores before each dose.
    course.client.scores.append((session.start - rng.randrange(12, 36) * HOUR, plan.given / 7))
    integration = _integration(ctx, course, session, record)
    if integration is None:
        return False
    plan.after = integration.end
    plan.day = plan.last_dose_day + prescription.min_days
    return _goes_on(ctx, course, plan)


def _goes_on(ctx: Context, course: Course, plan: _Plan) -> bool:
    """After a dose and its integration: a pause on hold, or the client stopping here."""
    plan.steps += 1
    if plan.steps == plan.hold_at and not _hold(ctx, course, plan.after):
        return False
    if plan.given != plan.stop_after:
        return True
    stopped = plan.after + ctx.rng.randint(1, 10) * DAY
    if stopped <= ctx.now:
        course.move(
            "discontinued",
            stopped,
            f"Client chose to stop after {plan.given} dose{'s' if plan.given != 1 else ''}; "
            "continuing weekly therapy.",
        )
    return False


def _integration(ctx: Context, course: Course, dosing_session, record) -> Session | None:
    """R7: an integration session one to four days after the dose, booked at the end of the
    dosing session or in the days after (then the therapist's 24-hour check may have raised an
    alert first, R8). A few recent doses have none booked yet. The held session, or None (none,
    or it lies ahead: the story stops)."""
    rng = ctx.rng
    grid = ctx.grid
    dose_day = grid.day_of(record.given)
    if dose_day >= grid.today - 12 and ctx.chance(0.25):
        return None  # not booked yet: reminders pending or sent, an alert open
    late = record.given + rng.randrange(6, 60) * HOUR
    booked = record.discharged if ctx.chance(0.6) else late
    if booked > ctx.now:
        return None
    session = book(
        ctx,
        course.client,
        "integration",
        dose_day + rng.randint(1, 4),
        course=course,
        booked=booked,
        after=record.discharged,
        follows=dosing_session,
    )
    if session is None:
        return None
    record.integration = session
    return session if session.status == "completed" else None


def _hold(ctx: Context, course: Course, after: int) -> bool:
    """On hold for a few weeks, then resumed (True), unless now falls in the hold."""
    start = after + ctx.rng.randint(1, 5) * DAY
    if start > ctx.now:
        return False
    course.move("on_hold", start, ctx.pick(HOLD_REASONS))
    resume = start + ctx.rng.randint(14, 45) * DAY
    if resume > ctx.now:
        return False
    course.move(course.before_hold, resume, "Back and ready to continue.")
    return True


def _referral(ctx: Context, client: Client, prescriber: int, created: int) -> Referral:
    referral = Referral(
        id=ctx.ids.take(ReferralModel),
        client=client,
        prescriber=prescriber,
        by=client.therapist,
        created=created,
        updated=created,
    )
    ctx.referrals.append(referral)
    return referral


def _step(referral: Referral, to: str, grid, ts: int, reason: str = "") -> None:
    day = grid.date(grid.day_of(ts))
    referral.steps.append((referral.status, to, day, reason, ts))
    referral.status = to
    referral.status_date = day
    referral.status_reason = reason
    referral.updated = ts


def _approve(ctx, client, referral, prescriber_id, decided, booster_of) -> Prescription:
    """R3/R4: approved with a prescription; a booster's replaces the one in force (R24)."""
    rng = ctx.rng
    day = ctx.grid.date(ctx.grid.day_of(decided))
    _step(referral, "approved", ctx.grid, decided, "Approved after assessment.")
    dose = ctx.pick((100, 150, 200, 200, 250, 300))
    prescription = Prescription(
        id=ctx.ids.take(PrescriptionModel),
        client=client,
        referral=referral,
        prescriber=prescriber_id,
        by=client.therapist,
        created=decided + 30,
        received=day,
        valid_until=day + timedelta(days=180),
        dose_mg=dose,
        tablets=1 if dose <= 150 else 2,
        doses=rng.randint(1, 3) if booster_of else ctx.pick((2, 3, 4, 4, 6, 6, 6)),
        min_days=ctx.pick((14, 14, 14, 7, 21)),
        route=ctx.pick(ROUTES),
        form="troche" if ctx.chance(0.15) else "rdt",
    )
    current = client.prescription
    if current is not None:
        current.superseded_at = decided + 30
        prescription.supersedes = current
    client.prescription = prescription
    ctx.prescriptions.append(prescription)
    return prescription


# --- R17/R18 intake ---------------------------------------------------------------------------

_TEMPLATES: list[tuple[dict, list[tuple[str, str]]]] = []


def _answer_templates(ctx: Context) -> list[tuple[dict, list[tuple[str, str]]]]:
    """Stored intake answers (the shape the intake service saves), most with every R18
    question answered No, some raising flags; each with the flags ``flags_for`` finds in it."""
    if _TEMPLATES:
        return _TEMPLATES
    base = {
        "goals": {
            "goals": "Feel less stuck in low moods and reconnect with friends.",
            "concerns": "Feeling out of control during the session.",
        },
        "doctor": {
            "has_pcp": "yes",
            "pcp_name": "Dr. Ellen Hart",
            "pcp_phone": "+15552015555",
            "pcp_practice": "Elm Family Practice",
        },
        "medical": {
            "heart": "no",
            "liver": "no",
            "bladder": "no",
            "high_bp": "no",
            "aneurysm": "no",
            "glaucoma": "no",
            "allergies": "None known",
            "pregnancy": "no",
            "bp_history": "",
            "medications": "Sertraline 50 mg daily",
            "bp_controlled": "",
            "hyperthyroidism": "no",
            "ketamine_allergy": "no",
        },
        "experience": {
            "ketamine_before": "no",
            "experience_notes": "",
            "psychedelics_before": "no",
        },
        "substances": {
            "drugs": "never",
            "alcohol": "monthly",
            "substance_notes": "",
            "substance_use_disorder": "no",
        },
        "psychiatric": {
            "mania": "no",
            "psychosis": "no",
            "dissociative": "no",
            "psychiatric_notes": "",
            "suicidal_thoughts": "no",
        },
    }
    variants = [
        {},
        {},
        {},
        {},
        {"medical": {"high_bp": "yes", "bp_controlled": "unsure"}},
        {"medical": {"high_bp": "yes", "bp_controlled": "yes"}},
        {"psychiatric": {"dissociative": "unsure"}},
        {"substances": {"substance_use_disorder": "unsure", "alcohol": "weekly"}},
        {"medical": {"glaucoma": "yes"}, "psychiatric": {"mania": "unsure"}},
        {"medical": {"bladder": "unsure"}},
    ]
    for variant in variants:
        answers = json.loads(json.dumps(base))
        for step, values in variant.items():
            answers[step].update(values)
        flags = [(str(code), json.dumps(evidence)) for code, evidence in flags_for(answers)]
        _TEMPLATES.append((answers, flags))
    return _TEMPLATES


def _intake(ctx: Context, client: Client, created: int, submitted: int) -> None:
    templates = _answer_templates(ctx)
    base, flags = ctx.pick(templates)
    answers = dict(base)
    answers["about"] = {
        "phone": client.phone,
        "address": f"{ctx.rng.randint(2, 980)} Elm Street\nSpringfield",
        "pronouns": "",
        "date_of_birth": client.born.isoformat(),
        "preferred_name": "",
    }
    chaperone = chaperone_of(client)
    answers["contacts"] = {
        "chaperone_name": chaperone,
        "emergency_name": chaperone,
        "chaperone_phone": "+15552019999",
        "emergency_phone": "+15552019999",
        "emergency_relationship": ctx.pick(("Partner", "Sister", "Friend", "Parent")),
    }
    done = submitted <= ctx.now
    if done:
        answers["consent"] = {
            "name": f"{client.first} {client.last}",
            "agree": True,
            "version": ctx.consent[1],
        }
        last_step = "consent"
    else:
        steps = STEPS[: ctx.rng.randint(1, len(STEPS))]
        answers = {key: value for key, value in answers.items() if key in steps}
        last_step = steps[-1]
    intake = Intake(
        id=ctx.ids.take(IntakeModel),
        client=client,
        created=created,
        answers=json.dumps(answers),
        last_step=last_step,
        submitted=submitted if done else None,
        flags=flags if done else [],
    )
    if done and ctx.chance(0.7):
        intake.reviewed = submitted + ctx.rng.randrange(10, 60) * HOUR
        intake.reviewer = client.therapist
        if intake.reviewed > ctx.now:
            intake.reviewed = None
            intake.reviewer = None
    client.intake = intake
    ctx.intakes.append(intake)
