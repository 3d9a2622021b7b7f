"""End of follow-up and GDPR erasure: where a person leaves the portal.

An organisation that stops following a person takes its appointments, steps and link
away; when the last one lets go, the person is erased. This touches every feature
that holds something about a person, so it stands above all of them.
"""

import logging

from sqlalchemy import delete, select, update

from portal.appointments.services import cancel_future_appointments_of_organisation
from portal.auth.models import InvitationToken, SignInCode
from portal.beneficiaries.models import Beneficiary, FollowUp
from portal.events.models import Event
from portal.events.services import empty_events
from portal.extensions import db
from portal.handover.models import Handover
from portal.handover.services import organisation_leaves
from portal.indicators.services import keep_anonymous_facts
from portal.organisations.models import Organisation
from portal.pathway.models import PathwayStep
from portal.sms.models import SmsMessage
from portal.sms.outbox import drop_queued_for

logger = logging.getLogger(__name__)


def end_follow_up(organisation: Organisation, follow_up: FollowUp) -> bool:
    """Ends `organisation`'s follow-up; erases the person when nobody follows them any more.

    Returns True when the person was erased.
    """
    person = follow_up.beneficiary
    # First, while the steps are there: the person still counts, anonymously, in the
    # organisation's cohorts.
    keep_anonymous_facts(organisation.id, person)
    cancel_future_appointments_of_organisation(organisation, person)
    # Its proposals lapse, and it no longer leads the pathway.
    organisation_leaves(organisation, person)
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
    """GDPR erasure: nothing personal stays; events keep their type and date only, the
    indicators an anonymous fact per organisation that still followed the person."""
    phone = person.phone
    for follow_up in person.follow_ups:
        keep_anonymous_facts(follow_up.organisation_id, person)
    drop_queued_for(person, "the person was erased")
    db.session.execute(
        update(SmsMessage)
        .where(SmsMessage.beneficiary_id == person.id)
        .values(body="", to="+", beneficiary_id=None)
        .execution_options(synchronize_session=False)
    )
    empty_events(Event.beneficiary_id == person.id)
    db.session.execute(delete(InvitationToken).where(InvitationToken.beneficiary_id == person.id))
    # Hand-over reasons are free text about the person.
    db.session.execute(delete(Handover).where(Handover.beneficiary_id == person.id))
    others = db.session.scalars(
        select(Beneficiary.id).where(Beneficiary.phone == phone, Beneficiary.id != person.id)
    ).first()
    if others is None:
        db.session.execute(delete(SignInCode).where(SignInCode.phone == phone))
    db.session.delete(person)
    db.session.flush()
    logger.info("a beneficiary was erased")
