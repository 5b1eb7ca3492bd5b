"""Reads for the admin's audit browser; fixed query counts whatever the size of the trail.

The trail grows with every page view (two million rows at a 500-therapist group), so nothing here
reads it whole: a page is a keyset page of 25 rows in (time, id) order, served by the indexes of
audit migration 0003; its "how many" stops at 10,000 (kap_clinic.listing); and the people and
clients to filter by are found by what the admin types, a few at a time, never listed in full."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from auditlog.models import LogEntry
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Field, Model, Q, QuerySet

from accounts.models import User
from audit.models import AccessEvent
from kap_clinic import formats
from kap_clinic.listing import COUNT_CAP, KeysetPage, capped_counts, keyset_page
from patients.access import visible_clients
from patients.models import Client

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.contenttypes.fields import GenericForeignKey
    from django.db.models import ForeignObjectRel

# As the app's other keyset lists (reminders, outbox): paging is cheap now, and 50 rows took
# the page to 3.5 times the base layout's time on this machine (25: 2.6).
PAGE_SIZE = 25
# The newest first, ties (two rows in one microsecond) broken by id, so a cursor names one row.
ORDERS = {"views": ("-at", "-id"), "changes": ("-timestamp", "-id")}
# Search words taken from what is typed, and the longest word: enough for "Maya Patel" or an
# e-mail address; a pasted page of text is not a name.
SEARCH_WORDS = 4
SEARCH_WORD_LENGTH = 100
# A search needs one word this long: shorter ones match a good part of any clinic ("an", "li")
# and give a trigram index nothing to look up (see the report on patients_client's indexes).
SEARCH_MIN_LENGTH = 3


def access_events(
    *, user=None, client=None, date_from: date | None = None, date_to: date | None = None
) -> QuerySet[AccessEvent]:
    events = AccessEvent.objects.select_related("user", "client")
    if user is not None:
        events = events.filter(user=user)
    if client is not None:
        events = events.filter(client=client)
    if date_from:
        events = events.filter(at__gte=formats.day_start(date_from))
    if date_to:
        events = events.filter(at__lt=formats.day_start(date_to + timedelta(days=1)))
    return events.order_by(*ORDERS["views"])


def change_entries(
    *, user=None, client=None, date_from: date | None = None, date_to: date | None = None
) -> QuerySet[LogEntry]:
    entries = LogEntry.objects.select_related("actor", "content_type")
    if user is not None:
        entries = entries.filter(actor=user)
    if client is not None:
        # The form the (additional_data -> 'client_id') index of migration 0003 is built on.
        entries = entries.filter(additional_data__client_id=client.pk)
    if date_from:
        entries = entries.filter(timestamp__gte=formats.day_start(date_from))
    if date_to:
        entries = entries.filter(timestamp__lt=formats.day_start(date_to + timedelta(days=1)))
    return entries.order_by(*ORDERS["changes"])


@dataclass
class TrailPage:
    """One page of the trail: its rows (``page.rows``), the cursors of the pages beside it, and
    how many entries match the filters, counted up to kap_clinic.listing.COUNT_CAP."""

    page: KeysetPage
    count: int

    @property
    def count_text(self) -> str:
        """ "1 entry", "1,234 entries", "More than 10,000 entries"."""
        if self.count > COUNT_CAP:
            return f"More than {COUNT_CAP:,} entries"
        return f"{self.count:,} entr{'y' if self.count == 1 else 'ies'}"


def trail_page(
    *, kind: str, filters: dict, older: str | None = None, newer: str | None = None
) -> TrailPage:
    """The page of access views (``kind="views"``) or changes after the cursor ``older`` or
    before ``newer`` (the newest page without either; a cursor that does not parse is ignored).
    Two queries, whatever the size of the trail: the rows (one more than a page, to know whether
    an older page exists) and the capped count. Changes add describe_changes's few."""
    rows = access_events(**filters) if kind == "views" else change_entries(**filters)
    page = keyset_page(rows, order=ORDERS[kind], after=older, before=newer, size=PAGE_SIZE)
    if kind == "changes":
        describe_changes(page.rows)
    return TrailPage(page=page, count=capped_counts({"entries": rows})["entries"])


# --- Finding whom to filter by -----------------------------------------------------------------


def _words(text: str) -> list[str]:
    """The words of a search, or none when no word is SEARCH_MIN_LENGTH long."""
    words = [word[:SEARCH_WORD_LENGTH] for word in text.split()[:SEARCH_WORDS]]
    return words if any(len(word) >= SEARCH_MIN_LENGTH for word in words) else []


def searchable(text: str) -> bool:
    return bool(_words(text))


def _every_word(words: list[str], fields: tuple[str, ...]) -> Q:
    """Each word found in one of ``fields`` (any part of it, any case): "pat maya" finds Maya
    Patel. The same lookups as the client list's search (icontains per field), so one set of
    trigram indexes would serve both; without them it is a scan of the table."""
    condition = Q()
    for word in words:
        one = Q()
        for field in fields:
            one |= Q(**{f"{field}__icontains": word})
        condition &= one
    return condition


def people_matching(text: str, *, limit: int) -> list[User]:
    """Users (staff and clients with a portal sign-in) whose name or e-mail address holds every
    word of ``text``, by name, at most ``limit``. Their client records come with them (one query):
    a client's name in a list is a view of their record (R22), recorded by the caller."""
    words = _words(text)
    if not words:
        return []
    people = User.objects.filter(_every_word(words, ("first_name", "last_name", "email")))
    return list(
        people.select_related("client_profile").order_by("last_name", "first_name", "id")[:limit]
    )


def clients_matching(viewer: User | AnonymousUser, text: str, *, limit: int) -> list[Client]:
    """The clients ``viewer`` may see (patients.access: an admin, all) whose name or e-mail
    address holds every word of ``text``, by name, at most ``limit``, with their therapist."""
    words = _words(text)
    if not words:
        return []
    clients = visible_clients(viewer).filter(
        _every_word(words, ("first_name", "last_name", "preferred_name", "email"))
    )
    return list(
        clients.select_related("primary_therapist").order_by("last_name", "first_name", "id")[
            :limit
        ]
    )


def person_by_id(value: str) -> User | None:
    """The user a picked suggestion names (its id from the form), or None for anything else."""
    if not value.isdigit() or len(value) > 18:
        return None
    return User.objects.select_related("client_profile").filter(pk=int(value)).first()


def client_by_id(viewer: User | AnonymousUser, value: str) -> Client | None:
    """The client a picked suggestion names, if ``viewer`` may see them; None for anything else."""
    if not value.isdigit() or len(value) > 18:
        return None
    return visible_clients(viewer).filter(pk=int(value)).first()


# --- Readable changes -------------------------------------------------------------------------

HIDDEN_FIELDS = {"id", "password", "last_login", "phone_digits", "updated_at"}
# The records a changed foreign key is shown by name: people, whom an auditor reads by name. The
# page's changes point at a dozen other kinds of record (sessions, courses, prescriptions, ...);
# a query for each kind on the page would make its query count depend on what it shows (up to
# 13 more), so those read as kind and number, which identifies them without a query.
NAMED_MODELS = ("accounts.User", "patients.Client", "patients.Prescriber")


@dataclass
class ChangeRow:
    label: str
    old: str
    new: str


def describe_changes(entries: list[LogEntry]) -> None:
    """Give each entry ``rows``: what changed, in words. A foreign key to a person (NAMED_MODELS)
    becomes their name, with one query per model for the whole page (never one per row); one to
    any other record reads as its kind and number ("Treatment course #12"), with no query;
    reverse relations, ids and secrets are left out; times are shown in the clinic's time
    zone."""
    pending: list[tuple[LogEntry, list[tuple[str, Field | None, str, str]]]] = []
    wanted: dict[type[Model], set[str]] = defaultdict(set)
    for entry in entries:
        model = entry.content_type.model_class() if entry.content_type_id else None
        fields = []
        for name, change in (entry.changes_dict or {}).items():
            field = _field(model, name)
            if name in HIDDEN_FIELDS or (field is not None and not field.concrete):
                continue
            # Reverse relations and generic foreign keys are never concrete: skipped just above.
            assert field is None or isinstance(field, Field)
            if not isinstance(change, list | tuple) or len(change) != 2:
                continue
            old, new = (str(value) for value in change)
            if field is not None and field.many_to_one:
                related = field.related_model
                # Once the app registry is ready, a foreign key's target is a model class.
                assert isinstance(related, type)
                if related._meta.label in NAMED_MODELS:
                    wanted[related].update(v for v in (old, new) if v.isdigit())
            fields.append((name, field, old, new))
        pending.append((entry, fields))
    # _default_manager: each model's `objects`, but declared for any model class.
    names = {
        related: {str(obj.pk): str(obj) for obj in related._default_manager.filter(pk__in=ids)}
        for related, ids in wanted.items()
        if ids
    }
    for entry, fields in pending:
        entry.rows = [
            ChangeRow(
                label=str(field.verbose_name).capitalize() if field is not None else name,
                old=_display(field, old, names),
                new=_display(field, new, names),
            )
            for name, field, old, new in fields
        ]


def _field(
    model: type[Model] | None, name: str
) -> Field | ForeignObjectRel | GenericForeignKey | None:
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _display(field: Field | None, value: str, names: dict) -> str:
    if value in ("None", ""):
        return "(empty)"
    if field is None:
        return value
    if field.many_to_one:
        related = field.related_model
        assert isinstance(related, type)
        if related._meta.label not in NAMED_MODELS:
            return f"{str(related._meta.verbose_name).capitalize()} #{value}"
        return names.get(related, {}).get(value, f"#{value} (no longer exists)")
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.BooleanField):
        return {"True": "Yes", "False": "No"}.get(value, value)
    if isinstance(field, models.DateTimeField):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        # auditlog writes datetimes in UTC, without the zone: shown in clinic time like the rest.
        return formats.day_time(formats.clinic_time(moment))
    return value
