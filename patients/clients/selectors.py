"""Reads for the client pages; each runs a fixed number of queries whatever the caseload size."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, TypedDict

from django.db.models import (
    Count,
    Exists,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone

from accounts.models import Role, User
from patients.access import visible_clients
from patients.models import (
    Client,
    ClientFlag,
    ClientShare,
    Intake,
    PortalInvitation,
    QuestionnaireResponse,
    TreatmentCourse,
)
from patients.models.questionnaires import Instrument

if TYPE_CHECKING:
    from django.db.models import OrderBy
    from django_stubs_ext import WithAnnotations


class ClientStatus(TypedDict):
    """The annotations _with_status adds to each client."""

    course_phase: str | None
    has_open_invitation: bool
    intake_status: str | None
    intake_reviewed_at: datetime | None
    flag_count: int


if TYPE_CHECKING:
    ClientWithStatus = WithAnnotations[Client, ClientStatus]


def _with_status(clients: QuerySet[Client]) -> QuerySet[ClientWithStatus]:
    """Annotate what the list shows and filters on, as subqueries (no N+1)."""
    open_invitation = PortalInvitation.objects.filter(
        client=OuterRef("pk"),
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    )
    intakes = Intake.objects.filter(client=OuterRef("pk")).order_by("-created_at", "-id")
    flag_count = (
        ClientFlag.objects.filter(client=OuterRef("pk"), is_current=True)
        .order_by()
        .values("client")
        .annotate(n=Count("id"))
        .values("n")
    )
    courses = TreatmentCourse.objects.filter(client=OuterRef("pk")).order_by("-opened_at", "-id")
    return clients.annotate(
        course_phase=Subquery(courses.values("phase")[:1]),
        has_open_invitation=Exists(open_invitation),
        intake_status=Subquery(intakes.values("status")[:1]),
        intake_reviewed_at=Subquery(
            intakes.filter(status=Intake.Status.SUBMITTED).values("reviewed_at")[:1]
        ),
        flag_count=Coalesce(Subquery(flag_count, output_field=IntegerField()), 0),
    )


# The client list's "Portal and intake" filter, on the annotations of _with_status.
STATUS_FILTERS: dict[str, Q] = {
    "not_invited": Q(user__isnull=True, has_open_invitation=False),
    "invited": Q(user__isnull=True, has_open_invitation=True),
    "intake_due": Q(intake_status__isnull=True) | Q(intake_status=Intake.Status.DRAFT),
    "intake_to_review": Q(intake_status=Intake.Status.SUBMITTED, intake_reviewed_at__isnull=True),
    "intake_reviewed": Q(intake_reviewed_at__isnull=False),
}


def _search_term(term: str) -> Q:
    """One word of the search: a name, an e-mail address, or three digits or more of a phone."""
    match = (
        Q(first_name__icontains=term)
        | Q(last_name__icontains=term)
        | Q(preferred_name__icontains=term)
        | Q(email__icontains=term)
    )
    digits = "".join(ch for ch in term if ch.isdigit())
    if len(digits) >= 3:
        match |= Q(phone_digits__contains=digits)
    return match


def client_list(
    *,
    user: User,
    search: str = "",
    archived: bool = False,
    status: str = "",
    phase: str = "",
    flag: str = "",
    sort: str = "name",
) -> QuerySet[ClientWithStatus]:
    """The caseload ``user`` may see (admins: everyone), searched, filtered and sorted."""
    visible = visible_clients(user).select_related("primary_therapist", "user")
    clients = _with_status(visible.filter(archived_at__isnull=not archived))
    for term in search.split()[:5]:
        clients = clients.filter(_search_term(term))
    if status in STATUS_FILTERS:
        clients = clients.filter(STATUS_FILTERS[status])
    if phase == "none":
        # django-stubs checks any lookup on an annotation against its type, here str | None.
        clients = clients.filter(course_phase__isnull=True)  # type: ignore[misc]
    elif phase:
        clients = clients.filter(course_phase=phase)

    if flag == "any":
        clients = clients.filter(flag_count__gt=0)
    elif flag:
        clients = clients.filter(
            Exists(ClientFlag.objects.filter(client=OuterRef("pk"), is_current=True, code=flag))
        )

    orders: dict[str, list[str | OrderBy | Lower]] = {
        "-created": ["-created_at", "-id"],
        "flags": [F("flag_count").desc(), "last_name", "first_name", "id"],
    }
    by_name: list[str | OrderBy | Lower] = ["last_name", "first_name", "id"]
    if search.split():
        # A search's matches by name, case aside, sorted as a set: ordered on the plain columns,
        # PostgreSQL walked the list's name index (client_list_name_idx) from "A" filtering each
        # client against the search, which for a common name starting late in the alphabet read
        # half the clinic (24,626 of 48,011 at N=10) to fill a page, instead of the few hundred
        # matches the name search indexes (pg_trgm) find at once.
        by_name = [Lower("last_name"), Lower("first_name"), "id"]
    return clients.order_by(*orders.get(sort, by_name))


def client_shares(*, client: Client):
    return client.shares.filter(revoked_at__isnull=True).select_related("therapist")


@dataclass
class Sharing:
    """The record's "Shared with" panel: the live shares, and the therapists the share form
    offers (only for who may manage the shares)."""

    shares: list[ClientShare]
    choices: list[User] = field(default_factory=list)


def sharing(*, client: Client, manage: bool) -> Sharing:
    """The live shares of ``client`` with their therapists, by name; with ``manage``, also the
    active therapists it can still be shared with (not the primary therapist, not already
    shared). One query either way: for the form it reads every active therapist with their live
    share of this client joined (at most one, a constraint), so the shares come from the same
    rows, where the form used to run its own query twice (the page tested it, then listed it)."""
    if not manage:
        shares = client_shares(client=client).order_by(
            "therapist__last_name", "therapist__first_name", "id"
        )
        return Sharing(shares=list(shares))
    rows = (
        User.objects.annotate(
            live=FilteredRelation(
                "shared_clients",
                condition=Q(shared_clients__client=client, shared_clients__revoked_at__isnull=True),
            )
        )
        .filter(Q(role=Role.THERAPIST, is_active=True) | Q(live__isnull=False))
        .annotate(
            share_id=F("live__id"),
            share_reason=F("live__reason"),
            share_created_at=F("live__created_at"),
        )
        .order_by("last_name", "first_name", "id")
    )
    result = Sharing(shares=[])
    for user in rows:
        if user.share_id is not None:
            result.shares.append(
                ClientShare(
                    pk=user.share_id,
                    client=client,
                    therapist=user,
                    reason=user.share_reason,
                    created_at=user.share_created_at,
                )
            )
        elif user.pk != client.primary_therapist_id:
            result.choices.append(user)
    return result


def latest_scores(responses: list[QuestionnaireResponse]) -> dict[str, QuestionnaireResponse]:
    """What questionnaires.selectors.latest_scores answers (the newest response per instrument,
    PHQ-9, GAD-7, PCL-5 in that order), from the client's responses already loaded oldest first
    (courses.outcomes.scores_of). No query."""
    newest = {response.instrument: response for response in responses}
    return {key: newest[key] for key in Instrument.values if key in newest}


def portal_status(*, client: Client) -> dict:
    """What the record page says about the client's portal access, and the open invitation. One
    query: the portal account (none when it came with the client, none without one), or else the
    latest invitation."""
    user = client.user  # None without a query when there is no portal account
    if user is not None:
        if not user.is_active:
            return {"state": "deactivated", "label": "Portal access closed", "invitation": None}
        if user.last_login:
            return {"state": "active", "label": "Active", "invitation": None}
        return {"state": "never_used", "label": "Signed up, never signed in", "invitation": None}
    invitation = client.invitations.select_related("message").order_by("-created_at", "-id").first()
    if invitation and invitation.is_open:
        return {"state": "invited", "label": "Invited", "invitation": invitation}
    if invitation and invitation.revoked_at is None and invitation.accepted_at is None:
        return {"state": "expired", "label": "Invitation expired, never used", "invitation": None}
    return {"state": "not_invited", "label": "Not invited", "invitation": None}
