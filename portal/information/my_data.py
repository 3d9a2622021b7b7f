""" "Mes données": everything the portal holds about the signed-in person, by organisation,
to read on a page or take away as a file (the right of access, GDPR article 15)."""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.appointments.models import Appointment, Slot
from portal.audit.services import OpenedBy, organisations_that_opened
from portal.beneficiaries.models import Beneficiary, FollowUp
from portal.beneficiaries.services import follow_ups_of
from portal.extensions import db
from portal.offers.models import OfferInterest
from portal.organisations.models import Organisation
from portal.pathway.models import PathwayStep
from portal.pathway.services import steps_of
from portal.sms.models import SmsMessage

T = TypeVar("T")

IDENTITY_FIELDS = (
    "first_name",
    "last_name",
    "birth_date",
    "phone",
    "email",
    "postal_code",
    "caf_number",
    "france_travail_id",
    "rsa_registration_date",
    "language",
    "sms_consent",
    "sms_opted_out",
)


@dataclass(frozen=True)
class OrganisationPart:
    """What one organisation holds or made on the portal about the person: one that
    follows them, or one that did (its past appointments, interests and SMS stay when a
    follow-up ends, and are the person's data all the same)."""

    organisation: Organisation
    follow_up: FollowUp | None  # None: it no longer follows the person
    steps: list[PathwayStep]
    appointments: list[Appointment]
    interests: list[OfferInterest]
    messages: list[SmsMessage]


@dataclass(frozen=True)
class MyData:
    person: Beneficiary
    parts: list[OrganisationPart]
    # Sign-in codes and what no organisation sent: the portal's own messages.
    portal_messages: list[SmsMessage]
    # Which organisations' staff opened the person's file, and when last (never who).
    opened_by: list[OpenedBy]


def _by_organisation(rows: Iterable[T], organisation_of: Callable[[T], int | None]):
    grouped: defaultdict[int | None, list[T]] = defaultdict(list)
    for row in rows:
        grouped[organisation_of(row)].append(row)
    return grouped


def my_data(person: Beneficiary) -> MyData:
    """The person's data in a fixed number of queries, whatever its length."""
    follow_ups = follow_ups_of(person)
    steps = _by_organisation(steps_of(person), lambda step: step.organisation_id)
    appointments = _by_organisation(
        db.session.scalars(
            select(Appointment)
            .join(Slot)
            .where(Appointment.beneficiary_id == person.id)
            .order_by(Slot.starts_at)
        ),
        lambda appointment: appointment.slot.organisation_id,
    )
    interests = _by_organisation(
        db.session.scalars(
            select(OfferInterest)
            .options(joinedload(OfferInterest.offer))
            .where(OfferInterest.beneficiary_id == person.id)
            .order_by(OfferInterest.created_at)
        ),
        lambda interest: interest.offer.organisation_id,
    )
    messages = _by_organisation(
        db.session.scalars(
            select(SmsMessage)
            .where(SmsMessage.beneficiary_id == person.id)
            .order_by(SmsMessage.created_at, SmsMessage.id)
        ),
        lambda message: message.organisation_id,
    )
    followed = {f.organisation_id: f for f in follow_ups}
    former = set().union(steps, appointments, interests, messages) - set(followed) - {None}
    organisations = [f.organisation for f in follow_ups] + list(
        db.session.scalars(
            select(Organisation).where(Organisation.id.in_(former)).order_by(Organisation.name)
        )
    )
    parts = [
        OrganisationPart(
            organisation,
            followed.get(organisation.id),
            steps[organisation.id],
            appointments[organisation.id],
            interests[organisation.id],
            messages[organisation.id],
        )
        for organisation in organisations
    ]
    # Sign-in codes: the portal's own messages, sent by no organisation.
    portal_messages = messages[None]
    return MyData(person, parts, portal_messages, organisations_that_opened(person))


def _moment(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _message(message: SmsMessage) -> dict[str, Any]:
    return {
        "kind": message.kind.value,
        # A sign-in code or link is never kept readable: the file shows none either.
        "text": message.shown_body,
        "status": message.status.value,
        "created_at": _moment(message.created_at),
        "sent_at": _moment(message.sent_at),
    }


def _referent(follow_up: FollowUp | None) -> dict[str, str | None] | None:
    if follow_up is None:
        return None
    return {
        "name": follow_up.referent_name,
        "email": follow_up.referent_email,
        "phone": follow_up.referent_phone,
    }


def as_json(data: MyData) -> dict[str, Any]:
    """The file the person takes away: the same as the page, as data."""
    person = data.person
    identity = {}
    for name in IDENTITY_FIELDS:
        value = getattr(person, name)
        identity[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return {
        "identity": identity,
        "organisations": [
            {
                "name": part.organisation.name,
                "follows_you": part.follow_up is not None,
                "file_number": part.follow_up.external_id if part.follow_up else None,
                "referent": _referent(part.follow_up),
                "leads_the_pathway": person.lead_organisation_id == part.organisation.id,
                "steps": [
                    {
                        "kind": step.kind.value,
                        "title": step.title,
                        "status": step.status.value,
                        "starts_on": _moment(step.starts_on),
                        "ends_on": _moment(step.ends_on),
                        "description": step.description,
                    }
                    for step in part.steps
                ],
                "appointments": [
                    {
                        "starts_at": _moment(appointment.slot.starts_at),
                        "counsellor": appointment.slot.counsellor.name,
                        "mode": appointment.slot.mode.value,
                        "location": appointment.slot.location,
                        "status": appointment.status.value,
                        "reason": appointment.status_reason,
                        "booked_at": _moment(appointment.booked_at),
                    }
                    for appointment in part.appointments
                ],
                "interests": [
                    {
                        "offer": interest.offer.title,
                        "message": interest.message,
                        "at": _moment(interest.created_at),
                    }
                    for interest in part.interests
                ],
                "sms": [_message(message) for message in part.messages],
            }
            for part in data.parts
        ],
        "sms_from_the_portal": [_message(message) for message in data.portal_messages],
        "file_opened_by": [
            {"organisation": opened.organisation_name, "last_at": _moment(opened.last_opened_at)}
            for opened in data.opened_by
        ],
        "sign_ins": {
            "first": _moment(person.activated_at),
            "last": _moment(person.last_signed_in_at),
        },
    }
