"""patients.record_access: the pages that find their row and its client in one query still follow
the access policy (404 for outsiders, a revoked share, another client's row) and record each view
(R22), and nothing for a refused one."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent
from patients.models import Phase
from tests import factories
from tests.conftest import sign_in
from tests.factories_referrals import ReferralFactory
from tests.patients.test_course_services import make_course

pytestmark = pytest.mark.django_db


def _pages(course, referral) -> dict[str, str]:
    client_id = course.client_id
    return {
        "Client record": reverse("patients:client_detail", kwargs={"client_id": client_id}),
        "Treatment course": reverse(
            "patients:courses:detail", kwargs={"client_id": client_id, "course_id": course.pk}
        ),
        "Prescriber hand-off summary": reverse(
            "patients:courses:handoff", kwargs={"client_id": client_id, "course_id": course.pk}
        ),
        "Referral packet": reverse(
            "patients:referrals:referral_packet",
            kwargs={"client_id": client_id, "referral_id": referral.pk},
        ),
    }


@pytest.fixture
def record(therapist, client_record):
    course = make_course(client_record, Phase.PREPARATION)
    return course, ReferralFactory(client=client_record, referred_by=therapist)


def test_each_view_is_recorded_once_with_its_page(client, therapist, record):
    sign_in(client, therapist)
    for page, url in _pages(*record).items():
        assert client.get(url).status_code == 200, page
    assert list(
        AccessEvent.objects.filter(user=therapist).order_by("id").values_list("page", flat=True)
    ) == list(_pages(*record))


def test_another_therapist_and_a_revoked_share_get_404_and_leave_no_row(
    client, therapist, other_therapist, admin_user, record
):
    share = factories.ClientShareFactory(
        client=record[0].client, therapist=other_therapist, granted_by=admin_user
    )
    sign_in(client, other_therapist)
    for url in _pages(*record).values():
        assert client.get(url).status_code == 200
    share.revoked_at = timezone.now()
    share.save()
    seen = AccessEvent.objects.count()
    for url in _pages(*record).values():
        assert client.get(url).status_code == 404
    assert AccessEvent.objects.count() == seen


def test_a_row_of_another_client_under_this_client_s_address_is_404(
    client, therapist, record, other_client_record, other_therapist
):
    """The row must belong to the client in the address: a course id of a client the user cannot
    see, under the address of one they can, shows nothing."""
    course, _referral = record
    foreign = make_course(other_client_record, Phase.PREPARATION)
    sign_in(client, therapist)
    url = reverse(
        "patients:courses:detail", kwargs={"client_id": course.client_id, "course_id": foreign.pk}
    )
    assert client.get(url).status_code == 404
    assert not AccessEvent.objects.exists()
