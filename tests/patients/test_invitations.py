"""Portal invitations: single-use, expiring (default 7 days) links; resend and revoke."""

import re

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from patients.models import PortalInvitation
from tests import factories
from tests.conftest import sign_in
from tests.outbox_helpers import send_outbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def new_client(therapist):
    return factories.ClientFactory(
        primary_therapist=therapist, first_name="Rosa", last_name="Diaz", email="rosa@example.org"
    )


def _invite(client, therapist, record, capture):
    sign_in(client, therapist)
    with capture(execute=True):
        response = client.post(
            reverse("patients:invitation_send", kwargs={"client_id": record.pk}), follow=True
        )
    send_outbox()
    return response


def _link(message) -> str:
    return re.search(r"http://testserver(/welcome/\S+/)", message.body).group(1)


def test_invite_accept_and_land_in_the_portal(
    client, therapist, new_client, django_capture_on_commit_callbacks
):
    response = _invite(client, therapist, new_client, django_capture_on_commit_callbacks)
    assert "Invitation to rosa@example.org saved: it will be e-mailed within a minute" in (
        response.content.decode()
    )
    assert 'data-portal-status="invited"' in response.content.decode()
    assert 'data-delivery="pending"' in response.content.decode()
    page = client.get(reverse("patients:client_detail", kwargs={"client_id": new_client.pk}))
    assert 'data-delivery="sent"' in page.content.decode()
    (message,) = mail.outbox
    assert message.to == ["rosa@example.org"]
    assert message.subject == f"Your {settings.CLINIC_NAME} client portal"  # R25: nothing clinical
    assert "ketamine" not in (message.subject + message.body).lower()
    link = _link(message)
    client.logout()
    page = client.get(link)
    assert "Welcome, Rosa" in page.content.decode()
    response = client.post(
        link, {"password1": "sunny-river-stone-7", "password2": "sunny-river-stone-7"}
    )
    assert response["Location"] == reverse("portal:home")
    new_client.refresh_from_db()
    assert new_client.user.email == "rosa@example.org"
    assert new_client.user.is_client
    assert client.get(reverse("portal:home")).status_code == 200
    # Single use.
    client.logout()
    assert client.get(link).status_code == 410


def test_weak_password_explains_and_the_link_still_works(
    client, therapist, new_client, django_capture_on_commit_callbacks
):
    _invite(client, therapist, new_client, django_capture_on_commit_callbacks)
    link = _link(mail.outbox[0])
    client.logout()
    response = client.post(link, {"password1": "rosa", "password2": "rosa"})
    assert "too short" in response.content.decode()
    response = client.post(
        link, {"password1": "sunny-river-stone-7", "password2": "other-one-7777"}
    )
    assert "The two passwords are not the same." in response.content.decode()
    assert PortalInvitation.objects.get().accepted_at is None


def test_link_expires_after_seven_days(
    client, therapist, new_client, django_capture_on_commit_callbacks
):
    with time_machine.travel("2026-11-01 10:00Z", tick=False) as clock:
        _invite(client, therapist, new_client, django_capture_on_commit_callbacks)
        link = _link(mail.outbox[0])
        client.logout()
        clock.shift(timezone.timedelta(days=6, hours=23))
        assert client.get(link).status_code == 200
        clock.shift(timezone.timedelta(hours=2))
        response = client.get(link)
        assert response.status_code == 410
        assert "This link no longer works" in response.content.decode()


def test_resend_replaces_the_old_link_and_revoke_cancels(
    client, therapist, new_client, django_capture_on_commit_callbacks
):
    _invite(client, therapist, new_client, django_capture_on_commit_callbacks)
    first = _link(mail.outbox[0])
    response = _invite(client, therapist, new_client, django_capture_on_commit_callbacks)
    assert "Send a new invitation" in response.content.decode()
    second = _link(mail.outbox[1])
    assert first != second
    invitation = PortalInvitation.objects.get(accepted_at=None, revoked_at=None)
    client.post(
        reverse(
            "patients:invitation_revoke",
            kwargs={"client_id": new_client.pk, "invitation_id": invitation.pk},
        )
    )
    client.logout()
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 410


def test_only_a_hash_of_the_token_is_stored(
    client, therapist, new_client, django_capture_on_commit_callbacks
):
    _invite(client, therapist, new_client, django_capture_on_commit_callbacks)
    token = _link(mail.outbox[0]).rstrip("/").rsplit("/", 1)[1]
    assert not PortalInvitation.objects.filter(token_hash__contains=token).exists()


def test_no_invitation_without_email_or_for_archived(client, therapist):
    record = factories.ClientFactory(primary_therapist=therapist, email="")
    sign_in(client, therapist)
    response = client.post(
        reverse("patients:invitation_send", kwargs={"client_id": record.pk}), follow=True
    )
    assert "e-mail address first: the invitation is sent there" in response.content.decode()
    assert not PortalInvitation.objects.exists()


def test_signed_in_user_opening_a_link_is_told_to_sign_out(
    client, therapist, new_client, django_capture_on_commit_callbacks
):
    _invite(client, therapist, new_client, django_capture_on_commit_callbacks)
    response = client.get(_link(mail.outbox[0]))
    assert response.status_code == 409
    assert "Sign out first" in response.content.decode()


def test_other_therapist_cannot_invite_or_revoke(client, other_therapist, new_client, therapist):
    sign_in(client, other_therapist)
    url = reverse("patients:invitation_send", kwargs={"client_id": new_client.pk})
    assert client.post(url).status_code == 404
    assert not PortalInvitation.objects.exists()


def test_portal_status_labels(client, therapist, client_record, new_client):
    sign_in(client, therapist)
    body = client.get(reverse("patients:client_detail", kwargs={"client_id": new_client.pk}))
    assert 'data-portal-status="not_invited"' in body.content.decode()
    body = client.get(reverse("patients:client_detail", kwargs={"client_id": client_record.pk}))
    assert 'data-portal-status="never_used"' in body.content.decode()
