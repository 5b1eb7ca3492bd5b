"""Intake test data: a consent text, complete answers for every step, intakes built through the
real services (so tests exercise what the portal does)."""

from __future__ import annotations

import copy
from datetime import timedelta

import factory
from django.utils import timezone

from patients.intake import services as intake_services
from patients.intake.schema import STEPS
from patients.models import Client, ConsentDocument, Intake


class ConsentDocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsentDocument
        django_get_or_create = ("version",)

    version = "test-v1"
    title = "Consent to Ketamine-Assisted Psychotherapy"
    body = "You agree to take part.\n\nYou can stop at any time."
    published_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=30))


def consent() -> ConsentDocument:
    """The consent text in force: the migrated one if present (transactional tests flush it)."""
    return ConsentDocument.objects.order_by("-published_at").first() or ConsentDocumentFactory()


ALL_NO_MEDICAL = {
    "high_bp": "no",
    "bp_controlled": "",
    "bp_history": "",
    "heart": "no",
    "aneurysm": "no",
    "glaucoma": "no",
    "liver": "no",
    "bladder": "no",
    "hyperthyroidism": "no",
    "ketamine_allergy": "no",
    "pregnancy": "no",
    "medications": "Sertraline 50 mg daily",
    "allergies": "None",
}

POST_BY_STEP = {
    "about": {
        "preferred_name": "May",
        "pronouns": "she/her",
        "date_of_birth": "1988-03-14",
        "phone": "(555) 201-3344",
        "address": "12 Elm Street\nSpringfield",
    },
    "contacts": {
        "emergency_name": "Ravi Patel",
        "emergency_relationship": "Brother",
        "emergency_phone": "555-201-9999",
        "chaperone_name": "Leah Patel",
        "chaperone_phone": "+1 555 201 7777",
    },
    "doctor": {
        "has_pcp": "yes",
        "pcp_name": "Dr. Ellen Hart",
        "pcp_practice": "Elm Family Practice",
        "pcp_phone": "555 201 5555",
    },
    "medical": ALL_NO_MEDICAL,
    "psychiatric": {
        "psychosis": "no",
        "dissociative": "no",
        "mania": "no",
        "suicidal_thoughts": "no",
        "psychiatric_notes": "",
    },
    "substances": {
        "alcohol": "monthly",
        "drugs": "never",
        "substance_use_disorder": "no",
        "substance_notes": "",
    },
    "experience": {"ketamine_before": "no", "psychedelics_before": "no", "experience_notes": ""},
    "goals": {"goals": "Feel less stuck.", "concerns": ""},
    "consent": {"name": "", "agree": "on"},
}


def step_post(step: str, client: Client, **overrides) -> dict:
    """What the portal form for ``step`` posts when filled in completely (all No)."""
    data = copy.deepcopy(POST_BY_STEP[step])
    if step == "consent":
        data["name"] = client.full_name
    data.update(overrides)
    return data


def fill_all(intake: Intake, *, overrides: dict | None = None) -> Intake:
    """Save every step of ``intake`` through the service, as the client would."""
    consent()
    overrides = overrides or {}
    for step in STEPS:
        data = step_post(step.slug, intake.client, **overrides.get(step.slug, {}))
        intake = intake_services.intake_save_step(
            intake=intake, step=step.slug, data=data, by=intake.client.user
        ).intake
    return intake


def submitted_intake(client: Client, *, overrides: dict | None = None) -> Intake:
    """A complete, submitted intake for ``client`` (who must have a portal login)."""
    intake = intake_services.intake_start(client=client, by=client.user)
    intake = fill_all(intake, overrides=overrides)
    return intake_services.intake_submit(intake=intake, by=client.user)
