"""Session notes: the progress note (draft → signed and locked → addenda) and psychotherapy notes
(R23: visible to their author only, never in the audit trail's changes or in an export).

Services, the notes panel's selector and partial, and every note URL by role."""

from __future__ import annotations

from datetime import timedelta

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from patients.models import Referral
from sessions.models import NoteAddendum, ProgressNote, PsychotherapyNote, SessionStatus
from sessions.notes import services
from sessions.notes.selectors import notes_for
from tests import factories
from tests.conftest import sign_in
from tests.factories_referrals import PrescriptionFactory, ReferralFactory
from tests.factories_sessions import SessionFactory

pytestmark = pytest.mark.django_db

SECRET = "Client spoke about the lake house and her brother. Countertransference: irritation."


def past_session(client_record, *, kind="preparation", hours_ago=3, **extra):
    starts = timezone.now() - timedelta(hours=hours_ago)
    return SessionFactory(client=client_record, kind=kind, starts_at=starts, **extra)


@pytest.fixture
def session(client_record):
    return past_session(client_record)


@pytest.fixture
def shared_therapist(client_record):
    colleague = factories.TherapistFactory(first_name="Robin", last_name="Lee")
    factories.ClientShareFactory(client=client_record, therapist=colleague)
    return colleague


# --- Draft --------------------------------------------------------------------------------------


def test_draft_keeps_only_the_templates_fields(session, therapist):
    note = services.note_save(
        session=session,
        content={"history": "  Two SSRIs tried.\r\nNo response. ", "diagnosis": "x", "plan": ""},
        by=therapist,
    )
    assert note.content == {
        "history": "Two SSRIs tried.\nNo response.",
        "intentions": "",
        "logistics": "",
        "plan": "",
    }
    assert note.created_by == therapist
    assert not note.is_signed


def test_a_second_draft_save_replaces_the_text(session, therapist):
    services.note_save(session=session, content={"history": "first"}, by=therapist)
    note = services.note_save(session=session, content={"history": "second"}, by=therapist)
    assert ProgressNote.objects.get().content["history"] == "second"
    assert note.pk == ProgressNote.objects.get().pk


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        ("preparation", ["history", "intentions", "logistics", "plan"]),
        ("integration", ["experience", "insights", "intentions", "plan"]),
        ("dosing", ["summary", "plan"]),
        ("general", ["note", "plan"]),
    ],
)
def test_each_kind_has_its_template(client_record, therapist, kind, fields):
    session = past_session(client_record, kind=kind)
    note = services.note_save(session=session, content={}, by=therapist)
    assert list(note.content) == fields


def test_a_cancelled_session_takes_no_note(session, therapist):
    session.status = SessionStatus.CANCELLED
    session.cancel_reason = "Client unwell"
    session.save()
    with pytest.raises(services.NoteError, match="cancelled"):
        services.note_save(session=session, content={"history": "x"}, by=therapist)
    with pytest.raises(services.NoteError, match="cancelled"):
        services.psychotherapy_note_save(session=session, text="x", by=therapist)
    assert not ProgressNote.objects.exists()


def test_too_long_a_field_is_refused_with_its_label(session, therapist):
    with pytest.raises(services.NoteError, match="History is too long"):
        services.note_save(session=session, content={"history": "x" * 10001}, by=therapist)


@pytest.mark.parametrize("who", ["other_therapist", "client"])
def test_outsiders_cannot_write_notes(session, who, other_therapist, client_record):
    user = other_therapist if who == "other_therapist" else client_record.user
    with pytest.raises(services.NoteError, match="cannot write notes"):
        services.note_save(session=session, content={"history": "x"}, by=user)
    with pytest.raises(services.NoteError, match="cannot write notes"):
        services.psychotherapy_note_save(session=session, text="x", by=user)


# --- Signing -----------------------------------------------------------------------------------


def test_signing_locks_the_note(session, therapist):
    services.note_save(session=session, content={"history": "Seen."}, by=therapist)
    note = services.note_sign(session=session, by=therapist)
    assert note.signed_by == therapist
    assert note.signed_at is not None
    with pytest.raises(services.NoteError, match="signed and locked"):
        services.note_save(session=session, content={"history": "changed"}, by=therapist)
    assert ProgressNote.objects.get().content["history"] == "Seen."
    with pytest.raises(services.NoteError, match="already signed"):
        services.note_sign(session=session, by=therapist)


def test_an_empty_note_cannot_be_signed(session, therapist):
    with pytest.raises(services.NoteError, match="at least one part"):
        services.note_sign(session=session, by=therapist)
    services.note_save(session=session, content={"history": "   "}, by=therapist)
    with pytest.raises(services.NoteError, match="at least one part"):
        services.note_sign(session=session, by=therapist)


def test_only_the_sessions_therapist_signs(session, therapist, admin_user, shared_therapist):
    services.note_save(session=session, content={"plan": "Integration Friday."}, by=therapist)
    for user in (admin_user, shared_therapist):
        with pytest.raises(services.NoteError, match="Only the therapist who held"):
            services.note_sign(session=session, by=user)
    assert not ProgressNote.objects.get().is_signed


def test_a_session_in_the_future_cannot_be_signed_yet(client_record, therapist):
    session = SessionFactory(client=client_record, starts_at=timezone.now() + timedelta(hours=2))
    services.note_save(session=session, content={"history": "Prepared."}, by=therapist)
    with pytest.raises(services.NoteError, match="not started yet"):
        services.note_sign(session=session, by=therapist)


# --- Addenda -----------------------------------------------------------------------------------


def test_an_addendum_only_after_signing(session, therapist, shared_therapist):
    services.note_save(session=session, content={"history": "Seen."}, by=therapist)
    with pytest.raises(services.NoteError, match="still a draft"):
        services.note_addendum_add(session=session, text="Correction", by=therapist)
    services.note_sign(session=session, by=therapist)
    addendum = services.note_addendum_add(
        session=session, text="  BP cuff was the large size. ", by=shared_therapist
    )
    assert addendum.author == shared_therapist
    assert addendum.text == "BP cuff was the large size."
    assert addendum.created_at is not None
    with pytest.raises(services.NoteError, match="Write the addendum"):
        services.note_addendum_add(session=session, text="   ", by=therapist)
    assert ProgressNote.objects.get().content["history"] == "Seen."


def test_no_addendum_without_a_note(session, therapist):
    with pytest.raises(services.NoteError, match="still a draft"):
        services.note_addendum_add(session=session, text="x", by=therapist)


# --- Psychotherapy notes (R23) ------------------------------------------------------------------


def test_one_psychotherapy_note_per_author(session, therapist, shared_therapist):
    first = services.psychotherapy_note_save(session=session, text="draft one", by=therapist)
    again = services.psychotherapy_note_save(session=session, text=SECRET, by=therapist)
    assert first.pk == again.pk
    assert PsychotherapyNote.objects.get(author=therapist).text == SECRET
    theirs = services.psychotherapy_note_save(session=session, text="Mine.", by=shared_therapist)
    assert theirs.pk != first.pk
    assert PsychotherapyNote.objects.count() == 2


def test_an_empty_psychotherapy_note_is_not_created(session, therapist):
    with pytest.raises(services.NoteError, match="Write the psychotherapy note"):
        services.psychotherapy_note_save(session=session, text="  ", by=therapist)
    assert not PsychotherapyNote.objects.exists()


def test_psychotherapy_note_text_never_enters_the_audit_trail(session, therapist):
    with set_actor(therapist):
        services.psychotherapy_note_save(session=session, text=SECRET, by=therapist)
        services.psychotherapy_note_save(session=session, text=SECRET + " More.", by=therapist)
    note = PsychotherapyNote.objects.get()
    entries = LogEntry.objects.get_for_object(note)
    assert entries.count() >= 1  # that it was written is audited...
    for entry in LogEntry.objects.all():  # ...never what it says
        assert "lake house" not in str(entry.changes)
        assert "lake house" not in entry.object_repr
        assert "lake house" not in str(entry.additional_data)
        assert "text" not in (entry.changes_dict or {}) or entry.content_type.model != (
            "psychotherapynote"
        )


def test_the_progress_note_is_audited_with_its_content(session, therapist):
    with set_actor(therapist):
        note = services.note_save(session=session, content={"history": "Seen."}, by=therapist)
    entry = LogEntry.objects.get_for_object(note).get()
    assert entry.actor == therapist
    assert entry.additional_data == {"client_id": session.client_id}


# --- The panel (selector and partial) ----------------------------------------------------------


def test_panel_shows_only_the_users_own_psychotherapy_note(
    session, therapist, shared_therapist, admin_user, other_therapist
):
    services.psychotherapy_note_save(session=session, text=SECRET, by=therapist)
    assert notes_for(session=session, user=therapist)["notes"].private_note.text == SECRET
    for user in (shared_therapist, admin_user, other_therapist, session.client.user):
        assert notes_for(session=session, user=user)["notes"].private_note is None


def test_panel_fields_carry_the_saved_values(session, therapist):
    services.note_save(session=session, content={"intentions": "To grieve."}, by=therapist)
    panel = notes_for(session=session, user=therapist)["notes"]
    assert [(f.label, f.value) for f in panel.fields][1] == ("Intentions", "To grieve.")
    assert panel.can_write
    assert panel.can_sign
    assert not panel.is_signed


def test_panel_rights_by_user(session, therapist, shared_therapist, admin_user, other_therapist):
    def rights(user):
        panel = notes_for(session=session, user=user)["notes"]
        return panel.can_write, panel.can_sign

    assert rights(therapist) == (True, True)
    assert rights(shared_therapist) == (True, False)
    assert rights(admin_user) == (True, False)
    assert rights(other_therapist) == (False, False)
    assert rights(session.client.user) == (False, False)


def test_panel_runs_a_fixed_number_of_queries(session, therapist, shared_therapist):
    services.note_save(session=session, content={"history": "Seen."}, by=therapist)
    services.note_sign(session=session, by=therapist)
    services.psychotherapy_note_save(session=session, text=SECRET, by=therapist)

    def count() -> int:
        fresh = type(session).objects.select_related("client", "therapist").get(pk=session.pk)
        with CaptureQueriesContext(connection) as queries:
            panel = notes_for(session=fresh, user=therapist)["notes"]
            [a.author.get_full_name() for a in panel.addenda]
            panel.note.signed_by.get_full_name()
        return len(queries)

    services.note_addendum_add(session=session, text="one", by=therapist)
    small = count()
    for n in range(6):
        services.note_addendum_add(session=session, text=f"more {n}", by=shared_therapist)
    assert count() == small <= 4


def _render(session, user) -> str:
    request = RequestFactory().get("/")
    request.user = user
    context = notes_for(session=session, user=user)
    return render_to_string("sessions/_notes.html", context, request=request)


def test_partial_draft_form_for_the_sessions_therapist(session, therapist):
    services.note_save(session=session, content={"history": "Seen <b>twice</b>."}, by=therapist)
    html = _render(session, therapist)
    assert 'name="history"' in html
    assert "Dosing-day logistics explained" in html
    assert "fasting" in html  # the help text
    assert "Seen &lt;b&gt;twice&lt;/b&gt;." in html  # escaped
    assert "Save draft" in html
    assert "Sign and lock" in html
    assert "Psychotherapy notes (private to you)" in html
    assert "never exported or shared" in html


def test_partial_for_an_admin_has_no_sign_button_and_says_who_signs(session, admin_user):
    html = _render(session, admin_user)
    assert "Save draft" in html
    assert "Sign and lock" not in html
    assert "Only Sam Rivera, who held this session, can sign" in html


def test_partial_signed_note_is_read_only_with_addenda(session, therapist, shared_therapist):
    services.note_save(session=session, content={"history": "Seen."}, by=therapist)
    services.note_sign(session=session, by=therapist)
    services.note_addendum_add(session=session, text="Late entry.", by=shared_therapist)
    html = _render(session, therapist)
    assert 'name="history"' not in html
    assert "Signed by Sam Rivera on" in html
    assert "Robin Lee" in html
    assert "Late entry." in html
    assert "Add addendum" in html


def test_partial_never_shows_another_authors_psychotherapy_note(
    session, therapist, admin_user, shared_therapist
):
    services.psychotherapy_note_save(session=session, text=SECRET, by=therapist)
    assert "lake house" in _render(session, therapist)
    for user in (admin_user, shared_therapist):
        assert "lake house" not in _render(session, user)


# --- Views: every URL by role ------------------------------------------------------------------

NOTE_URLS = ["note_save", "note_sign", "note_addendum", "private_note_save"]


def note_url(name: str, session) -> str:
    return reverse(
        f"patients:sessions:{name}",
        kwargs={"client_id": session.client_id, "session_id": session.pk},
    )


def session_page(session) -> str:
    return f"{session.get_absolute_url()}#notes"


@pytest.mark.parametrize("name", NOTE_URLS)
def test_note_urls_by_role(client, name, session, therapist, other_therapist, admin_user):
    target = note_url(name, session)
    response = client.post(target, {"history": "x", "text": "x"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    for user, status in (
        (other_therapist, 404),
        (session.client.user, 404),
        (therapist, 302),
        (admin_user, 302),
    ):
        client.logout()
        sign_in(client, user)
        response = client.post(target, {"history": "x", "text": "x"})
        assert response.status_code == status, (name, user.role)
        if status == 302:
            assert response["Location"] == session_page(session)
        assert client.get(target).status_code in (404, 405)


def test_a_session_of_another_client_is_404(client, session, therapist):
    other = factories.ClientFactory(primary_therapist=therapist)
    sign_in(client, therapist)
    url = reverse(
        "patients:sessions:note_save", kwargs={"client_id": other.pk, "session_id": session.pk}
    )
    assert client.post(url, {"history": "x"}).status_code == 404
    assert not ProgressNote.objects.exists()


def test_save_draft_view(client, session, therapist):
    sign_in(client, therapist)
    response = client.post(note_url("note_save", session), {"history": "Typed.", "junk": "y"})
    assert response.status_code == 302
    assert ProgressNote.objects.get().content["history"] == "Typed."
    assert "Draft saved" in str(list(response.wsgi_request._messages))


def test_sign_view_saves_then_signs(client, session, therapist):
    sign_in(client, therapist)
    client.post(note_url("note_sign", session), {"history": "Final text."})
    note = ProgressNote.objects.get()
    assert note.is_signed
    assert note.content["history"] == "Final text."


def test_a_refused_signature_keeps_the_typed_text(client, session, admin_user):
    sign_in(client, admin_user)
    response = client.post(note_url("note_sign", session), {"history": "Admin typed this."})
    note = ProgressNote.objects.get()
    assert note.content["history"] == "Admin typed this."
    assert not note.is_signed
    assert "Only the therapist who held" in str(list(response.wsgi_request._messages))


def test_a_refused_draft_save_says_why(client, session, therapist):
    services.note_save(session=session, content={"history": "Seen."}, by=therapist)
    services.note_sign(session=session, by=therapist)
    sign_in(client, therapist)
    response = client.post(note_url("note_save", session), {"history": "Rewritten."})
    assert "signed and locked" in str(list(response.wsgi_request._messages))
    assert ProgressNote.objects.get().content["history"] == "Seen."


def test_addendum_and_private_note_views(client, session, therapist):
    services.note_save(session=session, content={"history": "Seen."}, by=therapist)
    services.note_sign(session=session, by=therapist)
    sign_in(client, therapist)
    client.post(note_url("note_addendum", session), {"text": "Addendum text."})
    client.post(note_url("private_note_save", session), {"text": SECRET})
    assert NoteAddendum.objects.get().author == therapist
    assert PsychotherapyNote.objects.get().author == therapist


def test_an_empty_addendum_is_refused_with_a_message(client, session, therapist):
    services.note_save(session=session, content={"history": "Seen."}, by=therapist)
    services.note_sign(session=session, by=therapist)
    sign_in(client, therapist)
    response = client.post(note_url("note_addendum", session), {"text": ""})
    assert "Write the addendum" in str(list(response.wsgi_request._messages))
    assert not NoteAddendum.objects.exists()


def test_psychotherapy_note_is_absent_from_every_other_page(client, session, therapist, admin_user):
    """R23: not in the audit trail, the client record or the referral packet, for an admin."""
    with set_actor(therapist):
        services.psychotherapy_note_save(session=session, text=SECRET, by=therapist)
    referral = ReferralFactory(client=session.client, status=Referral.Status.APPROVED)
    PrescriptionFactory(referral=referral)
    sign_in(client, admin_user)
    pages = [
        reverse("audit:audit_log"),
        reverse("patients:client_detail", kwargs={"client_id": session.client_id}),
        reverse(
            "patients:referrals:referral_packet",
            kwargs={"client_id": session.client_id, "referral_id": referral.pk},
        ),
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        assert "lake house" not in response.content.decode(), page
