"""The one access policy (kap_clinic/access.py): every role × own / other client."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from patients.access import can_change_client, can_view_client, visible_clients
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def mine(therapist):
    return factories.ClientFactory(primary_therapist=therapist)


@pytest.fixture
def theirs(other_therapist):
    return factories.ClientFactory(primary_therapist=other_therapist)


def test_admin_sees_and_changes_every_client(admin_user, mine, theirs):
    assert set(visible_clients(admin_user)) == {mine, theirs}
    assert can_view_client(admin_user, theirs)
    assert can_change_client(admin_user, theirs)


def test_therapist_sees_own_caseload_only(therapist, mine, theirs):
    assert list(visible_clients(therapist)) == [mine]
    assert can_view_client(therapist, mine)
    assert can_change_client(therapist, mine)
    assert not can_view_client(therapist, theirs)
    assert not can_change_client(therapist, theirs)


def test_therapist_sees_client_shared_with_them(therapist, theirs, admin_user):
    factories.ClientShareFactory(client=theirs, therapist=therapist, granted_by=admin_user)
    assert can_view_client(therapist, theirs)
    assert can_change_client(therapist, theirs)


def test_revoked_share_gives_no_access(therapist, theirs, admin_user):
    factories.ClientShareFactory(
        client=theirs, therapist=therapist, granted_by=admin_user, revoked_at=timezone.now()
    )
    assert not can_view_client(therapist, theirs)


def test_share_with_someone_else_does_not_leak(therapist, other_therapist, admin_user, mine):
    third = factories.TherapistFactory()
    factories.ClientShareFactory(client=mine, therapist=third, granted_by=admin_user)
    assert list(visible_clients(other_therapist)) == []
    # No duplicate rows when a client is both primary and shared.
    factories.ClientShareFactory(client=mine, therapist=therapist, granted_by=admin_user)
    assert list(visible_clients(therapist)) == [mine]


def test_client_sees_only_themselves_and_changes_nothing(client_record, other_client_record):
    me = client_record.user
    assert list(visible_clients(me)) == [client_record]
    assert not can_view_client(me, other_client_record)
    assert not can_change_client(me, client_record)


def test_anonymous_and_inactive_see_nothing(therapist, mine):
    assert not visible_clients(AnonymousUser()).exists()
    therapist.is_active = False
    therapist.save()
    assert not can_view_client(therapist, mine)


def test_archived_clients_stay_visible_to_their_therapist(therapist, mine):
    # R24: archiving hides a client from the working list, not from the record holder.
    mine.archived_at = timezone.now()
    mine.archived_reason = "Moved away"
    mine.save()
    assert can_view_client(therapist, mine)
