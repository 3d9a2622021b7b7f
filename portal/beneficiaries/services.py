"""People pushed by the back office: one person, whatever the number of organisations.

An organisation's new id is linked to an existing person only on CAF number and birth
date, or France Travail id and birth date; never on names or phones, since a wrong
merge would show one person's file to another.
"""

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete, or_, select, update

from portal.auth.models import InvitationToken, SignInCode
from portal.beneficiaries.models import Beneficiary, FollowUp, HouseholdRole
from portal.events.models import Event, EventRecipient
from portal.extensions import db
from portal.organisations.models import Organisation
from portal.sms.models import SmsMessage

logger = logging.getLogger(__name__)

# Personal fields: the latest PUT, from any organisation, wins.
PERSONAL_FIELDS = (
    "first_name",
    "last_name",
    "birth_date",
    "phone",
    "email",
    "language",
    "caf_number",
    "france_travail_id",
    "role",
    "postal_code",
    "rsa_registration_date",
    "sms_consent",
)


@dataclass(frozen=True)
class Upserted:
    follow_up: FollowUp
    created: bool  # a new id for this organisation
    changed: bool


def follow_up_for(organisation: Organisation, external_id: str) -> FollowUp | None:
    return db.session.scalars(
        select(FollowUp).where(
            FollowUp.organisation_id == organisation.id, FollowUp.external_id == external_id
        )
    ).first()


def follow_up_external_id(organisation: Organisation, beneficiary_id: int | None) -> str | None:
    """The organisation's own id for the person, if it follows them."""
    if beneficiary_id is None:
        return None
    return db.session.scalars(
        select(FollowUp.external_id).where(
            FollowUp.organisation_id == organisation.id, FollowUp.beneficiary_id == beneficiary_id
        )
    ).first()


def _matching_person(caf_number: str | None, france_travail_id: str | None, birth_date: date):
    conditions = []
    if caf_number:
        conditions.append(Beneficiary.caf_number == caf_number)
    if france_travail_id:
        conditions.append(Beneficiary.france_travail_id == france_travail_id)
    if not conditions:
        return None
    return db.session.scalars(
        select(Beneficiary)
        .where(Beneficiary.birth_date == birth_date, or_(*conditions))
        .order_by(Beneficiary.id)
        .limit(1)
    ).first()


def upsert_beneficiary(
    organisation: Organisation, external_id: str, fields: dict[str, Any]
) -> Upserted:
    """Creates or replaces what `organisation` says of the person it calls `external_id`.

    `fields` holds the personal fields plus `referent` (a dict or None), already validated.
    """
    personal = {name: fields[name] for name in PERSONAL_FIELDS}
    personal["role"] = HouseholdRole(personal["role"])
    referent = fields.get("referent") or {}
    follow_up = follow_up_for(organisation, external_id)
    created = follow_up is None
    if created:
        person = _matching_person(
            personal["caf_number"], personal["france_travail_id"], personal["birth_date"]
        )
        if person is None:
            person = Beneficiary(**personal)
            db.session.add(person)
        elif db.session.scalars(
            select(FollowUp).where(
                FollowUp.organisation_id == organisation.id, FollowUp.beneficiary_id == person.id
            )
        ).first():
            # The organisation already follows this person under another id: a second
            # file for the same person would split their pathway, so keep one person.
            person = Beneficiary(**personal)
            db.session.add(person)
        follow_up = FollowUp(organisation=organisation, beneficiary=person, external_id=external_id)
        db.session.add(follow_up)
    person = follow_up.beneficiary
    changed = created
    for name, value in personal.items():
        if getattr(person, name) != value:
            setattr(person, name, value)
            changed = True
    for name in ("name", "email", "phone"):
        value = referent.get(name)
        if getattr(follow_up, f"referent_{name}") != value:
            setattr(follow_up, f"referent_{name}", value)
            changed = True
    db.session.flush()
    return Upserted(follow_up=follow_up, created=created, changed=changed)


def followed_by(person: Beneficiary) -> list[str]:
    return sorted(f.organisation.slug for f in person.follow_ups)


def end_follow_up(organisation: Organisation, follow_up: FollowUp) -> bool:
    """Ends `organisation`'s follow-up; erases the person when nobody follows them any more.

    Returns True when the person was erased.
    """
    from portal.appointments.services import cancel_future_appointments_of_organisation
    from portal.pathway.models import PathwayStep

    person = follow_up.beneficiary
    cancel_future_appointments_of_organisation(organisation, person)
    db.session.execute(
        delete(PathwayStep).where(
            PathwayStep.organisation_id == organisation.id,
            PathwayStep.beneficiary_id == person.id,
        )
    )
    db.session.delete(follow_up)
    db.session.flush()
    db.session.expire(person, ["follow_ups"])
    if person.follow_ups:
        return False
    erase(person)
    return True


def erase(person: Beneficiary) -> None:
    """GDPR erasure: nothing personal stays; events keep their type and date only."""
    phone = person.phone
    db.session.execute(
        update(SmsMessage)
        .where(SmsMessage.beneficiary_id == person.id)
        .values(body="", to="+", beneficiary_id=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(EventRecipient)
        .where(
            EventRecipient.event_id.in_(select(Event.id).where(Event.beneficiary_id == person.id))
        )
        .values(external_id=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Event)
        .where(Event.beneficiary_id == person.id)
        .values(data={}, beneficiary_id=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(delete(InvitationToken).where(InvitationToken.beneficiary_id == person.id))
    others = db.session.scalars(
        select(Beneficiary.id).where(Beneficiary.phone == phone, Beneficiary.id != person.id)
    ).first()
    if others is None:
        db.session.execute(delete(SignInCode).where(SignInCode.phone == phone))
    db.session.delete(person)
    db.session.flush()
    logger.info("a beneficiary was erased")
