"""Reassigning a departing therapist's caseload in one action (admin only): clients, running
courses and the upcoming sessions that do not clash move together, or nothing moves (R22 audit,
R24 nothing deleted)."""

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from patients.courses.services import course_open
from patients.models import Client, Phase, TreatmentCourse
from sessions.models import Session
from staff.team import services
from tests import factories
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


def _course(client, by):
    return course_open(client=client, by=by)


def _session(client, therapist, by, *, starts_at, course=None, status="scheduled"):
    return Session.objects.create(
        client=client,
        course=course,
        therapist=therapist,
        kind="general" if course is None else "preparation",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=50),
        status=status,
        cancel_reason="Unwell" if status == "cancelled" else "",
        created_by=by,
    )


@pytest.fixture
def caseload(therapist, admin_user):
    """Three active clients of ``therapist`` (two with a running course), one archived client,
    one client whose course is complete."""
    clients = factories.ClientFactory.create_batch(3, primary_therapist=therapist)
    courses = [_course(clients[0], admin_user), _course(clients[1], admin_user)]
    archived = factories.ClientFactory(
        primary_therapist=therapist, archived_at=timezone.now(), archived_reason="Moved away"
    )
    return {"clients": clients, "courses": courses, "archived": archived}


def test_reassign_moves_clients_and_courses_and_leaves_archived_ones(
    caseload, therapist, other_therapist, admin_user
):
    result = services.caseload_reassign(
        from_therapist=therapist, to_therapist=other_therapist, by=admin_user, reason="Leaving"
    )
    assert (result.clients, result.courses) == (3, 2)
    for client in caseload["clients"]:
        client.refresh_from_db()
        assert client.primary_therapist == other_therapist
    for course in caseload["courses"]:
        course.refresh_from_db()
        assert course.therapist == other_therapist
    caseload["archived"].refresh_from_db()
    assert caseload["archived"].primary_therapist == therapist
    assert not Client.objects.active().filter(primary_therapist=therapist).exists()


def test_reassign_writes_an_audit_entry_per_row_with_the_reason(
    caseload, therapist, other_therapist, admin_user
):
    # R22: each client and course is saved one by one so the change trail has every move.
    services.caseload_reassign(
        from_therapist=therapist, to_therapist=other_therapist, by=admin_user, reason="Leaving"
    )
    for model, rows in ((Client, caseload["clients"]), (TreatmentCourse, caseload["courses"])):
        for row in rows:
            entry = LogEntry.objects.filter(
                content_type=ContentType.objects.get_for_model(model),
                object_pk=str(row.pk),
                action=LogEntry.Action.UPDATE,
            ).latest("pk")
            field = "primary_therapist" if model is Client else "therapist"
            assert field in entry.changes_dict
            assert entry.additional_data["client_id"] == (
                row.pk if model is Client else row.client_id
            )
            assert entry.additional_data["reason"] == "Caseload reassigned: Leaving"


def test_a_closed_course_stays_with_its_therapist(therapist, other_therapist, admin_user):
    client = factories.ClientFactory(primary_therapist=therapist)
    course = _course(client, admin_user)
    TreatmentCourse.objects.filter(pk=course.pk).update(
        phase=Phase.COMPLETE, closed_at=timezone.now()
    )
    result = services.caseload_reassign(
        from_therapist=therapist, to_therapist=other_therapist, by=admin_user, reason="Leaving"
    )
    assert result.courses == 0
    course.refresh_from_db()
    assert course.therapist == therapist


def test_future_sessions_move_unless_the_new_therapist_is_busy(
    therapist, other_therapist, admin_user
):
    client = factories.ClientFactory(primary_therapist=therapist)
    soon = timezone.now().replace(microsecond=0) + timedelta(days=2)
    free = _session(client, therapist, admin_user, starts_at=soon)
    clash = _session(client, therapist, admin_user, starts_at=soon + timedelta(days=1))
    past = _session(
        client, therapist, admin_user, starts_at=soon - timedelta(days=5), status="completed"
    )
    cancelled = _session(
        client, therapist, admin_user, starts_at=soon + timedelta(days=3), status="cancelled"
    )
    other_client = factories.ClientFactory(primary_therapist=other_therapist)
    # The receiving therapist already has a session overlapping ``clash`` by ten minutes.
    _session(
        other_client, other_therapist, admin_user, starts_at=clash.starts_at + timedelta(minutes=40)
    )

    result = services.caseload_reassign(
        from_therapist=therapist, to_therapist=other_therapist, by=admin_user, reason="Leaving"
    )
    assert [s.pk for s in result.sessions_moved] == [free.pk]
    assert [s.pk for s in result.sessions_clashing] == [clash.pk]
    for session, owner in (
        (free, other_therapist),
        (clash, therapist),
        (past, therapist),
        (cancelled, therapist),
    ):
        session.refresh_from_db()
        assert session.therapist == owner, session


@pytest.mark.parametrize("case", ["same", "inactive", "admin", "no_reason"])
def test_reassign_refuses_with_a_clear_message(
    case, caseload, therapist, other_therapist, admin_user
):
    to = {"same": therapist, "admin": admin_user}.get(case, other_therapist)
    if case == "inactive":
        other_therapist.is_active = False
        other_therapist.save()
    with pytest.raises(services.CaseloadError) as error:
        services.caseload_reassign(
            from_therapist=therapist,
            to_therapist=to,
            by=admin_user,
            reason="" if case == "no_reason" else "Leaving",
        )
    message = str(error.value)
    expected = {
        "same": "same person",
        "inactive": "deactivated",
        "admin": "not a therapist",
        "no_reason": "reason",
    }[case]
    assert expected in message
    assert Client.objects.filter(primary_therapist=therapist).count() == 4


def test_only_admins_reassign(caseload, therapist, other_therapist):
    with pytest.raises(PermissionError):
        services.caseload_reassign(
            from_therapist=therapist, to_therapist=other_therapist, by=other_therapist, reason="x"
        )


# A trigger that refuses to update one course row (per database: CI runs PostgreSQL, make test's
# default SQLite).
_REFUSE_UPDATE = {
    "postgresql": [
        "CREATE FUNCTION test_refuse_update() RETURNS trigger AS $$ BEGIN "
        "RAISE EXCEPTION 'refused for the test'; END; $$ LANGUAGE plpgsql",
        "CREATE TRIGGER test_refuse BEFORE UPDATE ON patients_treatmentcourse FOR EACH ROW "
        "WHEN (OLD.id = {pk}) EXECUTE FUNCTION test_refuse_update()",
    ],
    "sqlite": [
        "CREATE TRIGGER test_refuse BEFORE UPDATE ON patients_treatmentcourse FOR EACH ROW "
        "WHEN OLD.id = {pk} BEGIN SELECT RAISE(ABORT, 'refused for the test'); END",
    ],
}


def test_a_failure_midway_leaves_nothing_moved(caseload, therapist, other_therapist, admin_user):
    # A real database error on the last course, after every client has been saved: the whole
    # reassignment must roll back (one transaction).
    failing = caseload["courses"][-1]
    with connection.cursor() as cursor:
        for statement in _REFUSE_UPDATE[connection.vendor]:
            cursor.execute(statement.format(pk=int(failing.pk)))
    with pytest.raises(DatabaseError):
        services.caseload_reassign(
            from_therapist=therapist, to_therapist=other_therapist, by=admin_user, reason="x"
        )
    assert Client.objects.filter(primary_therapist=other_therapist).count() == 0
    assert TreatmentCourse.objects.filter(therapist=other_therapist).count() == 0
    assert Client.objects.active().filter(primary_therapist=therapist).count() == 3


# --- Views


def _url(user):
    return reverse("staff:caseload_reassign", kwargs={"user_id": user.pk})


def test_admin_sees_the_caseload_and_reassigns_it(
    client, caseload, therapist, other_therapist, admin_user
):
    sign_in(client, admin_user)
    page = client.get(_url(therapist)).content.decode()
    assert "Active clients" in page
    for record in caseload["clients"]:
        assert record.full_name in page
    assert caseload["archived"].full_name not in page
    assert "Reassign 3 clients" in page
    response = client.post(
        _url(therapist), {"to_therapist": other_therapist.pk, "reason": "Leaving the clinic"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "3 clients and 2 courses moved to Jordan Chen" in body
    assert Client.objects.active().filter(primary_therapist=other_therapist).count() == 3


def test_a_failed_form_keeps_what_was_typed(client, caseload, therapist, admin_user):
    sign_in(client, admin_user)
    response = client.post(_url(therapist), {"to_therapist": "", "reason": "Long leave"})
    body = response.content.decode()
    assert "Choose the therapist who takes over these clients." in body
    assert 'value="Long leave"' in body
    assert Client.objects.active().filter(primary_therapist=therapist).count() == 3


def test_the_form_offers_only_other_active_therapists(
    client, caseload, therapist, other_therapist, admin_user
):
    gone = factories.TherapistFactory(first_name="Gone", last_name="Away", is_active=False)
    sign_in(client, admin_user)
    body = client.get(_url(therapist)).content.decode()
    assert f'value="{other_therapist.pk}"' in body
    assert f'value="{gone.pk}"' not in body
    assert f'value="{therapist.pk}"' not in body
    response = client.post(_url(therapist), {"to_therapist": gone.pk, "reason": "Leaving"})
    assert "Select a valid choice" in response.content.decode()


@pytest.mark.parametrize("role", ["anonymous", "owner", "other_therapist", "client"])
def test_non_admins_cannot_reach_the_page(
    client, role, caseload, therapist, other_therapist, client_record
):
    user = {"owner": therapist, "other_therapist": other_therapist, "client": client_record.user}
    if role != "anonymous":
        sign_in(client, user[role])
    for response in (
        client.get(_url(therapist)),
        client.post(_url(therapist), {"to_therapist": other_therapist.pk, "reason": "x"}),
    ):
        assert response.status_code == (302 if role == "anonymous" else 404)
    assert Client.objects.filter(primary_therapist=other_therapist).count() == 0


def test_the_page_is_404_for_an_admin_account(client, admin_user):
    sign_in(client, admin_user)
    assert client.get(_url(admin_user)).status_code == 404


def test_reassign_page_queries_do_not_grow_with_the_caseload(
    client, therapist, other_therapist, admin_user
):
    sign_in(client, admin_user)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(_url(therapist)).status_code == 200
        return len(queries)

    soon = timezone.now() + timedelta(days=3)
    for n in range(2):
        record = factories.ClientFactory(primary_therapist=therapist)
        _session(
            record,
            therapist,
            admin_user,
            starts_at=soon + timedelta(days=n),
            course=_course(record, admin_user),
        )
    small = count()
    for n in range(6):
        record = factories.ClientFactory(primary_therapist=therapist)
        _session(
            record,
            therapist,
            admin_user,
            starts_at=soon + timedelta(days=10 + n),
            course=_course(record, admin_user),
        )
    assert count() == small


def test_deactivating_a_therapist_with_clients_warns_and_links_to_reassign(
    client, caseload, therapist, admin_user
):
    sign_in(client, admin_user)
    response = client.post(
        reverse("staff:edit", kwargs={"user_id": therapist.pk}),
        {
            "first_name": therapist.first_name,
            "last_name": therapist.last_name,
            "role": "therapist",
        },
        follow=True,
    )
    therapist.refresh_from_db()
    assert not therapist.is_active  # R24: deactivation is not blocked
    body = response.content.decode()
    assert "still has 3 active clients" in body
    assert _url(therapist) in body


def test_nothing_to_reassign_is_refused_so_a_resent_form_does_nothing(
    client, caseload, therapist, other_therapist, admin_user
):
    sign_in(client, admin_user)
    data = {"to_therapist": other_therapist.pk, "reason": "Leaving"}
    client.post(_url(therapist), data)
    response = client.post(_url(therapist), data)
    assert "Sam Rivera has no active clients or running treatment courses" in (
        response.content.decode()
    )
    assert Client.objects.active().filter(primary_therapist=other_therapist).count() == 3
