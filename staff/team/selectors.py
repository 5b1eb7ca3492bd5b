"""Reads for the staff pages: what a therapist's caseload is made of, before it is reassigned."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Role, User
from patients.models import Client, TreatmentCourse
from patients.models.courses import ACTIVE_PHASES
from sessions.models import Session, SessionStatus


@dataclass(frozen=True)
class Caseload:
    clients: list[Client]
    courses: list[TreatmentCourse]
    future_sessions: list[Session]

    @property
    def is_empty(self) -> bool:
        return not (self.clients or self.courses)


def caseload_clients(*, therapist: User) -> QuerySet[Client]:
    """Clients the therapist is primary therapist of and that are not archived."""
    return Client.objects.active().filter(primary_therapist=therapist)


def caseload_courses(*, therapist: User) -> QuerySet[TreatmentCourse]:
    """Courses still running (on hold included) that the therapist leads."""
    return TreatmentCourse.objects.filter(therapist=therapist, phase__in=ACTIVE_PHASES)


def caseload_future_sessions(*, therapist: User, clients) -> QuerySet[Session]:
    """Scheduled sessions still to come with this therapist, for the given clients."""
    return Session.objects.filter(
        therapist=therapist,
        client__in=clients,
        status=SessionStatus.SCHEDULED,
        starts_at__gte=timezone.now(),
    )


def caseload(*, therapist: User) -> Caseload:
    """Three queries whatever the size of the caseload."""
    clients = caseload_clients(therapist=therapist)
    return Caseload(
        clients=list(clients),
        courses=list(caseload_courses(therapist=therapist).select_related("client")),
        future_sessions=list(
            caseload_future_sessions(therapist=therapist, clients=clients).select_related("client")
        ),
    )


def caseload_count(*, therapist: User) -> int:
    return caseload_clients(therapist=therapist).count()


def receiving_therapists(*, exclude: User) -> QuerySet[User]:
    """Active therapists who can take over a caseload."""
    return (
        User.objects.filter(role=Role.THERAPIST, is_active=True)
        .exclude(pk=exclude.pk)
        .order_by("last_name", "first_name")
    )
