"""Referral and prescription pages: the owner therapist and admins act; another therapist, a
client and anonymous visitors cannot; crafted POSTs for impossible steps get a clear error."""

from __future__ import annotations

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent
from patients.models import Prescription, Referral, ReferralTransition
from patients.referrals import services as svc
from tests.factories_referrals import (
    PrescriberFactory,
    ReferralFactory,
    approved_referral_with_prescription,
)

S = Referral.Status


def url(name, referral=None, client=None, **kwargs):
    client = client or referral.client
    kwargs["client_id"] = client.pk
    if (
        referral is not None
        and name.startswith("referral_")
        and name
        not in (
            "referral_list",
            "referral_create",
        )
    ):
        kwargs["referral_id"] = referral.pk
    return reverse(f"patients:referrals:{name}", kwargs=kwargs)


def today():
    return timezone.localdate()


def rx_post(**overrides):
    data = {
        "happened_on": today().isoformat(),
        "medication": "Ketamine",
        "form": "rdt",
        "route": "sublingual",
        "dose_mg": "100",
        "tablets_per_dose": "1",
        "doses_authorised": "6",
        "min_days_between_doses": "14",
        "valid_until": (today() + timedelta(days=180)).isoformat(),
        "received_on": today().isoformat(),
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_therapist_creates_a_draft_referral(as_user, therapist, client_record):
    prescriber = PrescriberFactory()
    PrescriberFactory(is_active=False, clinician_name="Gone Away")
    browser = as_user(therapist)
    page = browser.get(url("referral_create", client=client_record))
    assert "Gone Away" not in page.content.decode()
    response = browser.post(
        url("referral_create", client=client_record),
        {"prescriber": prescriber.pk, "reason": "Treatment-resistant depression."},
    )
    referral = Referral.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("referral_detail", referral)
    assert (referral.status, referral.referred_by, referral.prescriber) == (
        S.DRAFT,
        therapist,
        prescriber,
    )


@pytest.mark.django_db
def test_second_open_referral_refused_in_the_form(as_user, therapist, client_record):
    ReferralFactory(client=client_record, status=S.SENT)
    response = as_user(therapist).post(
        url("referral_create", client=client_record),
        {"prescriber": PrescriberFactory().pk, "reason": "Again"},
    )
    assert response.status_code == 200
    assert "already has a referral in progress" in response.content.decode()
    assert Referral.objects.count() == 1


@pytest.mark.django_db
def test_detail_shows_only_allowed_actions(as_user, therapist, client_record):
    referral = ReferralFactory(client=client_record, status=S.DRAFT)
    html = as_user(therapist).get(url("referral_detail", referral)).content.decode()
    assert "Mark as sent" in html
    assert "Withdraw referral" in html
    assert "Record approval" not in html
    assert "Record decline" not in html
    assert "Prescriber is reviewing" not in html
    referral.status = S.SENT
    referral.save()
    html = as_user(therapist).get(url("referral_detail", referral)).content.decode()
    for label in (
        "Prescriber is reviewing",
        "Record approval and prescription",
        "Record decline",
        "Withdraw referral",
    ):
        assert label in html
    assert "Mark as sent" not in html


@pytest.mark.django_db
def test_mark_as_sent_records_the_step(as_user, therapist, client_record):
    referral = ReferralFactory(client=client_record, status=S.DRAFT)
    response = as_user(therapist).post(
        url("referral_transition", referral),
        {"to_status": "sent", "happened_on": today().isoformat(), "reason": "Faxed"},
    )
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == S.SENT
    step = ReferralTransition.objects.get()
    assert (step.from_status, step.to_status, step.reason) == (S.DRAFT, S.SENT, "Faxed")


@pytest.mark.django_db
@pytest.mark.parametrize("crafted", ["%d", "%s%s", "{0}", "sent%"])
def test_a_crafted_status_is_refused_with_a_message(as_user, therapist, client_record, crafted):
    # "%d" was formatted into the form's field ids: a TypeError, a server error.
    referral = ReferralFactory(client=client_record, status=S.DRAFT)
    response = as_user(therapist).post(
        url("referral_transition", referral),
        {"to_status": crafted, "happened_on": today().isoformat()},
    )
    assert response.status_code == 400
    referral.refresh_from_db()
    assert referral.status == S.DRAFT


@pytest.mark.django_db
def test_crafted_post_for_a_forbidden_transition(as_user, therapist, client_record):
    referral = ReferralFactory(client=client_record, status=S.DECLINED, status_reason="BP")
    browser = as_user(therapist)
    response = browser.post(
        url("referral_transition", referral),
        {"to_status": "approved", "happened_on": today().isoformat()},
    )
    assert response.status_code == 400
    assert (
        "A declined referral cannot be approved. Start a new referral instead."
        in response.content.decode()
    )
    response = browser.post(
        url("referral_transition", referral),
        {"to_status": "sent", "happened_on": today().isoformat()},
    )
    assert response.status_code == 400
    assert "A declined referral cannot be marked as sent" in response.content.decode()
    response = browser.post(url("referral_approve", referral), rx_post())
    assert response.status_code == 302
    assert not Prescription.objects.exists()
    referral.refresh_from_db()
    assert referral.status == S.DECLINED
    assert not ReferralTransition.objects.exists()


@pytest.mark.django_db
def test_decline_without_reason_keeps_the_form_open(as_user, therapist, client_record):
    referral = ReferralFactory(client=client_record, status=S.SENT)
    response = as_user(therapist).post(
        url("referral_transition", referral),
        {"to_status": "declined", "happened_on": today().isoformat(), "reason": ""},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was recorded" in html
    assert "Give the reason" in html
    referral.refresh_from_db()
    assert referral.status == S.SENT


@pytest.mark.django_db
def test_declined_referral_shows_why(as_user, therapist, client_record):
    referral = ReferralFactory(client=client_record, status=S.SENT)
    as_user(therapist).post(
        url("referral_transition", referral),
        {
            "to_status": "declined",
            "happened_on": today().isoformat(),
            "reason": "Uncontrolled hypertension: see GP first",
        },
    )
    html = as_user(therapist).get(url("referral_detail", referral)).content.decode()
    assert "Declined by the prescriber" in html
    assert "Uncontrolled hypertension: see GP first" in html
    assert "Record approval" not in html
    listing = as_user(therapist).get(url("referral_list", client=client_record))
    assert "Uncontrolled hypertension: see GP first" in listing.content.decode()


@pytest.mark.django_db
def test_approval_creates_the_prescription(as_user, therapist, client_record):
    referral = ReferralFactory(client=client_record, status=S.UNDER_REVIEW)
    response = as_user(therapist).post(url("referral_approve", referral), rx_post())
    assert response.status_code == 302
    referral.refresh_from_db()
    prescription = Prescription.objects.get()
    assert referral.status == S.APPROVED
    assert (prescription.referral, prescription.prescriber) == (referral, referral.prescriber)
    assert prescription.recorded_by == therapist


@pytest.mark.django_db
def test_r4_the_approval_form_offers_every_route_apart_from_the_office_ones(
    as_user, therapist, client_record
):
    referral = ReferralFactory(client=client_record, status=S.SENT)
    browser = as_user(therapist)
    page = browser.get(url("referral_approve", referral)).content.decode()
    office = page.split('<optgroup label="Taken by mouth at the dosing session">')[1]
    office, injected = office.split('<optgroup label="Given by the prescriber (not charted here)">')
    for value, label in (
        ("sublingual", "Sublingual"),
        ("buccal", "Buccal"),
        ("oral", "Oral (swallowed)"),
    ):
        assert f'<option value="{value}"' in office, value
        assert label in office, label
    for value in ("intramuscular", "intravenous", "intranasal"):
        assert f'<option value="{value}"' in injected.split("</optgroup>")[0], value
    assert "Oral (buccal)" not in page
    response = browser.post(url("referral_approve", referral), rx_post(route="buccal"))
    assert response.status_code == 302
    assert Prescription.objects.get().route == "buccal"


@pytest.mark.django_db
def test_r4_the_old_merged_route_is_refused_by_the_form(as_user, therapist, client_record):
    referral = ReferralFactory(client=client_record, status=S.SENT)
    response = as_user(therapist).post(
        url("referral_approve", referral), rx_post(route="oral_buccal")
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Prescription.objects.exists()


@pytest.mark.django_db
def test_out_of_range_dose_needs_the_box_ticked(as_user, therapist, client_record):
    referral = ReferralFactory(client=client_record, status=S.SENT)
    browser = as_user(therapist)
    response = browser.post(url("referral_approve", referral), rx_post(dose_mg="500"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Unusual dose: 500 mg" in html
    assert "I have checked this dose with the prescription" in html
    assert not Prescription.objects.exists()
    response = browser.post(
        url("referral_approve", referral), rx_post(dose_mg="500", dose_confirmed="on")
    )
    assert response.status_code == 302
    assert Prescription.objects.get().dose_mg == 500


@pytest.mark.django_db
@pytest.mark.parametrize("interval", ["2", "29"])
def test_interval_outside_3_to_28_refused_by_the_form(as_user, therapist, client_record, interval):
    referral = ReferralFactory(client=client_record, status=S.SENT)
    response = as_user(therapist).post(
        url("referral_approve", referral), rx_post(min_days_between_doses=interval)
    )
    assert response.status_code == 200
    assert "between 3 and 28 days" in response.content.decode()
    assert not Prescription.objects.exists()


@pytest.mark.django_db
def test_renew_keeps_the_old_prescription(as_user, therapist, client_record):
    _, old = approved_referral_with_prescription(client_record, therapist)
    browser = as_user(therapist)
    renew = url("prescription_supersede", client=client_record, prescription_id=old.pk)
    page = browser.get(renew)
    assert page.status_code == 200
    data = rx_post(doses_authorised="3")
    data.pop("happened_on")
    # The clinician must say what the new prescription is (R5: a renewal restarts the count).
    response = browser.post(renew, data)
    assert response.status_code == 200
    assert "Say whether this is a renewal or a change." in response.content.decode()
    assert 'value="3"' in response.content.decode()  # what was typed is kept
    data["kind"] = "renewal"
    response = browser.post(renew, data)
    assert response.status_code == 302
    old.refresh_from_db()
    new = Prescription.objects.get(superseded_at__isnull=True)
    assert old.superseded_at is not None
    assert old.doses_authorised == 6
    assert new.supersedes == old
    assert new.doses_authorised == 3
    assert new.kind == "renewal"
    html = browser.get(
        url("prescription_detail", client=client_record, prescription_id=old.pk)
    ).content.decode()
    assert "Open the newer prescription" in html
    assert "Renew or change" not in html
    assert browser.post(renew, data).status_code == 302
    assert Prescription.objects.count() == 2


@pytest.mark.django_db
def test_other_therapist_and_client_cannot_post(as_user, other_therapist, client_record, therapist):
    referral = ReferralFactory(client=client_record, status=S.SENT)
    _, prescription = approved_referral_with_prescription(
        None, therapist
    )  # another client of the same therapist
    posts = [
        (url("referral_create", client=client_record), {"prescriber": 1, "reason": "x"}),
        (url("referral_transition", referral), {"to_status": "declined", "reason": "x"}),
        (url("referral_approve", referral), rx_post()),
    ]
    for user in (other_therapist, client_record.user):
        browser = as_user(user)
        for target, data in posts:
            assert browser.post(target, data).status_code == 404, (user, target)
        renew = url(
            "prescription_supersede",
            client=prescription.client,
            prescription_id=prescription.pk,
        )
        assert browser.post(renew, rx_post()).status_code == 404
        browser.logout()
    referral.refresh_from_db()
    assert referral.status == S.SENT


@pytest.mark.django_db
def test_objects_of_another_client_are_404(as_user, therapist, client_record):
    """A referral or prescription id from another client in the URL of this client: 404."""
    referral, prescription = approved_referral_with_prescription(None, therapist)
    browser = as_user(therapist)
    assert (
        browser.get(
            url("referral_detail", client=client_record, referral_id=referral.pk)
        ).status_code
        == 404
    )
    assert (
        browser.get(
            url("referral_packet", client=client_record, referral_id=referral.pk)
        ).status_code
        == 404
    )
    assert (
        browser.get(
            url("prescription_detail", client=client_record, prescription_id=prescription.pk)
        ).status_code
        == 404
    )


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["therapist", "admin"])
def test_owner_and_admin_open_every_page(as_user, role, therapist, admin_user, client_record):
    referral, prescription = approved_referral_with_prescription(client_record, therapist)
    draft = ReferralFactory(client=client_record, status=S.SENT)
    browser = as_user(therapist if role == "therapist" else admin_user)
    pages = [
        url("referral_list", client=client_record),
        url("referral_detail", referral),
        url("referral_detail", draft),
        url("referral_approve", draft),
        url("referral_packet", referral),
        url("prescription_detail", client=client_record, prescription_id=prescription.pk),
        url("prescription_supersede", client=client_record, prescription_id=prescription.pk),
    ]
    for page in pages:
        assert browser.get(page).status_code == 200, page


@pytest.mark.django_db
def test_pages_are_audited(as_user, therapist, client_record):
    referral = ReferralFactory(client=client_record)
    as_user(therapist).get(url("referral_detail", referral))
    assert AccessEvent.objects.filter(client=client_record, page="Referral").exists()


def _count(browser, target):
    with CaptureQueriesContext(connection) as queries:
        assert browser.get(target).status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_list_and_detail_query_counts_do_not_grow(as_user, therapist, client_record):
    browser = as_user(therapist)
    first = svc.referral_create(
        client=client_record, prescriber=PrescriberFactory(), reason="TRD", by=therapist
    )
    svc.referral_transition(
        referral=first, to_status=S.SENT, happened_on=today(), reason="", by=therapist
    )
    small = (
        _count(browser, url("referral_list", client=client_record)),
        _count(browser, url("referral_detail", first)),
    )
    svc.referral_transition(
        referral=first, to_status=S.UNDER_REVIEW, happened_on=today(), reason="", by=therapist
    )
    svc.referral_transition(
        referral=first, to_status=S.WITHDRAWN, happened_on=today(), reason="x", by=therapist
    )
    for _ in range(9):
        ReferralFactory(client=client_record, status=S.WITHDRAWN)
    approved_referral_with_prescription(client_record, therapist)
    large = (
        _count(browser, url("referral_list", client=client_record)),
        _count(browser, url("referral_detail", first)),
    )
    assert small == large, (small, large)


@pytest.mark.django_db
def test_marking_as_sent_is_in_the_change_audit(as_user, therapist, client_record):
    """R22: django-auditlog records who moved the referral and the transition row."""
    referral = ReferralFactory(client=client_record, status=S.DRAFT)
    as_user(therapist).post(
        url("referral_transition", referral),
        {"to_status": "sent", "happened_on": today().isoformat(), "reason": ""},
    )
    entries = LogEntry.objects.filter(actor=therapist)
    assert entries.filter(content_type__model="referraltransition").exists()
    change = entries.get(content_type__model="referral", object_pk=str(referral.pk))
    assert change.changes_dict["status"] == ["draft", "sent"]
