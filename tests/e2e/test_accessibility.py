"""Accessibility in a browser: axe-core (tests/e2e/axe.py) on the main pages of each role (admin,
therapist, client) and on the sign-in page, and the intake form completed with the keyboard only.

Each page is its own test: axe's WCAG 2.0/2.1 A and AA rules, and no violation of impact
"serious" or "critical" (the message lists each rule, what it asks for and where). Every test gets
a fresh database (the live server's tests are transactional), so the clinic below is small and
written straight in the rows, and staff are signed in by session cookie: the sign-in and
two-factor pages themselves are in tests/e2e/test_sign_in.py. Each page's full axe result (all
impacts) is written to tests/screenshots/axe/<test id>.json for people to look at.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client as DjangoClient
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from integration.models import ReminderStatus
from patients.intake import services as intake_services
from patients.models import Alert, ClientFlag, Intake, QuestionnaireResponse
from patients.models.clients import FlagCode
from tests import factories
from tests.conftest import sign_in
from tests.e2e import axe
from tests.e2e.conftest import SCREENSHOT_DIR
from tests.factories_intake import consent
from tests.factories_integration import planned_dose, shape
from tests.factories_sessions import dosing_ready_session
from tests.patients.questionnaire_helpers import request_for
from tests.sessions.dosing_helpers import prepare

pytestmark = pytest.mark.browser

AXE_RESULTS = SCREENSHOT_DIR / "axe"


# --- A small clinic -------------------------------------------------------------------------


@dataclass
class Clinic:
    therapist: object
    portal_client: object  # a portal login, an intake in progress, a PHQ-9 requested
    admin: object = None
    dosing_client: object = None  # a course in preparation, a dosing session today, prepared
    course: object = None
    dosing_session: object = None


def _clinic(role: str) -> Clinic:
    """The therapist Sam's clients; the staff pages' clients only for the staff roles."""
    sam = factories.TherapistFactory(first_name="Sam", last_name="Rivera")
    consent()
    maya = factories.ClientFactory(
        primary_therapist=sam,
        first_name="Maya",
        last_name="Patel",
        user=factories.ClientUserFactory(first_name="Maya", last_name="Patel"),
    )
    intake_services.intake_start(client=maya, by=maya.user)
    request_for(maya, "phq9", sam, due_date=timezone.localdate() + timedelta(days=2))
    clinic = Clinic(therapist=sam, portal_client=maya)
    if role in ("therapist", "admin"):
        _staff_pages_data(clinic)
    return clinic


def _staff_pages_data(clinic: Clinic) -> None:
    sam = clinic.therapist
    clinic.admin = factories.AdminFactory(first_name="Alex", last_name="Morgan")
    factories.TherapistFactory(first_name="Jordan", last_name="Chen")
    ruth = factories.ClientFactory(
        primary_therapist=sam,
        first_name="Ruth",
        last_name="Alvarez",
        user=factories.ClientUserFactory(first_name="Ruth", last_name="Alvarez"),
        chaperone_name="Ravi Alvarez",
        chaperone_phone="+15555550123",
    )
    now = timezone.now().replace(second=0, microsecond=0)
    session = dosing_ready_session(ruth, starts_at=now)  # started and prepared on its own day
    prepare(session, now=now)
    clinic.dosing_client, clinic.course, clinic.dosing_session = ruth, session.course, session

    # Another client's dose two days ago: its reminders (one sent, one failed) and their e-mails
    # in the outbox, and a PHQ-9 answer that raised a safety alert.
    leo = factories.ClientFactory(primary_therapist=sam, first_name="Leo", last_name="Park")
    _dose, reminders = planned_dose(leo, given_at=now - timedelta(days=2))
    shape(reminders["1"], ReminderStatus.SENT)
    shape(reminders["2"], ReminderStatus.FAILED)
    phq9 = QuestionnaireResponse.objects.create(
        client=leo,
        instrument="phq9",
        answers=[2, 2, 1, 1, 1, 2, 1, 1, 1],
        total=12,
        band="moderate",
        item9_score=1,
        entered_by=sam,
    )
    Alert.objects.create(kind=Alert.Kind.PHQ9_ITEM9, client=leo, recipient=sam, response=phq9)


def _sign_in_by_cookie(page: Page, user, base_url: str) -> None:
    """The browser carries ``user``'s session (staff: two-factor passed), made by Django's test
    client rather than typed into the sign-in pages."""
    client = sign_in(DjangoClient(), user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base_url}]
    )


# --- The pages --------------------------------------------------------------------------------


def _client(c: Clinic) -> str:
    return reverse("patients:client_detail", args=[c.dosing_client.pk])


def _course(c: Clinic) -> str:
    return reverse("patients:courses:detail", args=[c.dosing_client.pk, c.course.pk])


def _dosing(c: Clinic) -> str:
    return reverse("patients:sessions:dosing_chart", args=[c.dosing_client.pk, c.dosing_session.pk])


def _fixed(name: str, **kwargs):
    return lambda _c: reverse(name, kwargs=kwargs or None)


# (role, page, its URL in the clinic, its <h1>: the page meant, not an error page or another)
PAGES = [
    ("anonymous", "sign-in", _fixed("accounts:login"), "Sign in"),
    ("therapist", "caseload", _fixed("patients:client_list"), "My caseload"),
    ("therapist", "client-record", _client, "Ruth Alvarez"),
    ("therapist", "course", _course, "Treatment course · Ruth Alvarez"),
    ("therapist", "calendar-week", _fixed("calendar:week"), "Calendar"),
    ("therapist", "dosing-chart", _dosing, "Dosing session · Ruth Alvarez"),
    ("therapist", "reminders", _fixed("integration:reminder_list"), "Integration reminders"),
    ("therapist", "safety-alerts", _fixed("patients:alerts:alert_list"), "Safety alerts"),
    ("therapist", "outbox", _fixed("outbox:list"), "Outbox"),
    ("therapist", "dashboard", _fixed("reports:dashboard"), "Course progress"),
    ("admin", "client-list", _fixed("patients:client_list"), "All clients"),
    ("admin", "dashboard", _fixed("reports:dashboard"), "Course progress"),
    ("admin", "staff-list", _fixed("staff:list"), "Staff"),
    ("admin", "audit-trail", _fixed("audit:audit_log"), "Audit trail"),
    ("admin", "clinic-settings", _fixed("clinic:settings"), "Clinic settings"),
    ("admin", "outbox", _fixed("outbox:list"), "Outbox"),
    ("admin", "reminders", _fixed("integration:reminder_list"), "Integration reminders"),
    ("client", "portal-home", _fixed("portal:home"), "Hello, Maya"),
    ("client", "intake-about", _fixed("portal:intake:step", step="about"), "About you"),
    ("client", "intake-medical", _fixed("portal:intake:step", step="medical"), "Medical history"),
    ("client", "intake-consent", _fixed("portal:intake:step", step="consent"), "Informed consent"),
    (
        "client",
        "phq9",
        _fixed("portal:questionnaires:fill", instrument="phq9"),
        "Patient Health Questionnaire (PHQ-9)",
    ),
]


def _user(clinic: Clinic, role: str):
    return {
        "anonymous": None,
        "therapist": clinic.therapist,
        "admin": clinic.admin,
        "client": clinic.portal_client.user,
    }[role]


@pytest.mark.parametrize(
    ("role", "name", "url", "heading"),
    PAGES,
    ids=[f"{role}-{name}" for role, name, _url, _heading in PAGES],
)
def test_no_serious_or_critical_axe_violations(
    page: Page, base_url: str, role: str, name: str, url, heading: str
):
    clinic = _clinic(role)
    user = _user(clinic, role)
    if user is not None:
        _sign_in_by_cookie(page, user, base_url)
    response = page.goto(url(clinic))
    assert response is not None
    assert response.ok, f"{response.status} for {page.url}"
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    # Signed in as intended: not sent to the sign-in or two-factor pages.
    assert not re.search(r"/accounts/(login|two-factor)/", page.url) or user is None, page.url

    found = axe.violations(page)
    AXE_RESULTS.mkdir(parents=True, exist_ok=True)
    (AXE_RESULTS / f"{role}-{name}.json").write_text(json.dumps(found, indent=2))
    serious = axe.blocking(found)
    assert not serious, (
        f"axe on {page.url} ({role}): {len(serious)} serious or critical violation(s)\n"
        + axe.describe(serious)
    )


# --- The intake form with the keyboard only ---------------------------------------------------

MAX_TABS = 80


def _focused(locator: Locator) -> bool:
    return locator.evaluate("el => el === document.activeElement")


def tab_to(page: Page, target: Locator, *, backwards: bool = False) -> None:
    """Press Tab (Shift+Tab) until ``target`` has the keyboard focus, as a keyboard user does."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(MAX_TABS):
        if _focused(target):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{MAX_TABS} presses of {key} never reached {target}")


def type_into(page: Page, label: str | Locator, text: str) -> None:
    field = page.get_by_label(label) if isinstance(label, str) else label
    tab_to(page, field)
    page.keyboard.type(text)


def choose(page: Page, question: str | re.Pattern, choice: str) -> None:
    """A Yes / No / Unsure radio group: Tab into it (its first radio when none is chosen), then
    Space for the first choice or the arrow keys for the others."""
    group = page.get_by_role("group", name=question)
    radios = group.get_by_role("radio")
    tab_to(page, radios.first)
    # The radio itself is visually hidden (Bootstrap's btn-check): its button shows the focus.
    expect(group.locator("label").first).not_to_have_css("box-shadow", "none")
    labels = [label.inner_text() for label in group.locator("label").all()]
    position = labels.index(choice)
    if position == 0:
        page.keyboard.press("Space")
    for _ in range(position):
        page.keyboard.press("ArrowRight")
    expect(group.get_by_role("radio", name=choice, exact=True)).to_be_checked()


def press_button(page: Page, name: str | re.Pattern) -> None:
    tab_to(page, page.get_by_role("button", name=name))
    page.keyboard.press("Enter")


def next_step(page: Page, number: int, title: str) -> None:
    press_button(page, re.compile("^Save and (continue|review)$"))
    expect(page.get_by_text(f"Step {number} of 9")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)


def test_intake_completed_with_the_keyboard_only(page: Page, live_server, screenshot):
    consent()
    sam = factories.TherapistFactory(first_name="Sam", last_name="Rivera")
    maya = factories.ClientFactory(
        primary_therapist=sam,
        first_name="Maya",
        last_name="Patel",
        phone="",
        user=factories.ClientUserFactory(first_name="Maya", last_name="Patel"),
    )
    page.goto("/accounts/login/")
    # Sign in: Tab from the top of the page to each field, type, Enter on the button.
    type_into(page, "E-mail address", maya.user.email)
    type_into(page, "Password", factories.PASSWORD)
    press_button(page, "Sign in")
    expect(page.get_by_role("heading", name="Hello, Maya")).to_be_visible()

    tab_to(page, page.get_by_role("link", name="Start your intake form"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Your intake form")).to_be_visible()
    press_button(page, "Start")

    # 1. About you. The date field takes the digits of month, day and year as typed.
    expect(page.get_by_text("Step 1 of 9")).to_be_visible()
    page.wait_for_load_state("load")
    type_into(page, "Pronouns", "she/her")
    type_into(page, "Date of birth", "03141988")
    expect(page.get_by_label("Date of birth")).to_have_value("1988-03-14")
    type_into(page, "Mobile phone", "(555) 201-3344")
    type_into(page, "Home address", "12 Elm Street")
    page.keyboard.press("Enter")  # a new line in the address
    page.keyboard.type("Springfield")
    # Shift+Tab back to a field already passed, and correct it.
    tab_to(page, page.get_by_label("Pronouns"), backwards=True)
    page.keyboard.press("Control+A")
    page.keyboard.type("she/they")
    next_step(page, 2, "Emergency contact and chaperone")

    emergency = page.get_by_role("group", name="Emergency contact")
    type_into(page, emergency.get_by_label("Name"), "Ravi Patel")
    type_into(page, emergency.get_by_label("Relationship to you"), "Brother")
    type_into(page, emergency.get_by_label("Phone"), "555-201-9999")
    chaperone = page.get_by_role("group", name="Chaperone")
    type_into(page, chaperone.get_by_label("Name"), "Leah Patel")
    type_into(page, chaperone.get_by_label("Phone"), "555 201 7777")
    next_step(page, 3, "Primary care provider")

    choose(page, "Do you have a primary care provider (a family doctor)?", "Yes")
    type_into(page, page.get_by_label("Doctor's name"), "Dr. Ellen Hart")
    type_into(page, page.get_by_label("Practice phone"), "555 201 5555")
    next_step(page, 4, "Medical history")

    choose(page, "Have you ever been told you have high blood pressure?", "No")
    for question in (
        "Heart disease",
        "An aneurysm",
        "Glaucoma",
        "Bladder problems",
        "An overactive thyroid",
        "An allergic reaction to ketamine",
        "Are you pregnant",
    ):
        choose(page, re.compile(f"^{question}"), "No")
    choose(page, re.compile("^Liver disease"), "Unsure")
    type_into(page, page.get_by_label("Current medications and supplements"), "None")
    type_into(page, page.get_by_label("Allergies"), "None")
    next_step(page, 5, "Mental health history")

    for question in ("Psychosis", "A dissociative disorder", "Mania"):
        choose(page, re.compile(f"^{question}"), "No")
    choose(page, "Are you currently having thoughts of ending your life?", "No")
    next_step(page, 6, "Alcohol and drugs")

    # A closed <select>: focus it and type the start of the option, as a keyboard user does.
    alcohol = page.get_by_label("How often do you have a drink containing alcohol?")
    tab_to(page, alcohol)
    page.keyboard.type("Monthly")
    expect(alcohol).to_have_value("monthly")
    drugs = page.get_by_label("Do you use cannabis or other recreational drugs?")
    tab_to(page, drugs)
    page.keyboard.type("Never")
    expect(drugs).to_have_value("never")
    choose(page, re.compile("^Have you ever been diagnosed with, or treated for"), "No")
    next_step(page, 7, "Ketamine and psychedelics")

    choose(page, re.compile("^Have you taken ketamine before"), "No")
    choose(page, re.compile("^Have you taken psychedelics"), "Yes")
    next_step(page, 8, "Goals and intentions")

    type_into(page, page.get_by_label("What would you like to change"), "Sleep better.")
    next_step(page, 9, "Informed consent")

    # The consent text scrolls on its own and is focusable, so the keyboard can scroll it.
    tab_to(page, page.get_by_role("region", name="Consent text"))
    page.keyboard.press("PageDown")
    type_into(page, "Your full legal name", "Maya Patel")
    agree = page.get_by_label("I have read and agree to the consent above")
    tab_to(page, agree)
    page.keyboard.press("Space")
    expect(agree).to_be_checked()
    press_button(page, "Save and review")

    expect(page.get_by_role("heading", name="Check your answers")).to_be_visible()
    expect(page.get_by_text("Everything is filled in.")).to_be_visible()
    press_button(page, "Submit intake form")
    expect(page.get_by_text("Your intake form was sent to your care team")).to_be_visible()
    screenshot(page, "a11y-intake-keyboard-submitted")

    intake = Intake.objects.get(client=maya)
    assert intake.status == Intake.Status.SUBMITTED
    assert intake.answers["about"]["pronouns"] == "she/they"
    assert intake.answers["about"]["address"].splitlines() == ["12 Elm Street", "Springfield"]
    assert intake.answers["doctor"]["has_pcp"] == "yes"
    assert intake.answers["medical"]["liver"] == "unsure"
    assert set(ClientFlag.objects.values_list("code", flat=True)) == {FlagCode.LIVER}
