"""What the counsellors' pages show, gathered from the features below them."""

from dataclasses import dataclass

from portal.beneficiaries.models import Beneficiary
from portal.beneficiaries.services import referent_at
from portal.offers.models import OfferInterest
from portal.offers.services import interests_of
from portal.organisations.models import Counsellor
from portal.pathway.services import Pathway, pathway_of
from portal.sms.models import SmsMessage
from portal.sms.outbox import messages_of


@dataclass(frozen=True)
class PersonFile:
    person: Beneficiary
    external_id: str
    pathway: Pathway
    messages: list[SmsMessage]
    interests: list[OfferInterest]


def person_file(counsellor: Counsellor, beneficiary_id: int) -> PersonFile | None:
    """A person's file, only through an organisation that follows them: the counsellor's.
    None for anyone else, as if the person did not exist."""
    follow_up = referent_at(beneficiary_id, counsellor.organisation_id)
    if follow_up is None:
        return None
    person = follow_up.beneficiary
    return PersonFile(
        person=person,
        external_id=follow_up.external_id,
        pathway=pathway_of(person),
        messages=messages_of(person),
        interests=interests_of(person),
    )
