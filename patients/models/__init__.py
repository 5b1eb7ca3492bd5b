"""The patients app's models, one module per resource."""

from patients.models.clients import Client, ClientFlag, ClientShare
from patients.models.intake import ConsentDocument, Intake
from patients.models.invitations import PortalInvitation
from patients.models.questionnaires import Alert, QuestionnaireRequest, QuestionnaireResponse

__all__ = [
    "Alert",
    "Client",
    "ClientFlag",
    "ClientShare",
    "ConsentDocument",
    "Intake",
    "PortalInvitation",
    "QuestionnaireRequest",
    "QuestionnaireResponse",
]
