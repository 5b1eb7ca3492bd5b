"""Caseload reassignment (admins): a departing therapist's clients, running courses and upcoming
sessions move to another therapist in one action."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.db.models.signals import pre_save

from accounts.models import Role, User
from kap_clinic.errors import DomainError
from sessions.models import Session
from staff.team import selectors


class CaseloadError(DomainError):
    pass


@dataclass(frozen=True)
class CaseloadReassignment:
    clients: int
    courses: int
    sessions_moved: list
    sessions_clashing: list


def caseload_reassign(
    *, from_therapist: User, to_therapist: User, by: User, reason: str
) -> CaseloadReassignment:
    """Move every non-archived client (primary therapist) and every running course of
    ``from_therapist`` to ``to_therapist`` in one transaction: all of it or nothing.

    Future scheduled sessions of those clients move too when the receiving therapist is free at
    that time; the ones that would clash stay with the old therapist and are returned, for the
    admin to rebook (a therapist never has two sessions at once). Each row is saved one by one so
    the change trail records every move (R22), with the reason; nothing is deleted (R24).
    """
    reason = _check(from_therapist=from_therapist, to_therapist=to_therapist, by=by, reason=reason)
    with (
        _reason_on_the_change_trail(f"Caseload reassigned: {reason}"[:500]) as mark,
        transaction.atomic(),
    ):
        # Lock the rows being moved so a record changed meanwhile is not overwritten.
        clients = list(
            selectors.caseload_clients(therapist=from_therapist).select_for_update().order_by("pk")
        )
        courses = list(
            selectors.caseload_courses(therapist=from_therapist).select_for_update().order_by("pk")
        )
        sessions = list(
            selectors.caseload_future_sessions(therapist=from_therapist, clients=clients)
            .select_for_update()
            .order_by("starts_at", "pk")
        )
        if not clients and not courses:
            # Also what a resent form (a page reload after a reassignment) meets.
            raise CaseloadError(
                f"{from_therapist.get_full_name()} has no active clients or running "
                "treatment courses to reassign."
            )
        for client in clients:
            mark(client)
            client.primary_therapist = to_therapist
            client.save(update_fields=["primary_therapist", "updated_at"])
        for course in courses:
            mark(course)
            course.therapist = to_therapist
            course.save(update_fields=["therapist"])
        moved, clashing = _move_sessions(
            sessions, from_therapist=from_therapist, to_therapist=to_therapist, mark=mark
        )
    return CaseloadReassignment(
        clients=len(clients),
        courses=len(courses),
        sessions_moved=moved,
        sessions_clashing=clashing,
    )


def _check(*, from_therapist: User, to_therapist: User, by: User, reason: str) -> str:
    """The reassignment's preconditions; returns the reason, trimmed."""
    if not by.is_admin:
        raise PermissionError("Only admins reassign a caseload.")
    reason = (reason or "").strip()
    if not reason:
        raise CaseloadError("Give a reason for the reassignment.")
    if to_therapist.pk == from_therapist.pk:
        raise CaseloadError("Choose a different therapist: this is the same person.")
    if to_therapist.role != Role.THERAPIST:
        raise CaseloadError(f"{to_therapist.get_full_name()} is not a therapist.")
    if not to_therapist.is_active:
        raise CaseloadError(
            f"{to_therapist.get_full_name()}'s account is deactivated. Choose an active therapist."
        )
    return reason


@contextmanager
def _reason_on_the_change_trail(note: str) -> Iterator[Callable[[Model], None]]:
    """Yields ``mark(row)``: the change-trail rows written for a marked row carry ``note`` as
    their reason (those rows are append-only, so it is added before they are saved, and only to
    our own rows)."""
    tagged: set[tuple[int, str]] = set()

    def tag(sender, instance, **kwargs):
        if (instance.content_type_id, str(instance.object_pk)) in tagged:
            instance.additional_data = {**(instance.additional_data or {}), "reason": note}

    def mark(row: Model) -> None:
        tagged.add((ContentType.objects.get_for_model(row).pk, str(row.pk)))

    uid = f"caseload_reassign:{id(tagged)}"
    pre_save.connect(tag, sender=LogEntry, dispatch_uid=uid, weak=False)
    try:
        yield mark
    finally:
        pre_save.disconnect(sender=LogEntry, dispatch_uid=uid)


def _move_sessions(
    sessions: list[Session], *, from_therapist: User, to_therapist: User, mark
) -> tuple[list[Session], list[Session]]:
    """Each upcoming session moves when the new therapist is free then; (moved, clashing)."""
    moved, clashing = [], []
    for session in sessions:
        busy = (
            Session.objects.booked()
            .filter(therapist=to_therapist)
            .overlapping(session.starts_at, session.ends_at)
            .exists()
        )
        if busy:
            clashing.append(session)
            continue
        mark(session)
        session.therapist = to_therapist
        try:
            # A session booked for the new therapist since the check above: the database's
            # no-double-booking constraint refuses; this one stays.
            with transaction.atomic():
                session.save(update_fields=["therapist", "updated_at"])
        except IntegrityError:
            session.therapist = from_therapist
            clashing.append(session)
            continue
        moved.append(session)
    return moved, clashing
