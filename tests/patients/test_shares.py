"""Sharing a client with a second therapist and stopping it: by an admin or the primary
therapist; the shared therapist sees the client until the share is revoked (kept, R24); every
change is in the change trail (R22)."""

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from patients.clients import services
from patients.models import ClientShare
from tests import factories
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


def _add_url(record):
    return reverse("patients:share_add", kwargs={"client_id": record.pk})


def _revoke_url(share):
    return reverse(
        "patients:share_revoke", kwargs={"client_id": share.client_id, "share_id": share.pk}
    )


def _detail(record):
    return reverse("patients:client_detail", kwargs={"client_id": record.pk})


# --- Services


@pytest.mark.parametrize("by", ["admin", "primary"])
def test_admin_or_primary_therapist_shares_and_the_change_is_audited(
    by, client_record, therapist, other_therapist, admin_user
):
    granter = admin_user if by == "admin" else therapist
    share = services.client_share(
        client=client_record, therapist=other_therapist, by=granter, reason=" Holiday cover "
    )
    assert (share.granted_by, share.reason, share.revoked_at) == (granter, "Holiday cover", None)
    created = LogEntry.objects.get(
        content_type=ContentType.objects.get_for_model(ClientShare),
        object_pk=str(share.pk),
        action=LogEntry.Action.CREATE,
    )
    assert created.additional_data == {"client_id": client_record.pk}
    services.client_share_revoke(share=share, by=granter)
    share.refresh_from_db()
    assert share.revoked_at is not None  # kept, never deleted (R24)
    updated = LogEntry.objects.get(
        content_type=ContentType.objects.get_for_model(ClientShare),
        object_pk=str(share.pk),
        action=LogEntry.Action.UPDATE,
    )
    assert "revoked_at" in updated.changes_dict


def test_a_shared_therapist_cannot_share_further(client_record, other_therapist, admin_user):
    factories.ClientShareFactory(
        client=client_record, therapist=other_therapist, granted_by=admin_user
    )
    third = factories.TherapistFactory()
    with pytest.raises(PermissionError):
        services.client_share(
            client=client_record, therapist=third, by=other_therapist, reason="Cover"
        )


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("duplicate", "already shared with"),
        ("primary", "already this client's primary therapist"),
        ("inactive", "Choose an active therapist"),
        ("admin", "Choose an active therapist"),
        ("no_reason", "Give a reason"),
        ("archived", "archived"),
    ],
)
def test_client_share_refuses(case, message, client_record, therapist, other_therapist, admin_user):
    target = {"primary": therapist, "admin": admin_user}.get(case, other_therapist)
    if case == "duplicate":
        services.client_share(
            client=client_record, therapist=other_therapist, by=admin_user, reason="Cover"
        )
    if case == "inactive":
        other_therapist.is_active = False
        other_therapist.save()
    if case == "archived":
        client_record.archived_at = client_record.created_at
        client_record.archived_reason = "Moved away"
        client_record.save()
    with pytest.raises(services.ShareError, match=message):
        services.client_share(
            client=client_record,
            therapist=target,
            by=admin_user,
            reason="" if case == "no_reason" else "Cover",
        )
    assert ClientShare.objects.filter(revoked_at__isnull=True).count() == (
        1 if case == "duplicate" else 0
    )


def test_sharing_again_after_a_revoke_makes_a_new_share(client_record, other_therapist, admin_user):
    first = services.client_share(
        client=client_record, therapist=other_therapist, by=admin_user, reason="Cover"
    )
    services.client_share_revoke(share=first, by=admin_user)
    with pytest.raises(services.ShareError):
        services.client_share_revoke(share=first, by=admin_user)
    second = services.client_share(
        client=client_record, therapist=other_therapist, by=admin_user, reason="Co-therapy"
    )
    assert second.pk != first.pk
    assert ClientShare.objects.filter(client=client_record).count() == 2


# --- Views


def test_the_shared_therapist_sees_the_client_then_loses_it_after_revoke(
    client, client_record, therapist, other_therapist
):
    sign_in(client, other_therapist)
    assert client.get(_detail(client_record)).status_code == 404
    client.logout()

    sign_in(client, therapist)
    response = client.post(
        _add_url(client_record),
        {"therapist": other_therapist.pk, "reason": "Holiday cover"},
        follow=True,
    )
    body = response.content.decode()
    assert "Maya Patel is now shared with Jordan Chen." in body
    assert "Stop sharing" in body
    share = ClientShare.objects.get(client=client_record, revoked_at__isnull=True)
    client.logout()

    sign_in(client, other_therapist)
    page = client.get(_detail(client_record)).content.decode()
    assert "Maya Patel" in page
    # The shared therapist sees who the record is shared with but does not manage it.
    assert "Stop sharing" not in page
    assert "Share with this therapist" not in page
    assert client.post(_revoke_url(share)).status_code == 404
    assert client.post(_add_url(client_record), {"reason": "x"}).status_code == 404
    client.logout()

    sign_in(client, therapist)
    response = client.post(_revoke_url(share), follow=True)
    assert "Maya Patel is no longer shared with Jordan Chen." in response.content.decode()
    client.logout()

    sign_in(client, other_therapist)
    assert client.get(_detail(client_record)).status_code == 404
    share.refresh_from_db()
    assert share.revoked_at is not None


def test_the_form_offers_active_therapists_other_than_the_primary_and_already_shared(
    client, client_record, therapist, other_therapist, admin_user
):
    shared = factories.TherapistFactory()
    factories.ClientShareFactory(client=client_record, therapist=shared, granted_by=admin_user)
    gone = factories.TherapistFactory(is_active=False)
    sign_in(client, admin_user)
    body = client.get(_detail(client_record)).content.decode()
    assert f'<option value="{other_therapist.pk}"' in body
    for excluded in (therapist, shared, gone, admin_user):
        assert f'<option value="{excluded.pk}"' not in body


def test_a_failed_share_keeps_what_was_typed(client, client_record, admin_user, other_therapist):
    sign_in(client, admin_user)
    response = client.post(_add_url(client_record), {"therapist": "", "reason": "Co-therapy"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Choose the therapist to share this client with." in body
    assert 'value="Co-therapy"' in body
    assert not ClientShare.objects.exists()


@pytest.mark.parametrize("role", ["anonymous", "other_therapist", "client"])
def test_outsiders_cannot_share_or_revoke(client, role, client_record, other_therapist, admin_user):
    share = factories.ClientShareFactory(
        client=client_record, therapist=factories.TherapistFactory(), granted_by=admin_user
    )
    users = {"other_therapist": other_therapist, "client": client_record.user}
    if role != "anonymous":
        sign_in(client, users[role])
    expected = 302 if role == "anonymous" else 404
    assert client.get(_add_url(client_record)).status_code == expected
    assert (
        client.post(
            _add_url(client_record), {"therapist": other_therapist.pk, "reason": "x"}
        ).status_code
        == expected
    )
    assert client.post(_revoke_url(share)).status_code == expected
    share.refresh_from_db()
    assert share.revoked_at is None
    assert ClientShare.objects.count() == 1


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owner_and_admin_open_the_share_page(client, role, client_record, therapist, admin_user):
    sign_in(client, therapist if role == "owner" else admin_user)
    body = client.get(_add_url(client_record)).content.decode()
    assert "Share Maya Patel with another therapist" in body


def test_a_share_of_another_client_cannot_be_revoked_through_this_client(
    client, client_record, other_client_record, therapist, admin_user
):
    foreign = factories.ClientShareFactory(
        client=other_client_record, therapist=therapist, granted_by=admin_user
    )
    sign_in(client, therapist)
    url = reverse(
        "patients:share_revoke", kwargs={"client_id": client_record.pk, "share_id": foreign.pk}
    )
    assert client.post(url).status_code == 404
    foreign.refresh_from_db()
    assert foreign.revoked_at is None


def test_client_record_queries_do_not_grow_with_the_shares(client, client_record, admin_user):
    sign_in(client, admin_user)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(_detail(client_record)).status_code == 200
        return len(queries)

    factories.ClientShareFactory(client=client_record, granted_by=admin_user)
    factories.TherapistFactory()
    small = count()
    for _ in range(5):
        factories.ClientShareFactory(client=client_record, granted_by=admin_user)
        factories.TherapistFactory()
    assert count() == small
