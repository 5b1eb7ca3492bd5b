"""Demo clinic content for `manage.py seed_demo`: people, and clients at each stage that exists so
far (not invited, invited, intake in progress, intake submitted, reviewed, scored, alerted,
archived). Everything is made through the real services, as a clinic's users would make it."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.utils import timezone

from accounts.models import Role, User
from demo.sessions import (
    backdate_course,
    backdate_referral,
    build_scores,
    build_sessions,
    remind_next_session,
)
from patients.clients import services
from patients.courses import services as course_services
from patients.intake import services as intake_services
from patients.intake.schema import STEPS
from patients.models import Client, ClientShare, Prescriber, TreatmentCourse
from patients.questionnaires import services as questionnaire_services
from patients.referrals import services as referral_services

DEMO_PASSWORD = "kap-demo-2026"
DEMO_DOMAIN = "demo.kapclinic.test"
# Where the demo's links point (invitation, alert e-mails, the printed sign-in address) when
# SITE_URL is not set: `make run` sets it in .env, with the port in use.
DEFAULT_SITE_URL = "http://127.0.0.1:8000"


def site_url() -> str:
    return settings.SITE_URL or DEFAULT_SITE_URL


STAFF = [
    ("admin", "Alex", "Morgan", Role.ADMIN),
    ("rivera", "Sam", "Rivera", Role.THERAPIST),
    ("chen", "Jordan", "Chen", Role.THERAPIST),
]


@dataclass(frozen=True)
class DemoClient:
    first: str
    last: str
    born: date
    therapist: str
    portal: bool
    stage: str


CLIENTS = [
    DemoClient(
        "Maya", "Patel", date(1988, 3, 14), "rivera", True, "intake in progress, draft referral"
    ),
    DemoClient(
        "Daniel", "Okafor", date(1979, 11, 2), "rivera", True, "prepared; first dose today, 9:00"
    ),
    DemoClient("Lena", "Hoffmann", date(1992, 6, 30), "rivera", False, "invited to the portal"),
    DemoClient("Marcus", "Bell", date(1985, 1, 19), "rivera", False, "scores entered in session"),
    DemoClient("Priya", "Shah", date(1990, 9, 8), "chen", True, "referral sent, safety alert"),
    DemoClient("Tom", "Nguyen", date(1975, 4, 25), "chen", False, "not invited yet"),
    DemoClient("Ellen", "Park", date(1969, 12, 1), "chen", False, "archived"),
    DemoClient(
        "Sofia", "Reyes", date(1994, 2, 17), "chen", True, "referral under review, course on hold"
    ),
    DemoClient(
        "Ben", "Carter", date(1981, 7, 9), "rivera", True, "referral declined, course discontinued"
    ),
    DemoClient("Hana", "Kim", date(1987, 5, 23), "chen", True, "referral withdrawn"),
    DemoClient("Ruth", "Alvarez", date(1983, 8, 12), "rivera", True, "dosing: 3 of 6 doses given"),
    DemoClient("Grace", "Liu", date(1991, 10, 4), "chen", True, "course complete"),
]

PRESCRIBERS = [
    {
        "organisation": "Horizon KAP Prescribing",
        "clinician_name": "Amara Okoye",
        "credentials": "PMHNP-BC",
        "email": "referrals@horizon-kap.test",
        "phone": "+15550142000",
        "fax": "+15550142001",
        "notes": "Assessment by video within 10 days; ships tablets to the client's home.",
    },
    {
        "organisation": "",
        "clinician_name": "Lee Whitman",
        "credentials": "MD (psychiatry)",
        "email": "lwhitman@whitman-psychiatry.test",
        "phone": "+15550143000",
        "fax": "",
        "notes": "Sees clients in person on Tuesdays.",
    },
]

PRESCRIPTION = {
    "medication": "Ketamine",
    "form": "rdt",
    "route": "sublingual",
    "dose_mg": 200,
    "tablets_per_dose": 2,
    "doses_authorised": 6,
    "min_days_between_doses": 14,
}

NO_TO_ALL = {
    "medical": {
        "high_bp": "no",
        "heart": "no",
        "aneurysm": "no",
        "glaucoma": "no",
        "liver": "no",
        "bladder": "no",
        "hyperthyroidism": "no",
        "ketamine_allergy": "no",
        "pregnancy": "no",
        "medications": "Sertraline 50 mg daily",
        "allergies": "None known",
    },
    "psychiatric": {
        "psychosis": "no",
        "dissociative": "no",
        "mania": "no",
        "suicidal_thoughts": "no",
    },
    "substances": {"alcohol": "monthly", "drugs": "never", "substance_use_disorder": "no"},
    "experience": {"ketamine_before": "no", "psychedelics_before": "no"},
    "goals": {
        "goals": "Feel less stuck in low moods and reconnect with friends.",
        "concerns": "Feeling out of control during the session.",
    },
}


def intake_answers(client: Client) -> dict[str, dict]:
    """What a client would type into every step, all R18 questions answered No."""
    phone = f"(555) 201-{client.pk % 10000:04d}"
    return {
        "about": {
            "preferred_name": "",
            "pronouns": "",
            "date_of_birth": client.date_of_birth.isoformat() if client.date_of_birth else "",
            "phone": phone,
            "address": "12 Elm Street\nSpringfield",
        },
        "contacts": {
            "emergency_name": "Robin " + client.last_name,
            "emergency_relationship": "Partner",
            "emergency_phone": "555-201-9999",
            "chaperone_name": "Robin " + client.last_name,
            "chaperone_phone": "555-201-9999",
        },
        "doctor": {
            "has_pcp": "yes",
            "pcp_name": "Dr. Ellen Hart",
            "pcp_practice": "Elm Family Practice",
            "pcp_phone": "555 201 5555",
        },
        **copy.deepcopy(NO_TO_ALL),
        "consent": {"name": client.full_name, "agree": "on"},
    }


def user(login: str, first: str, last: str, role: str) -> User:
    person, created = User.objects.get_or_create(
        email=f"{login}@{DEMO_DOMAIN}",
        defaults={"first_name": first, "last_name": last, "role": role},
    )
    if created:
        person.set_password(DEMO_PASSWORD)
        person.save(update_fields=["password"])
    return person


def build() -> dict[str, User]:
    staff = {login: user(login, first, last, role) for login, first, last, role in STAFF}
    for spec in CLIENTS:
        login = spec.first.lower()
        therapist = staff[spec.therapist]
        client = Client.objects.filter(email=f"{login}@{DEMO_DOMAIN}").first()
        if client is None:
            client = services.client_create(
                by=therapist,
                first_name=spec.first,
                last_name=spec.last,
                date_of_birth=spec.born,
                email=f"{login}@{DEMO_DOMAIN}",
                phone="+15550100" + str(len(login)).zfill(3)[-3:],
            )
            if spec.portal:
                client.user = user(login, spec.first, spec.last, Role.CLIENT)
                client.save(update_fields=["user", "updated_at"])
            _stage(spec, client, therapist, staff)
    _referrals_and_courses(staff)

    build_sessions(staff, PRESCRIPTION, _fill)
    build_scores(staff)
    remind_next_session()
    marcus = Client.objects.get(email=f"marcus@{DEMO_DOMAIN}")
    ClientShare.objects.get_or_create(
        client=marcus,
        therapist=staff["chen"],
        revoked_at__isnull=True,
        defaults={"granted_by": staff["admin"], "reason": "Holiday cover"},
    )
    return staff


def _fill(client: Client, steps: int | None = None):
    intake = intake_services.intake_start(client=client, by=client.user)
    answers = intake_answers(client)
    for step in STEPS[:steps]:
        intake = intake_services.intake_save_step(
            intake=intake, step=step.slug, data=answers[step.slug], by=client.user
        ).intake
    return intake


def _stage(spec: DemoClient, client: Client, therapist: User, staff: dict[str, User]) -> None:
    submit = questionnaire_services.questionnaire_submit
    if spec.first == "Maya":
        _fill(client, steps=3)
        questionnaire_services.questionnaire_request(
            client=client,
            instrument="phq9",
            by=therapist,
            due_date=timezone.localdate() + timedelta(days=3),
        )
    elif spec.first == "Daniel":
        intake = _fill(client)
        intake = intake_services.intake_save_step(
            intake=intake,
            step="medical",
            data={**NO_TO_ALL["medical"], "high_bp": "yes", "bp_controlled": "unsure"},
            by=client.user,
        ).intake
        intake = intake_services.intake_submit(intake=intake, by=client.user)
        intake_services.intake_mark_reviewed(intake=intake, by=therapist)
        submit(
            client=client, instrument="phq9", answers=[2, 1, 2, 1, 1, 1, 1, 1, 0], by=client.user
        )
        submit(client=client, instrument="gad7", answers=[1, 2, 1, 1, 1, 0, 1], by=client.user)
    elif spec.first == "Lena":
        services.invitation_send(by=therapist, client=client, base_url=site_url())
    elif spec.first == "Marcus":
        submit(client=client, instrument="phq9", answers=[1, 1, 1, 0, 1, 0, 1, 0, 0], by=therapist)
        submit(client=client, instrument="gad7", answers=[2, 2, 1, 1, 0, 1, 1], by=therapist)
    elif spec.first == "Priya":
        intake = _fill(client)
        intake_services.intake_submit(intake=intake, by=client.user)
        submit(
            client=client,
            instrument="phq9",
            answers=[2, 2, 1, 2, 1, 2, 1, 1, 1],
            by=client.user,
            base_url=site_url(),
        )
    elif spec.first == "Ellen":
        services.client_archive(by=therapist, client=client, reason="Moved out of state")


def _prescribers() -> list[Prescriber]:
    found = []
    for fields in PRESCRIBERS:
        prescriber, _ = Prescriber.objects.get_or_create(
            clinician_name=fields["clinician_name"], defaults=fields
        )
        found.append(prescriber)
    return found


def _referrals_and_courses(staff: dict[str, User]) -> None:
    """One client in each referral state (R3) and each course phase reachable so far (R1).
    Dosing and complete need completed preparation sessions (R2), which the scheduling issue adds;
    until then no course can reach them. Runs once: clients who already have a referral or a
    course are left alone."""
    horizon, whitman = _prescribers()
    today = timezone.localdate()

    def client(first: str) -> Client:
        return Client.objects.get(email=f"{first.lower()}@{DEMO_DOMAIN}")

    def fresh(record: Client) -> bool:
        return not record.referrals.exists() and not record.courses.exists()

    def refer(record: Client, prescriber: Prescriber, by: User, days_ago: int):
        referral = referral_services.referral_create(
            client=record,
            prescriber=prescriber,
            reason="Treatment-resistant depression after two SSRIs; interested in KAP alongside "
            "our weekly therapy. Intake and PHQ-9/GAD-7 attached.",
            by=by,
        )
        backdate_referral(referral, today - timedelta(days=days_ago))
        referral_services.referral_transition(
            referral=referral,
            to_status="sent",
            happened_on=today - timedelta(days=days_ago),
            by=by,
        )
        return referral

    # Maya: course open, still in intake (her intake form is in progress); referral in draft.
    maya, rivera, chen = client("Maya"), staff["rivera"], staff["chen"]
    if fresh(maya):
        course_services.course_open(client=maya, by=rivera)
        referral_services.referral_create(
            client=maya,
            prescriber=horizon,
            reason="Long-standing depression; wants to explore KAP once intake is complete.",
            by=rivera,
        )

    # Daniel: referral approved with a prescription; the course opened with the referral and
    # followed it to preparation (R1).
    daniel = client("Daniel")
    if fresh(daniel):
        referral = refer(daniel, horizon, rivera, days_ago=20)
        referral_services.referral_transition(
            referral=referral,
            to_status="under_review",
            happened_on=today - timedelta(days=15),
            by=rivera,
        )
        referral_services.referral_approve(
            referral=referral,
            happened_on=today - timedelta(days=7),
            by=rivera,
            reason="Approved after video assessment; BP to be checked before each dose.",
            received_on=today - timedelta(days=7),
            valid_until=today + timedelta(days=173),
            **PRESCRIPTION,
        )
        backdate_course(daniel)

    # Priya: referral sent, course in the referral phase.
    priya = client("Priya")
    if fresh(priya):
        course = course_services.course_open(client=priya, by=chen)
        course_services.course_advance(course=course, to_phase="referral", by=chen)
        refer(priya, whitman, chen, days_ago=2)

    # Sofia: submitted intake, referral under review; course put on hold while she travels.
    sofia = client("Sofia")
    if fresh(sofia):
        intake_services.intake_submit(intake=_fill(sofia), by=sofia.user)
        course = course_services.course_open(client=sofia, by=chen)
        course_services.course_advance(course=course, to_phase="referral", by=chen)
        referral = refer(sofia, horizon, chen, days_ago=6)
        referral_services.referral_transition(
            referral=referral,
            to_status="under_review",
            happened_on=today - timedelta(days=3),
            by=chen,
        )
        course_services.course_advance(
            course=course,
            to_phase="on_hold",
            by=chen,
            reason="Travelling for work until next month; resume on return.",
        )

    # Ben: referral declined; the course was discontinued.
    ben = client("Ben")
    if fresh(ben):
        intake_services.intake_submit(intake=_fill(ben), by=ben.user)
        course = course_services.course_open(client=ben, by=rivera)
        course_services.course_advance(course=course, to_phase="referral", by=rivera)
        referral = refer(ben, whitman, rivera, days_ago=30)
        referral_services.referral_transition(
            referral=referral,
            to_status="declined",
            happened_on=today - timedelta(days=21),
            reason="Blood pressure above target at assessment; asks the primary care doctor to "
            "treat it first, then refer again.",
            by=rivera,
        )
        course_services.course_advance(
            course=course,
            to_phase="discontinued",
            by=rivera,
            reason="Prescriber declined for now; continuing weekly therapy without KAP.",
        )

    # Hana: referral withdrawn before the prescriber saw it; the course it opened waits on hold.
    hana = client("Hana")
    if fresh(hana):
        intake_services.intake_submit(intake=_fill(hana), by=hana.user)
        referral = refer(hana, horizon, chen, days_ago=10)
        referral_services.referral_transition(
            referral=referral,
            to_status="withdrawn",
            happened_on=today - timedelta(days=8),
            reason="Client decided to wait until after moving house.",
            by=chen,
        )
        course_services.course_advance(
            course=TreatmentCourse.objects.get(client=hana, phase="referral"),
            to_phase="on_hold",
            by=chen,
            reason="Waiting until after her move; refer again then.",
        )
