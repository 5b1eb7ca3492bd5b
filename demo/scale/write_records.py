"""Writing the people and the client records: accounts, clients, shares, portal invitations (with
their e-mails in the outbox), referrals and their history, prescriptions, intakes and their R18
flags, treatment courses and their phase history."""

from __future__ import annotations

from django.conf import settings

from accounts.models import User
from demo.scale.context import DAY, HOUR, Context
from demo.scale.people import chaperone_of
from demo.scale.pgcopy import Writer
from outbox.models import OutboxMessage
from patients.models import (
    Client,
    ClientFlag,
    ClientShare,
    CourseTransition,
    Intake,
    PortalInvitation,
    Prescription,
    Referral,
    ReferralTransition,
    TreatmentCourse,
)

OUTBOX_FIELDS = (
    "id",
    "kind",
    "client_id",
    "to",
    "subject",
    "text",
    "secret",
    "message_id",
    "status",
    "not_before",
    "expires_at",
    "attempts",
    "claimed_at",
    "last_error",
    "sent_at",
    "created_by_id",
    "created_at",
    "updated_at",
)


def people(ctx: Context, writer: Writer) -> None:
    users = writer.table(
        User,
        (
            "id",
            "password",
            "last_login",
            "email",
            "first_name",
            "last_name",
            "role",
            "date_joined",
        ),
    )
    staff = [p for p in ctx.therapists + ctx.admins if not p.existing]
    for person in staff + ctx.portal_users:
        users.add(
            person.id,
            ctx.password,
            person.last_login,
            person.email,
            person.first,
            person.last,
            person.role,
            person.joined,
        )
    clients = writer.table(
        Client,
        (
            "id",
            "first_name",
            "last_name",
            "date_of_birth",
            "email",
            "phone",
            "phone_digits",
            "address",
            "emergency_contact_name",
            "emergency_contact_relationship",
            "emergency_contact_phone",
            "chaperone_name",
            "chaperone_phone",
            "time_zone",
            "user_id",
            "primary_therapist_id",
            "created_at",
            "updated_at",
            "archived_at",
            "archived_reason",
        ),
    )
    for c in ctx.clients:
        chaperone = chaperone_of(c)
        clients.add(
            c.id,
            c.first,
            c.last,
            c.born,
            c.email,
            c.phone,
            c.phone[1:],
            f"{c.id % 900 + 10} Elm Street\nSpringfield",
            chaperone,
            "Partner",
            "+15552019999",
            chaperone,
            "+15552019999",
            c.zone,
            c.user.id if c.user else None,
            c.therapist.id,
            c.created,
            c.archived or c.created,
            c.archived,
            c.archived_reason,
        )
    shares = writer.table(
        ClientShare,
        ("id", "client_id", "therapist_id", "granted_by_id", "reason", "created_at", "revoked_at"),
    )
    for row in ctx.shares:
        shares.add(ctx.ids.take(ClientShare), *row)
    _invitations(ctx, writer)


def _invitations(ctx: Context, writer: Writer) -> None:
    """A portal client accepted an invitation e-mailed to them; a few clients have one open. The
    e-mail's text held the link, so it is blank once sent (outbox.models)."""
    rng = ctx.rng
    outbox = writer.table(OutboxMessage, OUTBOX_FIELDS)
    invitations = writer.table(
        PortalInvitation,
        (
            "id",
            "client_id",
            "email",
            "token_hash",
            "created_by_id",
            "created_at",
            "expires_at",
            "sent_count",
            "last_sent_at",
            "message_id",
            "accepted_at",
        ),
    )
    days = ctx.invitation_days * DAY
    subject = f"Your {settings.CLINIC_NAME} client portal"
    for client in ctx.clients:
        if client.user is not None:
            accepted = client.user.joined
            created = max(
                accepted - rng.randrange(HOUR, max(2 * HOUR, days - HOUR)), client.created
            )
        elif client.invited is not None:
            accepted = None
            created = min(max(client.invited, client.created + HOUR), ctx.now - HOUR)
        else:
            continue
        message = ctx.ids.take(OutboxMessage)
        sent = created + rng.randrange(5, 60)
        outbox.add(
            message,
            "portal_invitation",
            client.id,
            client.email,
            subject,
            "",
            True,
            f"<portal_invitation-{rng.getrandbits(128):032x}@kapclinic.test>",
            "sent",
            created,
            created + days,
            1,
            sent - 1,
            "",
            sent,
            client.therapist.id,
            created,
            sent,
        )
        invitations.add(
            ctx.ids.take(PortalInvitation),
            client.id,
            client.email,
            f"{rng.getrandbits(256):064x}",
            client.therapist.id,
            created,
            created + days,
            1,
            created,
            message,
            accepted,
        )
    outbox.flush()


def records(ctx: Context, writer: Writer) -> None:
    referrals = writer.table(
        Referral,
        (
            "id",
            "client_id",
            "prescriber_id",
            "referred_by_id",
            "reason",
            "status",
            "status_date",
            "status_reason",
            "created_at",
            "updated_at",
        ),
    )
    steps = writer.table(
        ReferralTransition,
        (
            "id",
            "referral_id",
            "from_status",
            "to_status",
            "happened_on",
            "reason",
            "recorded_by_id",
            "recorded_at",
        ),
    )
    reason = (
        "Treatment-resistant depression after two SSRIs; interested in KAP alongside our weekly "
        "therapy. Intake and PHQ-9/GAD-7 attached."
    )
    for r in ctx.referrals:
        referrals.add(
            r.id,
            r.client.id,
            r.prescriber,
            r.by.id,
            reason,
            r.status,
            r.status_date or ctx.grid.date(ctx.grid.day_of(r.created)),
            r.status_reason,
            r.created,
            r.updated,
        )
        for before, after, day, why, ts in r.steps:
            steps.add(ctx.ids.take(ReferralTransition), r.id, before, after, day, why, r.by.id, ts)
    prescriptions = writer.table(
        Prescription,
        (
            "id",
            "client_id",
            "referral_id",
            "prescriber_id",
            "form",
            "route",
            "dose_mg",
            "tablets_per_dose",
            "doses_authorised",
            "min_days_between_doses",
            "valid_until",
            "received_on",
            "supersedes_id",
            "superseded_at",
            "recorded_by_id",
            "created_at",
        ),
    )
    for p in ctx.prescriptions:
        prescriptions.add(
            p.id,
            p.client.id,
            p.referral.id,
            p.prescriber,
            p.form,
            p.route,
            p.dose_mg,
            p.tablets,
            p.doses,
            p.min_days,
            p.valid_until,
            p.received,
            p.supersedes.id if p.supersedes else None,
            p.superseded_at,
            p.by.id,
            p.created,
        )
    _intakes(ctx, writer)
    _courses(ctx, writer)


def _intakes(ctx: Context, writer: Writer) -> None:
    intakes = writer.table(
        Intake,
        (
            "id",
            "client_id",
            "status",
            "answers",
            "last_step",
            "created_at",
            "updated_at",
            "submitted_at",
            "submitted_by_id",
            "consent_id",
            "consent_name",
            "consent_signed_at",
            "reviewed_at",
            "reviewed_by_id",
        ),
    )
    flags = writer.table(
        ClientFlag, ("id", "client_id", "intake_id", "code", "evidence", "raised_at")
    )
    consent_id = ctx.consent[0]
    for i in ctx.intakes:
        client = i.client
        done = i.submitted is not None
        # Filled in the portal when the client has an account; otherwise with the therapist.
        by = client.user if client.user is not None else client.therapist
        intakes.add(
            i.id,
            client.id,
            "submitted" if done else "draft",
            i.answers,
            i.last_step,
            i.created,
            i.reviewed or i.submitted or i.created + HOUR,
            i.submitted,
            by.id if done else None,
            consent_id if done else None,
            f"{client.first} {client.last}" if done else "",
            i.submitted,
            i.reviewed,
            i.reviewer.id if i.reviewer else None,
        )
        for code, evidence in i.flags:
            flags.add(ctx.ids.take(ClientFlag), client.id, i.id, code, evidence, i.submitted)


def _courses(ctx: Context, writer: Writer) -> None:
    courses = writer.table(
        TreatmentCourse,
        (
            "id",
            "client_id",
            "therapist_id",
            "phase",
            "phase_before_hold",
            "referral_id",
            "booster_of_id",
            "opened_at",
            "opened_by_id",
            "closed_at",
        ),
    )
    steps = writer.table(
        CourseTransition, ("id", "course_id", "from_phase", "to_phase", "reason", "by_id", "at")
    )
    for c in ctx.courses:
        courses.add(
            c.id,
            c.client.id,
            c.therapist.id,
            c.phase,
            c.before_hold,
            c.referral.id if c.referral else None,
            c.booster_of.id if c.booster_of else None,
            c.opened,
            c.therapist.id,
            c.closed,
        )
        for before, after, reason, ts in c.steps:
            steps.add(
                ctx.ids.take(CourseTransition), c.id, before, after, reason, c.therapist.id, ts
            )
