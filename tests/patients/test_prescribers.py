"""The prescribers directory (R24: deactivated, never deleted). Admins and therapists manage it;
clients and anonymous visitors never see it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from patients.models import Prescriber
from tests.factories_referrals import PrescriberFactory

LIST = reverse("prescribers:prescriber_list")
NEW = reverse("prescribers:prescriber_create")


def edit_url(prescriber):
    return reverse("prescribers:prescriber_edit", kwargs={"prescriber_id": prescriber.pk})


def active_url(prescriber):
    return reverse("prescribers:prescriber_set_active", kwargs={"prescriber_id": prescriber.pk})


@pytest.mark.django_db
def test_list_shows_active_first_and_searches(as_user, therapist):
    PrescriberFactory(clinician_name="Zoe Inactive", organisation="Alpha", is_active=False)
    PrescriberFactory(clinician_name="Dana Active", organisation="Beta Health")
    response = as_user(therapist).get(LIST)
    assert response.status_code == 200
    names = [p.clinician_name for p in response.context["page"].object_list]
    assert names == ["Dana Active", "Zoe Inactive"]
    response = as_user(therapist).get(LIST, {"q": "beta"})
    assert [p.clinician_name for p in response.context["page"].object_list] == ["Dana Active"]
    response = as_user(therapist).get(LIST, {"q": "zoe"})
    assert [p.clinician_name for p in response.context["page"].object_list] == ["Zoe Inactive"]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["therapist", "admin"])
def test_staff_add_a_prescriber_with_parsed_phone_and_fax(as_user, role, therapist, admin_user):
    user = therapist if role == "therapist" else admin_user
    response = as_user(user).post(
        NEW,
        {
            "clinician_name": "Dr. Ana Ruiz",
            "credentials": "MD",
            "organisation": "Journey Clinical",
            "email": " Ana@Example.ORG ",
            "phone": "(555) 201-4000",
            "fax": "555 201 4001",
            "notes": "Referrals by fax.",
        },
    )
    assert response.status_code == 302
    prescriber = Prescriber.objects.get()
    assert prescriber.email == "ana@example.org"
    assert prescriber.phone == "+15552014000"
    assert prescriber.fax == "+15552014001"
    assert prescriber.is_active


@pytest.mark.django_db
def test_bad_email_and_phone_are_explained(as_user, therapist):
    response = as_user(therapist).post(
        NEW, {"clinician_name": "Dr. X", "email": "not-an-email", "phone": "12"}
    )
    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    assert "phone number we can call" in str(response.context["form"].errors["phone"])
    assert not Prescriber.objects.exists()


@pytest.mark.django_db
def test_edit(as_user, therapist):
    prescriber = PrescriberFactory(clinician_name="Old Name")
    response = as_user(therapist).post(
        edit_url(prescriber), {"clinician_name": "New Name", "fax": "", "phone": ""}
    )
    assert response.status_code == 302
    prescriber.refresh_from_db()
    assert prescriber.clinician_name == "New Name"


@pytest.mark.django_db
def test_deactivate_and_reactivate_never_delete(as_user, therapist):
    prescriber = PrescriberFactory()
    as_user(therapist).post(active_url(prescriber), {"active": "0"})
    prescriber.refresh_from_db()
    assert not prescriber.is_active
    response = as_user(therapist).get(reverse("prescribers:prescriber_list"))
    assert "Reactivate" in response.content.decode()
    as_user(therapist).post(active_url(prescriber), {"active": "1"})
    prescriber.refresh_from_db()
    assert prescriber.is_active
    assert Prescriber.objects.count() == 1


@pytest.mark.django_db
def test_clients_get_404_on_every_prescriber_page_and_post(as_user, client_record):
    prescriber = PrescriberFactory()
    browser = as_user(client_record.user)
    for url in (LIST, NEW, edit_url(prescriber), active_url(prescriber)):
        assert browser.get(url).status_code == 404
        assert browser.post(url, {"clinician_name": "Hacked", "active": "0"}).status_code == 404
    prescriber.refresh_from_db()
    assert prescriber.is_active
    assert prescriber.clinician_name != "Hacked"


@pytest.mark.django_db
def test_anonymous_sent_to_sign_in(client):
    prescriber = PrescriberFactory()
    response = client.post(active_url(prescriber), {"active": "0"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.django_db
def test_unknown_prescriber_is_404(as_user, therapist):
    assert as_user(therapist).get("/prescribers/999999/edit/").status_code == 404


@pytest.mark.django_db
def test_list_query_count_constant(as_user, therapist):
    browser = as_user(therapist)
    PrescriberFactory()
    with CaptureQueriesContext(connection) as small:
        browser.get(LIST)
    PrescriberFactory.create_batch(10)
    with CaptureQueriesContext(connection) as large:
        browser.get(LIST)
    assert len(small) == len(large)
