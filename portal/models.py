"""Imports every feature's models, so that the metadata (and Alembic) sees them all."""

from portal.admin.models import PasswordLink
from portal.appointments.models import Appointment, Slot
from portal.audit.models import AuditEntry
from portal.auth.models import InvitationToken, RecoveryCode, SignInCode
from portal.beneficiaries.models import Beneficiary, FollowUp
from portal.events.models import (
    Event,
    EventRecipient,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from portal.handover.models import Handover
from portal.indicators.models import AppointmentFact, CohortFact, SmsDayCount
from portal.offers.models import Offer, OfferInterest
from portal.organisations.models import ApiKey, Counsellor, Organisation
from portal.pathway.models import PathwayStep
from portal.sms.models import SmsMessage

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Appointment",
    "Beneficiary",
    "AppointmentFact",
    "CohortFact",
    "SmsDayCount",
    "Counsellor",
    "Event",
    "EventRecipient",
    "FollowUp",
    "Handover",
    "InvitationToken",
    "Offer",
    "OfferInterest",
    "Organisation",
    "PasswordLink",
    "PathwayStep",
    "RecoveryCode",
    "SignInCode",
    "Slot",
    "SmsMessage",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
