"""R22: every create/update of clinical data is recorded by django-auditlog (who, when, what
changed). Each audited model defines ``get_additional_data()`` returning its ``client_id`` so the
audit browser can filter by client."""

from auditlog.registry import auditlog

from patients.models import (
    Alert,
    Client,
    ClientFlag,
    ClientShare,
    CourseTransition,
    Intake,
    PortalInvitation,
    Prescriber,
    Prescription,
    QuestionnaireRequest,
    QuestionnaireResponse,
    Referral,
    ReferralTransition,
    TreatmentCourse,
)

auditlog.register(Client, exclude_fields=["updated_at", "phone_digits"])
auditlog.register(ClientShare)
auditlog.register(ClientFlag)
# Draft autosaves change `answers` every few seconds; the trail records every version of them.
auditlog.register(Intake, exclude_fields=["updated_at"])
auditlog.register(PortalInvitation, exclude_fields=["token_hash"])
auditlog.register(QuestionnaireRequest)
auditlog.register(QuestionnaireResponse)
auditlog.register(Alert)
auditlog.register(Prescriber, exclude_fields=["updated_at"])
auditlog.register(Referral, exclude_fields=["updated_at"])
auditlog.register(ReferralTransition)
auditlog.register(Prescription)
auditlog.register(TreatmentCourse)
auditlog.register(CourseTransition)
