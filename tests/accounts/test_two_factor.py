"""R22 person authentication: staff enrol an authenticator and pass it before any client data."""

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests import factories
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db
SETUP = reverse("accounts:two_factor_setup")
VERIFY = reverse("accounts:two_factor_verify")


def test_enrolment_shows_a_locally_drawn_qr_code_and_a_text_key(client, therapist):
    sign_in(client, therapist, verified=False)
    body = client.get(SETUP).content.decode()
    assert "<svg" in body
    assert "data-totp-secret" in body
    assert "http" not in body.split("<svg", 1)[1].split("</svg>", 1)[0].replace(
        "http://www.w3.org", ""
    )  # the QR code is inline, not fetched from a QR service
    # Reloading keeps the same secret, so a code scanned before the reload still works.
    assert TOTPDevice.objects.filter(user=therapist).count() == 1
    client.get(SETUP)
    assert TOTPDevice.objects.filter(user=therapist).count() == 1


def test_enrolment_with_a_wrong_code_explains_and_keeps_the_device(client, therapist):
    sign_in(client, therapist, verified=False)
    client.get(SETUP)
    response = client.post(SETUP, {"token": "000000"})
    assert "That code did not match" in response.content.decode()
    assert not TOTPDevice.objects.get(user=therapist).confirmed


def test_enrolment_confirms_device_verifies_session_and_shows_ten_backup_codes(
    client, therapist, client_record
):
    sign_in(client, therapist, verified=False)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=therapist)
    target = reverse("patients:client_detail", kwargs={"client_id": client_record.pk})
    response = client.post(f"{SETUP}?next={target}", {"token": factories.totp_code(device)})
    assert response.status_code == 302
    response = client.get(response["Location"])
    codes = response.context["codes"]
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert f'href="{target}"' in response.content.decode()
    assert client.get(target).status_code == 200
    # Shown once only.
    assert client.get(reverse("accounts:backup_codes")).context["codes"] is None


def test_enrolled_staff_must_verify_each_session(client, therapist):
    device = factories.totp_device(therapist)
    sign_in(client, therapist, verified=False)
    assert client.get(SETUP)["Location"].startswith(VERIFY)  # cannot enrol a second device
    assert client.get(reverse("patients:client_list"))["Location"].startswith(VERIFY)
    response = client.post(f"{VERIFY}?next=/clients/", {"token": "123 456"})
    assert "That code did not work" in response.content.decode()
    # django-otp throttles after a failure: a right code straight away is refused with a reason.
    response = client.post(f"{VERIFY}?next=/clients/", {"token": factories.totp_code(device)})
    assert "Too many wrong codes in a row" in response.content.decode()
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None)
    response = client.post(f"{VERIFY}?next=/clients/", {"token": factories.totp_code(device)})
    assert response["Location"] == "/clients/"
    assert client.get("/clients/").status_code == 200


def test_backup_code_works_once(client, therapist):
    factories.totp_device(therapist)
    code = factories.backup_code(therapist)
    sign_in(client, therapist, verified=False)
    response = client.post(VERIFY, {"token": code}, follow=True)
    assert "You used a backup code; 0 left" in response.content.decode()
    client.logout()
    sign_in(client, therapist, verified=False)
    response = client.post(VERIFY, {"token": code})
    assert response.status_code == 200  # refused the second time


def test_verify_refuses_an_offsite_next(client, therapist):
    device = factories.totp_device(therapist)
    sign_in(client, therapist, verified=False)
    response = client.post(
        f"{VERIFY}?next=https://evil.example/", {"token": factories.totp_code(device)}
    )
    assert response["Location"] == reverse("home")


def test_regenerating_backup_codes_invalidates_the_old_ones(client, therapist):
    old = factories.backup_code(therapist)
    sign_in(client, therapist)
    response = client.post(reverse("accounts:backup_codes"), follow=True)
    new_codes = response.context["codes"]
    assert len(new_codes) == 10
    assert old not in new_codes
    assert response.context["remaining"] == 10


def test_backup_codes_do_not_throttle_the_authenticator(client, therapist):
    device = factories.totp_device(therapist)
    codes = [factories.backup_code(therapist) for _ in range(3)]
    for code in codes:
        client.logout()
        sign_in(client, therapist, verified=False)
        response = client.post(VERIFY, {"token": code})
        assert response.status_code == 302, response.content.decode()[:200]
    device.refresh_from_db()
    assert device.throttling_failure_count == 0
    client.logout()
    sign_in(client, therapist, verified=False)
    assert client.post(VERIFY, {"token": factories.totp_code(device)}).status_code == 302


def test_enrolment_right_after_a_wrong_code_says_to_wait(client, therapist):
    sign_in(client, therapist, verified=False)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=therapist)
    client.post(SETUP, {"token": "000000"})
    response = client.post(SETUP, {"token": factories.totp_code(device)})
    assert "Too many wrong codes in a row" in response.content.decode()
