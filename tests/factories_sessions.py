"""Sessions for tests (issue 5). Rows are written directly (fast, any state); the scheduling
services are for tests of scheduling itself.

Shared by several pieces of work: add new factories below, do not rewrite the ones above."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from patients.models import Client, Phase, TreatmentCourse
from patients.models.courses import CLOSED_PHASES
from sessions.models import Session, SessionKind
from tests.factories import ClientFactory


def course_for(client: Client) -> TreatmentCourse:
    """The client's active course, or a new one in preparation (one active course per client)."""
    active = TreatmentCourse.objects.filter(client=client).exclude(phase__in=CLOSED_PHASES).first()
    if active is not None:
        return active
    return TreatmentCourse.objects.create(
        client=client,
        therapist=client.primary_therapist,
        phase=Phase.PREPARATION,
        opened_by=client.primary_therapist,
    )


def _starts_at(n: int):
    # Two hours apart so the therapist double-booking constraint never trips between rows.
    base = timezone.now().replace(minute=0, second=0, microsecond=0)
    return base + timedelta(days=1, hours=3 * n)


class SessionFactory(factory.django.DjangoModelFactory):
    """``SessionFactory(client=record, kind="integration")``. KAP kinds get the client's active
    course (created in preparation when there is none); general psychotherapy gets no course."""

    class Meta:
        model = Session

    client = factory.SubFactory(ClientFactory)
    kind = SessionKind.PREPARATION
    course = factory.LazyAttribute(
        lambda o: None if o.kind == SessionKind.GENERAL else course_for(o.client)
    )
    therapist = factory.LazyAttribute(lambda o: o.client.primary_therapist)
    starts_at = factory.Sequence(_starts_at)
    ends_at = factory.LazyAttribute(
        lambda o: o.starts_at + timedelta(minutes=180 if o.kind == SessionKind.DOSING else 50)
    )
    location = "Room 2"
    created_by = factory.LazyAttribute(lambda o: o.therapist)
