"""The intake form on a phone (R17): a client completes it across nine steps, one step with an
error that keeps what was typed, a reload mid-way that keeps the draft (htmx autosave), and signs
the consent; the therapist then sees the R18 flags with their evidence and marks it reviewed.
Screenshots of every step land in tests/screenshots/intake-*.png. Console errors (CSP
violations among them) fail the test (tests/e2e/conftest.py)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from patients.intake.schema import NO
from patients.models import Client, ClientFlag, Intake
from patients.models.clients import FlagCode
from tests import factories
from tests.e2e.conftest import sign_in_staff, submit_password
from tests.factories_intake import consent

pytestmark = pytest.mark.browser


def answer(page: Page, question: str, choice: str) -> None:
    """Choose a Yes / No / Unsure button under ``question`` (a fieldset with that legend)."""
    page.get_by_role("group", name=question).get_by_text(choice, exact=True).click()


def expect_step(page: Page, number: int, title: str) -> None:
    expect(page.get_by_text(f"Step {number} of 9")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)


def save_and_continue(page: Page) -> None:
    page.get_by_role("button", name=re.compile("^Save and (continue|review)$")).click()


def test_client_completes_the_intake_and_the_therapist_reviews_it(
    phone_page: Page, new_browser, live_server, screenshot
):
    consent()
    therapist = factories.TherapistFactory(first_name="Sam", last_name="Rivera")
    device = factories.totp_device(therapist)
    maya = factories.ClientFactory(
        primary_therapist=therapist,
        first_name="Maya",
        last_name="Patel",
        phone="",
        user=factories.ClientUserFactory(first_name="Maya", last_name="Patel"),
    )
    page = phone_page
    page.goto("/accounts/login/")
    submit_password(page, maya.user.email)
    expect(page.get_by_text("Complete your intake form")).to_be_visible()
    screenshot(page, "intake-00-portal-home")
    page.get_by_role("link", name="Start your intake form").click()
    expect(page.get_by_role("heading", name="Your intake form")).to_be_visible()
    screenshot(page, "intake-00-start")
    page.get_by_role("button", name="Start").click()

    # 1. About you, first with mistakes: the typed values stay and the summary gets focus.
    expect_step(page, 1, "About you")
    progress = page.get_by_role("progressbar")
    expect(progress).to_have_attribute("aria-valuenow", "1")
    page.get_by_label("Pronouns").fill("she/her")
    page.get_by_label("Date of birth").fill("1988-03-14")
    page.get_by_label("Mobile phone").fill("12")
    save_and_continue(page)
    summary = page.get_by_role("alert").filter(has_text="Please correct")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Enter a phone number we can call")
    expect(summary).to_contain_text("Home address")
    expect(page.get_by_label("Mobile phone")).to_have_value("12")
    expect(page.get_by_label("Pronouns")).to_have_value("she/her")
    screenshot(page, "intake-01-about-errors")
    page.get_by_label("Mobile phone").fill("(555) 201-3344")
    page.get_by_label("Home address").fill("12 Elm Street\nSpringfield")
    screenshot(page, "intake-01-about")
    save_and_continue(page)

    # 2. Emergency contact and chaperone.
    expect_step(page, 2, "Emergency contact and chaperone")
    emergency = page.get_by_role("group", name="Emergency contact")
    emergency.get_by_label("Name").fill("Ravi Patel")
    emergency.get_by_label("Relationship to you").fill("Brother")
    emergency.get_by_label("Phone").fill("555-201-9999")
    chaperone = page.get_by_role("group", name="Chaperone")
    expect(chaperone).to_contain_text("must not drive until the next day")
    chaperone.get_by_label("Name").fill("Leah Patel")
    chaperone.get_by_label("Phone").fill("555 201 7777")
    screenshot(page, "intake-02-contacts")
    save_and_continue(page)

    # 3. Primary care provider.
    expect_step(page, 3, "Primary care provider")
    answer(page, "Do you have a primary care provider (a family doctor)?", "Yes")
    page.get_by_label("Doctor's name").fill("Dr. Ellen Hart")
    page.get_by_label("Practice phone").fill("555 201 5555")
    screenshot(page, "intake-03-doctor")
    save_and_continue(page)

    # 4. Medical history: high blood pressure not controlled, unsure about the liver.
    expect_step(page, 4, "Medical history")
    answer(page, "Have you ever been told you have high blood pressure?", "Yes")
    answer(page, re.compile("^If Yes or Unsure: is your blood pressure well controlled"), "No")
    for question in (
        "Heart disease",
        "An aneurysm",
        "Glaucoma",
        "Bladder problems",
        "An overactive thyroid",
        "An allergic reaction to ketamine",
        "Are you pregnant",
    ):
        answer(page, re.compile(f"^{question}"), "No")
    answer(page, re.compile("^Liver disease"), "Unsure")
    page.get_by_label("Current medications and supplements").fill("Lisinopril 10 mg daily")
    page.get_by_label("Allergies").fill("Penicillin (rash)")
    screenshot(page, "intake-04-medical")
    save_and_continue(page)

    # 5. Mental health history, then a reload before continuing: the autosaved draft is there.
    expect_step(page, 5, "Mental health history")
    for question in ("Psychosis", "A dissociative disorder", "Mania"):
        answer(page, re.compile(f"^{question}"), "No")
    answer(page, "Are you currently having thoughts of ending your life?", "No")
    # htmx posts the form 2 s after typing stops; wait for the post that carries the text.
    with page.expect_response(
        lambda r: r.url.endswith("/autosave/") and "Depression" in (r.request.post_data or "")
    ) as saved:
        page.get_by_label("Other diagnoses").fill("Depression since 2015")
    assert saved.value.ok
    expect(page.get_by_role("status").filter(has_text="Saved at")).to_be_visible()
    screenshot(page, "intake-05-psychiatric-autosaved")
    page.reload()
    expect_step(page, 5, "Mental health history")
    expect(page.get_by_label("Other diagnoses")).to_have_value("Depression since 2015")
    expect(page.get_by_role("group", name=re.compile("^Mania")).get_by_label("No")).to_be_checked()
    # Leaving and coming back from the portal home resumes at the first unfinished step.
    page.goto("/portal/")
    expect(page.get_by_text("Pick up where you left off.")).to_be_visible()
    screenshot(page, "intake-05-portal-home-continue")
    page.get_by_role("link", name="Continue").click()

    # 6-8.
    expect_step(page, 6, "Alcohol and drugs")
    page.get_by_label("How often do you have a drink containing alcohol?").select_option(
        label="Monthly or less"
    )
    page.get_by_label("Do you use cannabis or other recreational drugs?").select_option(
        label="Never"
    )
    answer(page, re.compile("^Have you ever been diagnosed with, or treated for"), "No")
    screenshot(page, "intake-06-substances")
    save_and_continue(page)
    expect_step(page, 7, "Ketamine and psychedelics")
    answer(page, re.compile("^Have you taken ketamine before"), "No")
    answer(page, re.compile("^Have you taken psychedelics"), "Yes")
    screenshot(page, "intake-07-experience")
    save_and_continue(page)
    expect_step(page, 8, "Goals and intentions")
    page.get_by_label("What would you like to change").fill("Feel less stuck; sleep better.")
    screenshot(page, "intake-08-goals")
    save_and_continue(page)

    # 9. Consent: the legal name, case and spacing aside, and the box.
    expect_step(page, 9, "Informed consent")
    expect(page.get_by_role("region", name="Consent text")).to_contain_text("at any time")
    page.get_by_label("Your full legal name").fill("maya  patel")
    page.get_by_label("I have read and agree to the consent above").check()
    screenshot(page, "intake-09-consent")
    save_and_continue(page)

    expect(page.get_by_role("heading", name="Check your answers")).to_be_visible()
    expect(page.get_by_text("Everything is filled in.")).to_be_visible()
    expect(page.get_by_text("Depression since 2015")).to_be_visible()
    screenshot(page, "intake-10-review")
    page.get_by_role("button", name="Submit intake form").click()
    expect(page.get_by_text("Your intake form was sent to your care team")).to_be_visible()
    expect(page.get_by_role("button", name="Request a change")).to_be_visible()
    screenshot(page, "intake-11-submitted")

    intake = Intake.objects.get(client=maya)
    assert intake.status == Intake.Status.SUBMITTED
    assert set(ClientFlag.objects.values_list("code", flat=True)) == {
        FlagCode.HYPERTENSION,
        FlagCode.LIVER,
    }

    # The therapist sees the flags and the answers that raised them, and marks it reviewed.
    staff = new_browser()
    sign_in_staff(staff, therapist, device)
    staff.goto(f"/clients/{maya.pk}/")
    summary = staff.get_by_role("region", name="Intake")
    expect(summary).to_contain_text("Not reviewed yet")
    expect(summary).to_contain_text("Uncontrolled high blood pressure")
    screenshot(staff, "intake-12-client-record")
    summary.get_by_role("link", name="Open intake and flags").click()
    flags = staff.get_by_role("region", name=re.compile("Flags for prescriber review"))
    expect(flags).to_contain_text("Uncontrolled high blood pressure")
    expect(flags).to_contain_text("Liver disease")
    expect(flags).to_contain_text("Unsure")
    screenshot(staff, "intake-13-staff-review")
    staff.get_by_role("button", name="Mark as reviewed").click()
    expect(staff.get_by_text("Intake marked as reviewed.")).to_be_visible()
    expect(staff.get_by_text("by Sam Rivera", exact=False).first).to_be_visible()
    screenshot(staff, "intake-14-staff-reviewed")
    staff.set_viewport_size({"width": 390, "height": 844})
    screenshot(staff, "intake-15-staff-review-phone")
    intake.refresh_from_db()
    assert intake.reviewed_by == therapist


def test_signed_out_meanwhile_the_autosave_sends_to_sign_in_and_back(phone_page: Page, live_server):
    consent()
    maya = factories.ClientFactory(user=factories.ClientUserFactory())
    page = phone_page
    page.goto("/accounts/login/")
    submit_password(page, maya.user.email)
    page.goto("/portal/intake/")
    page.get_by_role("button", name="Start").click()
    expect_step(page, 1, "About you")
    # Typing before htmx has set up the form's autosave (its script runs at the end of the page)
    # would save nothing: wait for the page to finish loading, as a person's first keystroke does.
    page.wait_for_load_state("load")
    page.get_by_label("Pronouns").fill("they/them")
    page.get_by_label("Pronouns").press("Tab")  # leaving the field saves too (its change event)
    # The autosave waits for a pause in typing, then saves: give a loaded CI machine time.
    expect(page.get_by_role("status").filter(has_text="Saved at")).to_be_visible(timeout=20_000)
    # Signed out elsewhere (another tab, the session's hard limit), then typing goes on.
    page.context.clear_cookies(name="sessionid")
    page.get_by_label("Preferred name").fill("Sky")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/portal/intake/about/"))
    submit_password(page, maya.user.email)
    expect_step(page, 1, "About you")
    expect(page.get_by_label("Pronouns")).to_have_value("they/them")


def _on_first_step(page: Page) -> Client:
    consent()
    maya = factories.ClientFactory(user=factories.ClientUserFactory())
    page.goto("/accounts/login/")
    submit_password(page, maya.user.email)
    page.goto("/portal/intake/")
    page.get_by_role("button", name="Start").click()
    expect_step(page, 1, "About you")
    return maya


def _saved(maya: Client, step: str) -> dict:
    return Intake.objects.get(client=maya).answers.get(step, {})


def _record_statuses(page: Page) -> None:
    """Keep every text the autosave status shows in window.statuses, to check their order."""
    page.evaluate(
        """() => {
          const status = document.getElementById("autosave-status");
          window.statuses = [];
          new MutationObserver(() => {
            const text = status.textContent.trim();
            if (text && window.statuses[window.statuses.length - 1] !== text) {
              window.statuses.push(text);
            }
          }).observe(status, {childList: true, subtree: true, characterData: true});
        }"""
    )


def test_an_answer_typed_then_reloaded_at_once_is_there(phone_page: Page, live_server, screenshot):
    # A reload within a second or two of the last keystroke came before the autosave's pause
    # ended, and the step came back without it. Now what is not saved yet is sent as the page
    # goes, and the new page puts back what had not reached the server before it loaded.
    page = phone_page
    maya = _on_first_step(page)
    page.wait_for_load_state("load")
    page.get_by_label("Pronouns").fill("she/her")
    page.reload()
    expect_step(page, 1, "About you")
    expect(page.get_by_label("Pronouns")).to_have_value("she/her")
    expect(page.get_by_role("status").filter(has_text="Saved at")).to_be_visible()
    assert _saved(maya, "about")["pronouns"] == "she/her"
    screenshot(page, "intake-reload-kept")

    # A choice, then at once to another page of the site: it is saved on the way out.
    page.goto("/portal/intake/doctor/")
    expect_step(page, 3, "Primary care provider")
    page.wait_for_load_state("load")
    answer(page, "Do you have a primary care provider (a family doctor)?", "No")
    page.goto("/portal/")
    expect(page.get_by_text("Pick up where you left off.")).to_be_visible()
    for _ in range(50):  # the save on the way out may land just after the portal page
        if _saved(maya, "doctor").get("has_pcp"):
            break
        page.wait_for_timeout(100)
    assert _saved(maya, "doctor")["has_pcp"] == NO


def test_the_status_says_saving_then_saved_only_once_the_server_answered(
    phone_page: Page, live_server
):
    page = phone_page
    _on_first_step(page)
    page.wait_for_load_state("load")
    # Nothing typed on this step yet: nothing is said to be saved.
    expect(page.get_by_role("status")).to_have_text("")
    _record_statuses(page)
    with page.expect_response(lambda r: r.url.endswith("/autosave/")) as saved:
        page.get_by_label("Pronouns").fill("they/them")
    assert saved.value.ok
    status = page.get_by_role("status")
    expect(status).to_have_text(re.compile(r"^\s*Saved at \d{1,2}:\d\d [AP]M\s*$"))
    statuses = page.evaluate("window.statuses")
    assert statuses[0] == "Saving…"
    assert re.fullmatch(r"Saved at \d{1,2}:\d\d [AP]M", statuses[-1])


def test_a_failed_save_says_so_and_keeps_what_was_typed(
    phone_page: Page, live_server, screenshot, browser_problems
):
    page = phone_page
    maya = _on_first_step(page)
    page.wait_for_load_state("load")
    page.route("**/autosave/", lambda route: route.fulfill(status=500, body="Server Error"))
    page.get_by_label("Pronouns").fill("xe/xem")
    status = page.get_by_role("status")
    expect(status).to_contain_text("Not saved", timeout=8_000)
    expect(status).not_to_contain_text("Saved at")
    expect(page.get_by_label("Pronouns")).to_have_value("xe/xem")
    screenshot(page, "intake-autosave-failed")
    assert "pronouns" not in _saved(maya, "about")
    # The connection is back: the next pause in typing saves it all.
    page.unroute("**/autosave/")
    page.get_by_label("Preferred name").fill("Sky")
    expect(status).to_contain_text("Saved at", timeout=8_000)
    assert _saved(maya, "about")["pronouns"] == "xe/xem"
    # The server errors this test made up are logged by the browser and htmx, as they should be.
    browser_problems[:] = [p for p in browser_problems if "500" not in p]
