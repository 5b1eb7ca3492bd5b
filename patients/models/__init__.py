"""The patients app's models, one module per resource."""

from patients.models.clients import Client, ClientFlag, ClientShare, ReminderChoiceVia
from patients.models.courses import CourseTransition, Phase, TreatmentCourse
from patients.models.intake import ConsentDocument, Intake
from patients.models.invitations import PortalInvitation
from patients.models.questionnaires import Alert, QuestionnaireRequest, QuestionnaireResponse
from patients.models.referrals import Prescriber, Prescription, Referral, ReferralTransition

__all__ = [
    "Alert",
    "Client",
    "ClientFlag",
    "ClientShare",
    "ConsentDocument",
    "CourseTransition",
    "Intake",
    "Phase",
    "PortalInvitation",
    "Prescriber",
    "Prescription",
    "QuestionnaireRequest",
    "QuestionnaireResponse",
    "Referral",
    "ReferralTransition",
    "ReminderChoiceVia",
    "TreatmentCourse",
]
