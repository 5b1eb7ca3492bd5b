"""Admins manage staff: add by e-mailed link, edit, deactivate, reset two-factor (audited)."""

import re

import pytest
from auditlog.models import LogEntry
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from outbox.models import OutboxMessage
from tests import factories
from tests.conftest import sign_in
from tests.outbox_helpers import send_outbox

pytestmark = pytest.mark.django_db


def test_admin_adds_a_therapist_who_sets_a_password_from_the_email(
    client, admin_user, django_capture_on_commit_callbacks
):
    sign_in(client, admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("staff:add"),
            {
                "first_name": "Ada",
                "last_name": "Byrne",
                "email": "Ada@Example.org",
                "role": "therapist",
            },
            follow=True,
        )
    assert "Ada Byrne was added" in response.content.decode()
    user = User.objects.get(email="ada@example.org")
    assert user.role == "therapist"
    assert not user.has_usable_password()
    assert "will be e-mailed to them within a minute" in response.content.decode()
    assert send_outbox().sent == 1
    (message,) = mail.outbox
    assert message.subject == f"Your {settings.CLINIC_NAME} account"
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", message.body).group(1)
    client.logout()
    form_url = client.get(link, follow=True).redirect_chain[-1][0]
    client.post(
        form_url, {"new_password1": "tidy-ocean-lamp-88", "new_password2": "tidy-ocean-lamp-88"}
    )
    user.refresh_from_db()
    assert user.check_password("tidy-ocean-lamp-88")


def test_adding_an_existing_email_keeps_what_was_typed(client, admin_user, therapist):
    sign_in(client, admin_user)
    response = client.post(
        reverse("staff:add"),
        {
            "first_name": "Ada",
            "last_name": "Byrne",
            "email": therapist.email.upper(),
            "role": "admin",
        },
    )
    body = response.content.decode()
    assert "Someone already signs in with this e-mail address." in body
    assert 'value="Byrne"' in body
    assert not OutboxMessage.objects.exists()


def test_admin_deactivates_a_therapist_and_it_is_audited(client, admin_user, therapist):
    sign_in(client, admin_user)
    client.post(
        reverse("staff:edit", kwargs={"user_id": therapist.pk}),
        {"first_name": therapist.first_name, "last_name": therapist.last_name, "role": "therapist"},
    )
    therapist.refresh_from_db()
    assert not therapist.is_active
    entry = LogEntry.objects.get_for_object(therapist).filter(action=LogEntry.Action.UPDATE).get()
    assert entry.actor == admin_user
    assert entry.changes_dict["is_active"] == ["True", "False"]


def test_admin_cannot_lock_themselves_out(client, admin_user):
    sign_in(client, admin_user)
    response = client.post(
        reverse("staff:edit", kwargs={"user_id": admin_user.pk}),
        {"first_name": "Alex", "last_name": "Admin", "role": "therapist", "is_active": "on"},
    )
    assert "You cannot deactivate yourself" in response.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.is_admin


def test_reset_two_factor_makes_them_enrol_again(client, admin_user, therapist):
    factories.totp_device(therapist)
    factories.backup_code(therapist)
    sign_in(client, admin_user)
    url = reverse("staff:two_factor_reset", kwargs={"user_id": therapist.pk})
    assert client.get(url).status_code == 405
    client.post(url)
    assert not TOTPDevice.objects.filter(user=therapist).exists()
    assert not StaticDevice.objects.filter(user=therapist).exists()
    deletions = LogEntry.objects.filter(action=LogEntry.Action.DELETE, actor=admin_user)
    assert deletions.count() == 2
    client.logout()
    sign_in(client, therapist, verified=False)
    assert client.get("/")["Location"].startswith(reverse("accounts:two_factor_setup"))


def test_clients_are_not_staff(client, admin_user, client_record):
    sign_in(client, admin_user)
    url = reverse("staff:edit", kwargs={"user_id": client_record.user.pk})
    assert client.get(url).status_code == 404


def test_staff_list_query_count_is_constant(client, admin_user):
    sign_in(client, admin_user)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("staff:list")).status_code == 200
        return len(queries)

    factories.TherapistFactory.create_batch(2)
    small = count()
    for therapist in factories.TherapistFactory.create_batch(25):
        factories.totp_device(therapist)
    assert count() == small
