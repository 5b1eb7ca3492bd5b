"""A therapist's secret calendar feed (iCal): make one, turn it off, and read it by its token.

Only the sha256 of the token is stored (a database leak does not reveal working addresses); the
address is shown once, when made. One active feed per therapist (also a database constraint):
making a new one first revokes the old one, so the old address stops working at once. R25: the
feed carries the session kind and the client's initials only (see views)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from kap_clinic.errors import DomainError
from sessions.models import CalendarFeed, Session, SessionStatus

if TYPE_CHECKING:
    from accounts.models import User

DAYS_BACK = 30
DAYS_AHEAD = 180


class FeedError(DomainError):
    """A refused feed change; the message is for the user."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _require_own_feed(therapist: User, by: User) -> None:
    # A feed is the therapist's own: admins have none unless they are therapists themselves.
    if not therapist.is_active or not therapist.is_therapist or by.pk != therapist.pk:
        raise FeedError("Only therapists can have a calendar link, and only their own.")


def feed_create(*, therapist: User, by: User) -> tuple[CalendarFeed, str]:
    """A new feed for ``therapist`` and its token (returned once, never stored). Any active feed of
    theirs is revoked first."""
    _require_own_feed(therapist, by)
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        # Serialises two "make a new link" clicks for one therapist.
        get_user_model().objects.select_for_update().filter(pk=therapist.pk).first()
        now = timezone.now()
        CalendarFeed.objects.filter(therapist=therapist, revoked_at__isnull=True).update(
            revoked_at=now
        )
        feed = CalendarFeed.objects.create(therapist=therapist, token_hash=token_hash(token))
    return feed, token


def feed_revoke(*, therapist: User, by: User) -> int:
    """Turn off ``therapist``'s feed; the address stops working at once. Returns how many feeds
    were turned off (0 when there was none)."""
    _require_own_feed(therapist, by)
    with transaction.atomic():
        return CalendarFeed.objects.filter(therapist=therapist, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )


def active_feed(*, therapist: User) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(therapist=therapist, revoked_at__isnull=True).first()


def feed_events(*, token: str) -> tuple[User, QuerySet[Session]] | None:
    """The therapist and their sessions for an active feed's ``token``, or None (unknown or
    revoked token, or the therapist is no longer an active therapist). Sessions from 30 days back
    to 180 days ahead, cancelled ones left out. Records when the feed was last read."""
    if not token or len(token) > 200:
        return None
    feed = (
        CalendarFeed.objects.select_related("therapist")
        .filter(token_hash=token_hash(token), revoked_at__isnull=True)
        .first()
    )
    if feed is None:
        return None
    therapist = feed.therapist
    if not therapist.is_active or not therapist.is_therapist:
        return None
    now = timezone.now()
    CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)
    sessions = (
        Session.objects.filter(
            therapist=therapist,
            starts_at__gte=now - timedelta(days=DAYS_BACK),
            starts_at__lte=now + timedelta(days=DAYS_AHEAD),
        )
        .exclude(status=SessionStatus.CANCELLED)
        .select_related("client")
        .order_by("starts_at", "pk")
    )
    return therapist, sessions
