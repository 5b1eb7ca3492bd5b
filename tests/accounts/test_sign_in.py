"""Sign-in for every role, lockout (django-axes), idle logoff (R22) and password reset."""

import re

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.urls import reverse

from accounts.models import User
from outbox.models import MessageKind, OutboxMessage
from tests import factories
from tests.conftest import sign_in
from tests.outbox_helpers import send_outbox

pytestmark = pytest.mark.django_db
LOGIN = reverse("accounts:login")


def post_login(client, email, password, next_url=""):
    data = {"username": email, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post(LOGIN, data)


def test_client_lands_on_portal_without_two_factor(client, client_record):
    response = post_login(client, client_record.user.email, factories.PASSWORD)
    assert response.status_code == 302
    response = client.get(response["Location"], follow=True)
    assert response.redirect_chain[-1][0] == reverse("portal:home")
    assert "Hello, Maya" in response.content.decode()


def test_sign_in_is_case_insensitive_on_email(client, client_record):
    response = post_login(client, client_record.user.email.upper(), factories.PASSWORD)
    assert response.status_code == 302


def test_staff_sign_in_leads_to_two_factor_enrolment_then_back(client, therapist, client_record):
    target = reverse("patients:client_detail", kwargs={"client_id": client_record.pk})
    response = post_login(client, therapist.email, factories.PASSWORD, next_url=target)
    assert response["Location"] == target
    response = client.get(target)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:two_factor_setup"))


def test_wrong_password_keeps_the_email_and_explains(client, therapist):
    response = post_login(client, therapist.email, "wrong-password")
    body = response.content.decode()
    assert response.status_code == 200
    assert "do not match an active account" in body
    assert f'value="{therapist.email}"' in body


def test_inactive_user_cannot_sign_in(client, therapist):
    therapist.is_active = False
    therapist.save()
    assert post_login(client, therapist.email, factories.PASSWORD).status_code == 200


def test_lockout_after_five_failures_with_a_clear_message(client, therapist):
    for _ in range(4):
        assert post_login(client, therapist.email, "wrong-password").status_code == 200
    response = post_login(client, therapist.email, "wrong-password")
    assert response.status_code == 429
    assert "Sign-in temporarily locked" in response.content.decode()
    assert "15 minutes" in response.content.decode()
    # Even the right password is refused while locked.
    response = post_login(client, therapist.email, factories.PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_lockout_is_per_account_not_per_clinic(client, therapist, other_therapist):
    for _ in range(5):
        post_login(client, therapist.email, "wrong-password")
    assert post_login(client, other_therapist.email, factories.PASSWORD).status_code == 302


class TestIdleLogoff:
    def test_idle_session_is_ended_and_returns_to_the_same_page(
        self, client, therapist, client_record, settings
    ):
        settings.IDLE_TIMEOUT_SECONDS = 15 * 60
        page = reverse("patients:client_detail", kwargs={"client_id": client_record.pk})
        with time_machine.travel("2026-11-21 09:00:00Z", tick=False) as clock:
            sign_in(client, therapist)
            assert client.get(page).status_code == 200
            clock.shift(14 * 60)
            assert client.get(page).status_code == 200  # activity restarts the clock
            clock.shift(14 * 60)
            assert client.get(page).status_code == 200
            clock.shift(15 * 60 + 1)
            response = client.get(page)
        assert response.status_code == 302
        assert response["Location"] == f"{LOGIN}?next={page.replace('/', '%2F')}&timeout=1"
        assert "_auth_user_id" not in client.session
        login_page = client.get(response["Location"]).content.decode()
        assert "signed out after 15 minutes without activity" in login_page
        assert f'name="next" value="{page}"' in login_page

    def test_idle_htmx_request_redirects_the_whole_page(self, client, therapist, settings):
        settings.IDLE_TIMEOUT_SECONDS = 60
        with time_machine.travel("2026-11-21 09:00:00Z", tick=False) as clock:
            sign_in(client, therapist)
            client.get(reverse("patients:client_list"))
            clock.shift(61)
            response = client.get(
                reverse("patients:client_list"),
                headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/clients/?q=a"},
            )
        assert response.status_code == 200
        assert response["HX-Redirect"].startswith(f"{LOGIN}?next=%2Fclients%2F%3Fq%3Da")


def test_password_reset_email_has_no_clinical_detail_and_works(client, therapist):
    client.post(reverse("accounts:password_reset"), {"email": therapist.email})
    assert mail.outbox == []  # not sent inside the request: an outbox row
    (row,) = OutboxMessage.objects.all()
    assert (row.kind, row.secret, row.to) == (MessageKind.PASSWORD_RESET, True, therapist.email)
    assert send_outbox().sent == 1
    row.refresh_from_db()
    assert (row.status, row.text) == ("sent", "")  # the link is not kept once sent
    (message,) = mail.outbox
    assert message.subject == f"Reset your {settings.CLINIC_NAME} password"
    assert "ketamine" not in (message.subject + message.body).lower()
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", message.body).group(1)
    response = client.get(link, follow=True)
    form_url = response.redirect_chain[-1][0]
    response = client.post(
        form_url,
        {"new_password1": "a-much-better-pass-42", "new_password2": "a-much-better-pass-42"},
    )
    assert response["Location"] == reverse("accounts:password_reset_complete")
    therapist.refresh_from_db()
    assert therapist.check_password("a-much-better-pass-42")


def test_password_reset_for_unknown_address_looks_the_same(client):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.org"})
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert not OutboxMessage.objects.exists()


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short-1", "too short"),
        ("password1234", "too common"),
        ("123456789012345", "entirely numeric"),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(client, client_record, password, message):
    sign_in(client, client_record.user)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": factories.PASSWORD, "new_password1": password, "new_password2": password},
    )
    assert response.status_code == 200
    assert message in response.content.decode()


def test_emails_are_unique_whatever_the_case(db):
    factories.TherapistFactory(email="Sam@Example.org")
    assert User.objects.get_by_natural_key("sam@example.org").email == "sam@example.org"
    with pytest.raises((IntegrityError, ValidationError)):  # today the DB index refuses
        factories.TherapistFactory(email="SAM@example.org")
