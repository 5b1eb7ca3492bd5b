"""Browser tests: pytest-playwright (sync API) drives Debian's Chromium against pytest-django's
live server, which runs in this process (so the ``settings`` fixture reaches it).

Run: ``.venv/bin/pytest tests/e2e -q`` (``CHROMIUM`` names another browser binary). Every test
here is marked ``browser``. Screenshots for people to look at land in ``tests/screenshots/``
(gitignored); nothing asserts on pixels. A test also fails on a script error, a console error
(a Content-Security-Policy violation, say) or a stylesheet, script, image or font that did not load.
"""

from __future__ import annotations

import base64
import os
import re
import time
from pathlib import Path

# Playwright's sync API keeps an asyncio loop running in the main thread; Django refuses ORM calls
# from a thread with a running loop unless told this is safe. It is here: the test code and the
# loop never touch the database concurrently.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import pytest
from django_otp.oath import TOTP, totp
from playwright.sync_api import BrowserContext, Page, expect

from tests import factories

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOT_DIR = Path(__file__).resolve().parent.parent / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

# Pages come from a local server: short timeouts make a broken test fail fast, not in 30 s.
TIMEOUT_MS = 10_000
expect.set_options(timeout=TIMEOUT_MS)


E2E_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items):
    """Each module sets ``pytestmark = pytest.mark.browser``; this catches one that forgets."""
    for item in items:
        if E2E_DIR in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture(scope="session")
def base_url(live_server) -> str:
    """page.goto("/accounts/login/") and friends go to the live server."""
    return live_server.url


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": DESKTOP}


# A page that deliberately answers 404 or 429 logs "Failed to load resource" for the document
# itself; missing CSS, JS, images and fonts are caught by status code below instead.
_EXPECTED_CONSOLE = re.compile(r"Failed to load resource: the server responded with a status of 4")


@pytest.fixture
def browser_problems():
    """What went wrong in the browser during the test: script errors, console errors (CSP
    violations among them) and static assets that failed to load. Checked after every test."""
    problems: list[str] = []
    yield problems
    assert not problems, "Problems in the browser:\n" + "\n".join(problems)


def _watch(context: BrowserContext, problems: list[str]) -> BrowserContext:
    def on_console(message) -> None:
        if message.type == "error" and not _EXPECTED_CONSOLE.search(message.text):
            problems.append(f"console error: {message.text}")

    def on_response(response) -> None:
        asset = response.request.resource_type in {"stylesheet", "script", "image", "font"}
        if asset and response.status >= 400:
            problems.append(f"{response.status} for {response.url}")

    context.set_default_timeout(TIMEOUT_MS)
    context.on("weberror", lambda error: problems.append(f"script error: {error.error}"))
    context.on("console", on_console)
    context.on("response", on_response)
    return context


@pytest.fixture
def context(context, browser_problems):
    return _watch(context, browser_problems)


@pytest.fixture
def new_browser(browser, browser_context_args, browser_problems):
    """``new_browser(**options)``: a page in a fresh browser context (another person's browser:
    its own cookies), closed after the test. Options are Playwright's new_context() arguments."""
    contexts = []

    def _open(**options) -> Page:
        context = browser.new_context(**{**browser_context_args, **options})
        contexts.append(_watch(context, browser_problems))
        return context.new_page()

    yield _open
    for context in contexts:
        context.close()


@pytest.fixture
def phone_page(new_browser) -> Page:
    """A page in a phone-sized browser window (390x844, touch)."""
    return new_browser(viewport=PHONE, is_mobile=True, has_touch=True)


@pytest.fixture
def screenshot():
    """``screenshot(page, "name")`` saves tests/screenshots/name.png (the whole page)."""
    SCREENSHOT_DIR.mkdir(exist_ok=True)

    def _shot(page: Page, name: str) -> Path:
        path = SCREENSHOT_DIR / f"{name}.png"
        page.screenshot(path=str(path), full_page=True, animations="disabled")
        return path

    return _shot


# --- Authenticator-app arithmetic -----------------------------------------------------------


def code_from_secret(secret: str) -> str:
    """What an authenticator app shows now for the key printed on the enrolment page."""
    key = base64.b32decode(secret.replace(" ", "").upper())
    return f"{totp(key, step=30, t0=0, digits=6):06d}"


def authenticator_code(device) -> str:
    """The code the user's authenticator app would show for ``device``.

    django-otp refuses a code whose time step is not after the last one used (no replays). For a
    second sign-in within the same 30 s, use the next step's code: within the one-step clock-skew
    tolerance django-otp allows, just as a phone whose clock runs a little fast would show it.
    """
    device.refresh_from_db()
    generator = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    generator.time = time.time()
    if generator.t() <= device.last_t:
        generator.time = device.t0 + (device.last_t + 1 - device.drift) * device.step
    return f"{generator.token():06d}"


# --- Signing in through the page, as a person does -------------------------------------------


def submit_password(page: Page, email: str, password: str = factories.PASSWORD) -> None:
    """Fill in and send the sign-in form on the current page (the login page)."""
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def enter_code(page: Page, code: str) -> None:
    """On the two-factor verify page: type the code and press Verify."""
    expect(page.get_by_role("heading", name="Enter your sign-in code")).to_be_visible()
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Verify").click()


def sign_in_staff(page: Page, user, device=None, *, code: str | None = None) -> None:
    """Sign ``user`` (staff with an authenticator ``device``) in through the login and verify
    pages. ``code`` defaults to the authenticator's current code."""
    page.goto("/accounts/login/")
    submit_password(page, user.email)
    enter_code(page, code or authenticator_code(device))
    expect(page.get_by_role("heading", name="Enter your sign-in code")).to_have_count(0)


@pytest.fixture
def verified_staff(page: Page):
    """``verified_staff(user)``: enrols an authenticator for ``user`` behind the scenes, signs
    them in through the UI on ``page`` and returns the device."""

    def _sign_in(user, *, on: Page | None = None):
        device = factories.totp_device(user)
        sign_in_staff(on or page, user, device)
        return device

    return _sign_in
