"""What the counsellors' pages show, gathered from the features below them."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from portal.appointments.lists import appointments_of_person
from portal.appointments.models import Appointment
from portal.auth.models import InvitationToken
from portal.beneficiaries.models import Beneficiary, FollowUp
from portal.beneficiaries.services import follow_ups_of, referent_at
from portal.core.clock import utcnow
from portal.extensions import db
from portal.handover.services import HandoverPage, handover_page_of
from portal.offers.models import OfferInterest
from portal.offers.services import interests_of
from portal.organisations.models import Counsellor
from portal.pathway.services import Pathway, pathway_of
from portal.sms.models import SmsMessage
from portal.sms.outbox import messages_of


@dataclass(frozen=True)
class Invitation:
    """An invitation link as staff may see it: when, until when, used or not; never the
    token (only its hash is kept anyway)."""

    sent_at: datetime
    expires_at: datetime
    used_at: datetime | None
    state: str  # "used", "expired" or "pending"


@dataclass(frozen=True)
class PersonFile:
    person: Beneficiary
    external_id: str
    follow_ups: list[FollowUp]
    pathway: Pathway
    appointments: list[Appointment]
    invitations: list[Invitation]
    messages: list[SmsMessage]
    interests: list[OfferInterest]
    # Who leads the pathway, a proposal waiting, the organisations that could take over.
    handover: HandoverPage


def person_file(counsellor: Counsellor, beneficiary_id: int) -> PersonFile | None:
    """A person's file, only through an organisation that follows them: the counsellor's.
    None for anyone else, as if the person did not exist. What belongs to one organisation
    (appointments, invitations, SMS) is the counsellor's organisation's only. A fixed
    number of queries, whatever the length of each list."""
    organisation_id = counsellor.organisation_id
    follow_up = referent_at(beneficiary_id, organisation_id)
    if follow_up is None:
        return None
    person = follow_up.beneficiary
    follow_ups = follow_ups_of(person)
    return PersonFile(
        person=person,
        external_id=follow_up.external_id,
        follow_ups=follow_ups,
        pathway=pathway_of(person),
        appointments=appointments_of_person(organisation_id, person.id),
        invitations=invitations_of(person, organisation_id),
        messages=messages_of(person, organisation_id),
        interests=interests_of(person),
        handover=handover_page_of(follow_up, follow_ups),
    )


def invitations_of(person: Beneficiary, organisation_id: int) -> list[Invitation]:
    """The invitation links this organisation sent the person, the latest first."""
    now = utcnow()
    tokens = db.session.scalars(
        select(InvitationToken)
        .where(
            InvitationToken.beneficiary_id == person.id,
            InvitationToken.organisation_id == organisation_id,
        )
        .order_by(InvitationToken.created_at.desc(), InvitationToken.id.desc())
    )
    return [
        Invitation(
            sent_at=token.created_at,
            expires_at=token.expires_at,
            used_at=token.used_at,
            state="used" if token.used_at else ("expired" if token.expires_at < now else "pending"),
        )
        for token in tokens
    ]
