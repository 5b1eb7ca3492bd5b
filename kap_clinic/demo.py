"""Demo clinic content for `manage.py seed_demo`: people, and clients at each stage that exists so
far (not invited, invited, intake in progress, intake submitted, reviewed, scored, alerted,
archived). Everything is made through the real services, as a clinic's users would make it."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone

from accounts.models import Role, User
from patients import intake_services, questionnaire_services, services
from patients.intake_schema import STEPS
from patients.models import Client, ClientShare

DEMO_PASSWORD = "kap-demo-2026"
DEMO_DOMAIN = "demo.kapclinic.test"
BASE_URL = "http://127.0.0.1:8000"

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
    DemoClient("Maya", "Patel", date(1988, 3, 14), "rivera", True, "intake in progress, PHQ-9 due"),
    DemoClient("Daniel", "Okafor", date(1979, 11, 2), "rivera", True, "intake reviewed, 1 flag"),
    DemoClient("Lena", "Hoffmann", date(1992, 6, 30), "rivera", False, "invited to the portal"),
    DemoClient("Marcus", "Bell", date(1985, 1, 19), "rivera", False, "scores entered in session"),
    DemoClient("Priya", "Shah", date(1990, 9, 8), "chen", True, "intake to review, safety alert"),
    DemoClient("Tom", "Nguyen", date(1975, 4, 25), "chen", False, "not invited yet"),
    DemoClient("Ellen", "Park", date(1969, 12, 1), "chen", False, "archived"),
]

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
        services.invitation_send(by=therapist, client=client, base_url=BASE_URL)
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
            base_url=BASE_URL,
        )
    elif spec.first == "Ellen":
        services.client_archive(by=therapist, client=client, reason="Moved out of state")
