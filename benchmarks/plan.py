"""What the page benchmark requests, and as whom: concrete pages picked from the seeded database,
and signed-in sessions made directly in it. Imported by pages.py after django.setup(), with the
settings of the run (the throw-away copy of the seeded database).

The admin and the client are the plain demo's when the seed has them (Alex Morgan; Maya Patel,
with an intake in progress and a PHQ-9 to fill in), else the first that fit. The therapist is the
one with the biggest caseload among those with a client in dosing (a dosing chart, a referral):
their client's record, course, hand-off, chart and referral packet are the therapist's pages, and
their caseload is what the therapist's lists show (~100 clients in a generated clinic)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from urllib.parse import urlencode

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Subquery, Value, When
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.middleware import SIGNED_IN_KEY
from accounts.models import Role, User
from patients.models import Client, Intake, QuestionnaireRequest, TreatmentCourse
from patients.models.courses import Phase
from sessions.models import Session

DEMO_DOMAIN = "demo.kapclinic.test"  # demo/seed.py
PREFERRED = {"admin": f"admin@{DEMO_DOMAIN}", "client": f"maya@{DEMO_DOMAIN}"}
FLOOR_URL_NAME = "help"
# The portal intake step measured: the longest form of the intake (R17).
INTAKE_STEP = "medical"
AUTH_BACKEND = "django.contrib.auth.backends.ModelBackend"
DEVICE_NAME = "Benchmark"


@dataclass(frozen=True)
class Page:
    key: str  # unique; also the label the SQL counts are logged under
    title: str
    role: str
    path: str
    stream: bool = False


class NothingToMeasure(Exception):
    pass


def _preferred_first(queryset, email_field: str, email: str):
    rank = Case(When(**{email_field: email}, then=Value(0)), default=Value(1))
    return queryset.annotate(_rank=rank).order_by("_rank", "pk")


def _admin() -> User:
    admins = User.objects.filter(role=Role.ADMIN, is_active=True)
    admin = _preferred_first(admins, "email", PREFERRED["admin"]).first()
    if admin is None:
        raise NothingToMeasure("the database has no active admin: is it seeded?")
    return admin


def _dosing_course() -> TreatmentCourse:
    """A course in dosing of the therapist with the biggest caseload (in a generated clinic ~100
    clients, not the demo therapist's handful), whose client is their own, with a referral and a
    dosing chart; of that therapist's, the one with the most sessions: the therapist pages with
    the most on them."""
    charted = Session.objects.filter(course=OuterRef("pk"), dosing_chart__isnull=False)
    caseload = (
        Client.objects.active()
        .filter(primary_therapist=OuterRef("therapist"))
        .order_by()
        .values("primary_therapist")
        .annotate(n=Count("pk"))
        .values("n")
    )
    course = (
        TreatmentCourse.objects.filter(
            Exists(charted),
            phase=Phase.DOSING,
            referral__isnull=False,
            therapist__is_active=True,
            client__primary_therapist=F("therapist"),
        )
        .annotate(caseload=Subquery(caseload), session_count=Count("sessions"))
        .order_by("-caseload", "-session_count", "pk")
        .select_related("client", "therapist")
        .first()
    )
    if course is None:
        raise NothingToMeasure("no course in dosing with a dosing chart and a referral")
    return course


def _portal_client() -> Client:
    drafts = Intake.objects.filter(client=OuterRef("pk"), status=Intake.Status.DRAFT)
    requests = QuestionnaireRequest.objects.filter(
        client=OuterRef("pk"), completed_at__isnull=True, cancelled_at__isnull=True
    )
    clients = Client.objects.filter(user__isnull=False, user__is_active=True).annotate(
        _todo=Case(
            When(Exists(drafts) & Exists(requests), then=Value(0)),
            When(Exists(drafts) | Exists(requests), then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        )
    )
    rank = Case(When(user__email=PREFERRED["client"], then=Value(0)), default=Value(1))
    client = clients.annotate(_rank=rank).order_by("_rank", "_todo", "pk").first()
    if client is None:
        raise NothingToMeasure("no client with a portal sign-in")
    return client


def _therapist_pages(course: TreatmentCourse) -> list[Page]:
    client = course.client
    ids = {"client_id": client.pk}
    chart_session = (
        Session.objects.filter(course=course, dosing_chart__isnull=False)
        .order_by("-starts_at")
        .first()
    )
    return [
        Page(
            "client-record",
            "client record",
            "therapist",
            reverse("patients:client_detail", kwargs=ids),
        ),
        Page(
            "course",
            "course page",
            "therapist",
            reverse("patients:courses:detail", kwargs={**ids, "course_id": course.pk}),
        ),
        Page(
            "handoff",
            "hand-off summary",
            "therapist",
            reverse("patients:courses:handoff", kwargs={**ids, "course_id": course.pk}),
        ),
        Page(
            "dosing-chart",
            "dosing chart",
            "therapist",
            reverse(
                "patients:sessions:dosing_chart", kwargs={**ids, "session_id": chart_session.pk}
            ),
        ),
        Page(
            "referral-packet",
            "referral packet",
            "therapist",
            reverse(
                "patients:referrals:referral_packet",
                kwargs={**ids, "referral_id": course.referral_id},
            ),
        ),
        Page(
            "questionnaire-history",
            "questionnaire history",
            "therapist",
            reverse("patients:questionnaires:history", kwargs=ids),
        ),
    ]


def _portal_pages(client: Client) -> list[Page]:
    has_draft = Intake.objects.filter(client=client, status=Intake.Status.DRAFT).exists()
    open_request = QuestionnaireRequest.objects.filter(
        client=client, completed_at__isnull=True, cancelled_at__isnull=True
    ).first()
    intake = (
        Page(
            "portal-intake",
            f"portal intake step ({INTAKE_STEP})",
            "client",
            reverse("portal:intake:step", kwargs={"step": INTAKE_STEP}),
        )
        if has_draft
        else Page(
            "portal-intake", "portal intake (submitted)", "client", reverse("portal:intake:start")
        )
    )
    questionnaire = (
        Page(
            "portal-questionnaire",
            f"portal questionnaire ({open_request.instrument})",
            "client",
            reverse("portal:questionnaires:fill", kwargs={"instrument": open_request.instrument}),
        )
        if open_request
        else Page(
            "portal-questionnaire",
            "portal questionnaires",
            "client",
            reverse("portal:questionnaires:list"),
        )
    )
    return [
        Page("portal-home", "portal home", "client", reverse("portal:home")),
        intake,
        questionnaire,
    ]


def pages() -> tuple[dict[str, User], list[Page]]:
    """The people (by role) and the pages, in the order they are measured: issue 13's table first,
    then the therapist's home and the portal."""
    admin = _admin()
    course = _dosing_course()
    client = _portal_client()
    people = {"admin": admin, "therapist": course.therapist, "client": client.user}
    search = course.client.last_name
    admin_pages = [
        Page(
            "audit-views",
            "audit trail, access views",
            "admin",
            reverse("audit:audit_log") + "?kind=views",
        ),
        Page(
            "audit-changes",
            "audit trail, changes",
            "admin",
            reverse("audit:audit_log") + "?kind=changes",
        ),
        Page("export", "dashboard CSV export", "admin", reverse("reports:export"), stream=True),
        Page("calendar-clinic", "calendar week, whole clinic", "admin", reverse("calendar:week")),
        Page("reminders-admin", "reminders", "admin", reverse("integration:reminder_list")),
        Page("reminders-therapist", "reminders", "therapist", reverse("integration:reminder_list")),
        Page("dashboard-admin", "dashboard", "admin", reverse("reports:dashboard")),
        Page("dashboard-therapist", "dashboard", "therapist", reverse("reports:dashboard")),
        Page("client-list", "client list", "admin", reverse("patients:client_list")),
        Page(
            "client-search",
            f"client search ({search!r})",
            "admin",
            reverse("patients:client_list") + "?" + urlencode({"q": search}),
        ),
    ]
    home = [
        Page(
            "therapist-home",
            "therapist home (my caseload)",
            "therapist",
            reverse("patients:client_list"),
        ),
        Page("calendar-therapist", "calendar week", "therapist", reverse("calendar:week")),
        Page("alerts-admin", "safety alerts", "admin", reverse("patients:alerts:alert_list")),
        Page("outbox-admin", "outbox", "admin", reverse("outbox:list")),
    ]
    return people, [*admin_pages, *_therapist_pages(course), *home, *_portal_pages(client)]


def floor_path() -> str:
    return reverse(FLOOR_URL_NAME)


def signed_in(user: User, count: int) -> list[str]:
    """``count`` sessions of ``user`` (one per load worker; pages.py makes them for each page, so
    that no session sits idle past the idle logoff while other pages are measured) as a sign-in
    leaves them (django.contrib.auth.login, and for
    staff django_otp.login after the code), made directly in the database: no password or TOTP
    code is typed. Staff get a confirmed authenticator named "Benchmark" (in the run's copy of the
    database only) for the two-factor middleware to find."""
    device = None
    if user.is_clinic_staff:
        device, _ = TOTPDevice.objects.get_or_create(
            user=user, name=DEVICE_NAME, defaults={"confirmed": True}
        )
    keys = []
    for _ in range(count):
        store = SessionStore()
        store[SESSION_KEY] = user._meta.pk.value_to_string(user)
        store[BACKEND_SESSION_KEY] = AUTH_BACKEND
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        # The 12-hour cap (R22) counts from here. No activity time yet: the first request writes
        # it, so a session made at the start of a long run is not idle when its page comes.
        store[SIGNED_IN_KEY] = time.time()
        if device is not None:
            store[DEVICE_ID_SESSION_KEY] = device.persistent_id
        store.create()
        keys.append(store.session_key)
    return keys


def as_dicts(measured: list[Page]) -> list[dict]:
    return [asdict(page) for page in measured]
