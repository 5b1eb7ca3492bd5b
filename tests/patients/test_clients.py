"""The client record: create, edit, archive (R24), list filters, validation (R17)."""

from datetime import date, timedelta

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from patients.clients import services
from patients.clients.validators import validate_date_of_birth
from patients.models import Client, ClientFlag, Intake, TreatmentCourse
from patients.models.clients import FlagCode
from tests import factories, factories_intake
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db
NEW = reverse("patients:client_create")


def _detail(client_record):
    return reverse("patients:client_detail", kwargs={"client_id": client_record.pk})


def test_therapist_adds_a_client_to_their_own_caseload(client, therapist, other_therapist):
    sign_in(client, therapist)
    response = client.post(
        NEW,
        {
            "first_name": "Rosa",
            "last_name": "Diaz",
            "email": "Rosa@Example.org",
            "phone": "(555) 201-3344",
            "date_of_birth": "1990-04-02",
            "primary_therapist": other_therapist.pk,  # ignored: not an admin
        },
    )
    rosa = Client.objects.get(last_name="Diaz")
    assert response["Location"] == _detail(rosa)
    assert rosa.primary_therapist == therapist
    assert rosa.email == "rosa@example.org"
    assert rosa.phone == "+15552013344"  # parsed and stored in international form


def test_admin_must_choose_the_therapist(client, admin_user, therapist):
    sign_in(client, admin_user)
    response = client.post(NEW, {"first_name": "Rosa", "last_name": "Diaz"})
    assert "This field is required" in response.content.decode()
    client.post(NEW, {"first_name": "Rosa", "last_name": "Diaz", "primary_therapist": therapist.pk})
    assert Client.objects.get().primary_therapist == therapist


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("date_of_birth", (timezone.localdate() + timedelta(days=1)).isoformat(), "in the past"),
        ("date_of_birth", (timezone.localdate() - timedelta(days=365 * 10)).isoformat(), "18"),
        ("date_of_birth", "1890-01-01", "over 110"),
        ("phone", "12", "Enter a phone number we can call"),
        ("chaperone_phone", "call me", "Enter a phone number we can call"),
    ],
)
def test_bad_input_explains_and_keeps_what_was_typed(client, therapist, field, value, message):
    sign_in(client, therapist)
    response = client.post(NEW, {"first_name": "Rosa", "last_name": "Diaz", field: value})
    body = response.content.decode()
    assert response.status_code == 200
    assert message in body
    assert 'value="Diaz"' in body
    assert not Client.objects.exists()


def test_email_is_unique_among_active_clients(client, therapist):
    factories.ClientFactory(email="rosa@example.org", primary_therapist=therapist)
    sign_in(client, therapist)
    response = client.post(
        NEW, {"first_name": "Rosa", "last_name": "Diaz", "email": "ROSA@example.org"}
    )
    assert "Another active client already uses this e-mail address." in response.content.decode()


def test_email_of_an_archived_client_can_be_reused(therapist):
    old = factories.ClientFactory(email="rosa@example.org", primary_therapist=therapist)
    services.client_archive(by=therapist, client=old, reason="Moved away")
    new = services.client_create(
        by=therapist, first_name="Rosa", last_name="D", email="rosa@example.org"
    )
    assert new.pk != old.pk


def test_edit_keeps_unchanged_fields_and_is_audited(client, therapist, client_record):
    sign_in(client, therapist)
    url = reverse("patients:client_edit", kwargs={"client_id": client_record.pk})
    form = client.get(url).context["form"]
    data = {name: form.initial.get(name) or "" for name in form.fields}
    data["chaperone_name"] = "Ravi Patel"
    response = client.post(url, data)
    assert response.status_code == 302
    client_record.refresh_from_db()
    assert client_record.chaperone_name == "Ravi Patel"
    entry = (
        LogEntry.objects.get_for_object(client_record).filter(actor=therapist).latest("timestamp")
    )
    assert entry.changes_dict["chaperone_name"] == ["", "Ravi Patel"]


def test_other_therapist_cannot_edit_by_crafted_post(client, other_therapist, client_record):
    sign_in(client, other_therapist)
    url = reverse("patients:client_edit", kwargs={"client_id": client_record.pk})
    assert client.post(url, {"first_name": "X", "last_name": "Y"}).status_code == 404
    client_record.refresh_from_db()
    assert client_record.first_name == "Maya"


def test_client_cannot_reach_staff_edit(client, client_record):
    sign_in(client, client_record.user)
    url = reverse("patients:client_edit", kwargs={"client_id": client_record.pk})
    assert client.post(url, {"first_name": "X", "last_name": "Y"}).status_code == 404


class TestArchive:
    def test_archive_needs_a_reason_and_keeps_everything(self, client, therapist, client_record):
        sign_in(client, therapist)
        url = reverse("patients:client_archive", kwargs={"client_id": client_record.pk})
        response = client.post(url, {"reason": "  "}, follow=True)
        assert "Give a reason for archiving" in response.content.decode()
        client.post(url, {"reason": "Treatment ended"})
        client_record.refresh_from_db()
        assert client_record.is_archived
        assert client_record.archived_reason == "Treatment ended"
        assert Client.objects.filter(pk=client_record.pk).exists()  # R24: never deleted
        client_record.user.refresh_from_db()
        assert not client_record.user.is_active  # portal closed
        listing = client.get(reverse("patients:client_list"))
        assert client_record not in listing.context["page"].object_list
        archived = client.get(reverse("patients:client_list"), {"archived": "on"})
        assert client_record in archived.context["page"].object_list

    def test_archived_record_is_read_only_until_restored(self, client, therapist, client_record):
        services.client_archive(by=therapist, client=client_record, reason="Moved away")
        with pytest.raises(services.ClientError, match="Restore it"):
            services.client_update(by=therapist, client=client_record, phone="+15550000000")
        sign_in(client, therapist)
        client.post(reverse("patients:client_restore", kwargs={"client_id": client_record.pk}))
        client_record.refresh_from_db()
        assert not client_record.is_archived
        client_record.user.refresh_from_db()
        assert client_record.user.is_active

    def test_database_refuses_archive_without_reason(self, client_record):
        client_record.archived_at = timezone.now()
        with pytest.raises(IntegrityError):
            client_record.save()


class TestList:
    url = reverse("patients:client_list")

    def _names(self, response):
        return [c.last_name for c in response.context["page"].object_list]

    def test_filters_by_stage_and_flag(self, client, therapist, admin_user):
        fresh = factories.ClientFactory(primary_therapist=therapist, last_name="Fresh")
        submitted = factories.ClientFactory(primary_therapist=therapist, last_name="Submitted")
        consent = services_consent()
        intake = Intake.objects.create(
            client=submitted,
            status="submitted",
            submitted_at=timezone.now(),
            consent=consent,
            consent_name="x",
            consent_signed_at=timezone.now(),
        )
        ClientFlag.objects.create(client=submitted, intake=intake, code=FlagCode.GLAUCOMA)
        sign_in(client, therapist)
        assert self._names(client.get(self.url, {"status": "intake_to_review"})) == ["Submitted"]
        assert self._names(client.get(self.url, {"status": "intake_due"})) == ["Fresh"]
        assert self._names(client.get(self.url, {"flag": "any"})) == ["Submitted"]
        assert self._names(client.get(self.url, {"flag": "glaucoma"})) == ["Submitted"]
        assert self._names(client.get(self.url, {"flag": "mania"})) == []
        assert self._names(client.get(self.url, {"sort": "flags"}))[0] == "Submitted"
        assert self._names(client.get(self.url, {"status": "not_invited"})) == [
            "Fresh",
            "Submitted",
        ]
        assert fresh  # keeps flake quiet about the unused name

    def test_query_count_is_constant_at_two_sizes(self, client, therapist, admin_user):
        consent = services_consent()

        def build(n):
            for record in factories.ClientFactory.create_batch(n, primary_therapist=therapist):
                intake = Intake.objects.create(
                    client=record,
                    status="submitted",
                    submitted_at=timezone.now(),
                    consent=consent,
                    consent_name="x",
                    consent_signed_at=timezone.now(),
                )
                ClientFlag.objects.create(client=record, intake=intake, code=FlagCode.LIVER)

        def count(user):
            client.logout()
            sign_in(client, user)
            with CaptureQueriesContext(connection) as queries:
                assert client.get(self.url, {"flag": "any", "sort": "flags"}).status_code == 200
            return len(queries)

        build(2)
        small = (count(therapist), count(admin_user))
        build(30)
        assert (count(therapist), count(admin_user)) == small


def services_consent():
    # The migration's consent text is gone after a browser test's flush: make one if needed.
    return factories_intake.consent()


def test_client_page_query_count_is_constant(client, therapist, client_record, admin_user):
    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(_detail(client_record)).status_code == 200
        return len(queries)

    sign_in(client, therapist)
    small = count()
    for other in factories.TherapistFactory.create_batch(5):
        factories.ClientShareFactory(client=client_record, therapist=other, granted_by=admin_user)
    assert count() == small


def test_dob_validation_boundary(therapist):
    today = timezone.localdate()
    validate_date_of_birth(date(today.year - 18, today.month, 1 if today.day > 1 else today.day))
    with pytest.raises(ValidationError):
        validate_date_of_birth(today)


def test_list_filters_by_course_phase(client, therapist):
    in_prep = factories.ClientFactory(primary_therapist=therapist, last_name="Prep")
    factories.ClientFactory(primary_therapist=therapist, last_name="Nocourse")
    TreatmentCourse.objects.create(
        client=in_prep, therapist=therapist, phase="preparation", opened_by=therapist
    )
    sign_in(client, therapist)
    url = reverse("patients:client_list")
    names = lambda r: [c.last_name for c in r.context["page"].object_list]  # noqa: E731
    assert names(client.get(url, {"phase": "preparation"})) == ["Prep"]
    assert names(client.get(url, {"phase": "none"})) == ["Nocourse"]
    assert "Preparation" in client.get(url).content.decode()


# --- The client's time zone (R8: reminders at the client's own local hour) ---------------------


def test_time_zone_is_a_list_with_the_clinics_first_then_common_then_all(client, therapist):
    sign_in(client, therapist)
    body = client.get(NEW).content.decode()
    select = body[
        body.index('name="time_zone"') : body.index("</select>", body.index('name="time_zone"'))
    ]
    assert select.index('<option value="" selected>Same as the clinic (America/New York)') < (
        select.index('<optgroup label="Common time zones">')
    )
    assert '<option value="America/Los_Angeles">US Pacific (Los Angeles)</option>' in select
    assert select.index("Common time zones") < select.index('<optgroup label="Other time zones">')
    assert '<option value="Asia/Kolkata">Asia/Kolkata</option>' in select


def test_a_time_zone_is_saved_and_shown_on_the_record(client, therapist):
    sign_in(client, therapist)
    client.post(
        NEW, {"first_name": "Rosa", "last_name": "Diaz", "time_zone": "America/Los_Angeles"}
    )
    rosa = Client.objects.get(last_name="Diaz")
    assert rosa.time_zone == "America/Los_Angeles"
    assert str(rosa.zone) == "America/Los_Angeles"
    body = client.get(_detail(rosa)).content.decode()
    assert "Time zone" in body
    assert "America/Los_Angeles" in body
    # Blank: the clinic's zone, and nothing extra on the record page.
    edit = reverse("patients:client_edit", kwargs={"client_id": rosa.pk})
    form = client.get(edit).context["form"]
    data = {name: form.initial.get(name) or "" for name in form.fields}
    assert data["time_zone"] == "America/Los_Angeles"
    data["time_zone"] = ""
    assert client.post(edit, data).status_code == 302
    rosa.refresh_from_db()
    assert rosa.time_zone == ""
    assert str(rosa.zone) == "America/New_York"
    assert "Time zone" not in client.get(_detail(rosa)).content.decode()


def test_a_bad_time_zone_is_refused_clearly_and_the_typing_kept(client, therapist):
    sign_in(client, therapist)
    response = client.post(
        NEW, {"first_name": "Rosa", "last_name": "Diaz", "time_zone": "Mars/Olympus_Mons"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "“Mars/Olympus_Mons” is not a time zone we know" in body
    assert 'value="Diaz"' in body
    assert not Client.objects.exists()


def _zone_groups(form):
    """The time-zone select as {group: [values]}; the blank choice under ""."""
    groups = {}
    for value, label in form.fields["time_zone"].choices:
        if isinstance(label, list | tuple):
            groups[value] = [name for name, _label in label]
        else:
            groups.setdefault("", []).append(value)
    return groups


def test_the_time_zone_list_has_canonical_zones_only(client, therapist):
    sign_in(client, therapist)
    groups = _zone_groups(client.get(NEW).context["form"])
    offered = groups["Common time zones"] + groups["Other time zones"]
    assert len(offered) == len(set(offered))  # each zone once
    # Legacy aliases (tzdata's 'backward' links) are not offered: their canonical names are.
    for alias in ("Asia/Calcutta", "US/Eastern", "US/Pacific", "Canada/Eastern", "GB", "EST5EDT"):
        assert alias not in offered
    for canonical in ("Asia/Kolkata", "America/New_York", "Europe/London", "Europe/Stockholm"):
        assert canonical in offered
    assert 350 < len(offered) < 450  # one name per country's zone, not 600 with every alias


def test_the_clinics_zone_then_us_and_canada_then_the_rest_a_to_z(client, therapist, settings):
    settings.TIME_ZONE = "America/Chicago"
    sign_in(client, therapist)
    groups = _zone_groups(client.get(NEW).context["form"])
    assert groups[""] == [""]  # blank: the clinic's zone, whatever it becomes
    common = groups["Common time zones"]
    assert common[0] == "America/Chicago"
    assert {"America/New_York", "America/Los_Angeles", "America/Toronto", "America/Vancouver"} <= (
        set(common)
    )
    assert all(zone.startswith(("America/", "Pacific/Honolulu")) for zone in common)
    rest = groups["Other time zones"]
    assert rest == sorted(rest)
    assert not set(rest) & set(common)


def test_a_legacy_time_zone_on_file_still_shows_and_saves(client, therapist):
    record = factories.ClientFactory(primary_therapist=therapist, time_zone="Asia/Calcutta")
    record.full_clean()  # the old name is still a valid value on file
    sign_in(client, therapist)
    edit = reverse("patients:client_edit", kwargs={"client_id": record.pk})
    response = client.get(edit)
    assert '<option value="Asia/Kolkata" selected>' in response.content.decode()
    form = response.context["form"]
    data = {name: form.initial.get(name) or "" for name in form.fields}
    assert client.post(edit, data).status_code == 302
    record.refresh_from_db()
    assert record.time_zone == "Asia/Kolkata"  # the same zone, by its current name
    # A post with the old name (an old bookmark, a script) is the same zone too.
    data["time_zone"] = "US/Pacific"
    assert client.post(edit, data).status_code == 302
    record.refresh_from_db()
    assert record.time_zone == "America/Los_Angeles"


def test_a_zone_on_file_outside_the_list_is_kept(client, therapist):
    record = factories.ClientFactory(primary_therapist=therapist, time_zone="Etc/GMT+5")
    sign_in(client, therapist)
    edit = reverse("patients:client_edit", kwargs={"client_id": record.pk})
    response = client.get(edit)
    assert '<option value="Etc/GMT+5" selected>' in response.content.decode()
    form = response.context["form"]
    data = {name: form.initial.get(name) or "" for name in form.fields}
    assert client.post(edit, data).status_code == 302
    record.refresh_from_db()
    assert record.time_zone == "Etc/GMT+5"


def test_the_model_refuses_a_bad_time_zone_too(therapist):
    record = factories.ClientFactory(primary_therapist=therapist, time_zone="Europe/Londn")
    with pytest.raises(ValidationError, match="not a time zone name"):
        record.full_clean()


def test_a_search_with_a_control_character_is_searched_without_it(as_user, therapist):
    # A NUL in the search: Django's form refused the whole query, so every client was listed.
    factories.ClientFactory(primary_therapist=therapist, first_name="Maya", last_name="Patel")
    factories.ClientFactory(primary_therapist=therapist, first_name="Noor", last_name="Haddad")
    response = as_user(therapist).get(reverse("patients:client_list"), {"q": "Ma\x00ya"})
    assert response.status_code == 200
    assert "Patel, Maya" in response.content.decode()
    assert "Haddad" not in response.content.decode()
