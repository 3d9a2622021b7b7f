"""The staff home, "what do I do now": each block a count and its first lines, for the
counsellor alone or for the whole organisation.

"Mine" means: appointments in the counsellor's own slots; people whose référent (for this
organisation) has the counsellor's e-mail.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import aliased, contains_eager, joinedload

from portal.appointments.models import LIVE, Appointment, AppointmentStatus, Slot
from portal.auth.models import InvitationToken
from portal.beneficiaries.models import Beneficiary, FollowUp
from portal.caseload import risk
from portal.caseload.search import Filters, counts, search
from portal.core.clock import paris_midnight, paris_today, utcnow
from portal.extensions import db
from portal.offers.models import OfferInterest
from portal.organisations.models import Counsellor
from portal.retention.services import dormant_people

SHOWN = 5  # lines a block shows on the home; "see the N" opens the rest
LONG_LIST = 200  # lines a block shows when opened alone
BLOCKS = ("demandes", "aujourdhui", "issues", "interets", "invitations", "risque", "dormants")


@dataclass
class Block:
    key: str
    count: int
    lines: list[Any]
    extra: dict[str, Any] = field(default_factory=dict)


def _counted(query: Select, limit: int) -> tuple[int, list]:
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return total or 0, list(db.session.scalars(query.limit(limit)).unique())


def _appointments(counsellor: Counsellor, mine: bool) -> Select:
    query = (
        select(Appointment)
        .join(Slot, Slot.id == Appointment.slot_id)
        .options(contains_eager(Appointment.slot), joinedload(Appointment.beneficiary))
        .where(Slot.organisation_id == counsellor.organisation_id)
    )
    return query.where(Slot.counsellor_id == counsellor.id) if mine else query


def requests_to_answer(counsellor: Counsellor, mine: bool, limit: int) -> Block:
    """Requested appointments, the oldest request first."""
    query = _appointments(counsellor, mine).where(Appointment.status == AppointmentStatus.REQUESTED)
    query = query.order_by(Appointment.booked_at, Appointment.id)
    return Block("demandes", *_counted(query, limit))


def todays_agenda(counsellor: Counsellor, mine: bool, limit: int) -> Block:
    """Today's appointments that hold their slot (Paris day), in time order."""
    today = paris_today()
    query = _appointments(counsellor, mine).where(
        Slot.starts_at >= paris_midnight(today),
        Slot.starts_at < paris_midnight(today + timedelta(days=1)),
        Appointment.status.in_(LIVE),
    )
    return Block("aujourdhui", *_counted(query.order_by(Slot.starts_at, Appointment.id), limit))


def outcomes_to_record(counsellor: Counsellor, mine: bool, limit: int) -> Block:
    """Confirmed appointments whose start has passed: attended, no-show or excused?"""
    query = _appointments(counsellor, mine).where(
        Appointment.status == AppointmentStatus.CONFIRMED, Slot.starts_at <= utcnow()
    )
    return Block("issues", *_counted(query.order_by(Slot.starts_at, Appointment.id), limit))


def _followed_people(counsellor: Counsellor, mine: bool, person_id) -> list:
    conditions = [
        FollowUp.beneficiary_id == person_id,
        FollowUp.organisation_id == counsellor.organisation_id,
    ]
    if mine:
        conditions.append(FollowUp.referent_email == counsellor.email)
    return conditions


def new_interests(counsellor: Counsellor, mine: bool, limit: int) -> Block:
    """Offers people said interest them, not yet taken in hand, oldest first."""
    query = (
        select(OfferInterest)
        .options(joinedload(OfferInterest.offer), joinedload(OfferInterest.beneficiary))
        .where(
            exists().where(*_followed_people(counsellor, mine, OfferInterest.beneficiary_id)),
            OfferInterest.acknowledged_at.is_(None),
        )
        .order_by(OfferInterest.created_at, OfferInterest.id)
    )
    return Block("interets", *_counted(query, limit))


def expired_invitations(counsellor: Counsellor, mine: bool, limit: int) -> Block:
    """People whose latest invitation from this organisation expired unused, and who never
    signed in: the link must be sent again, or the person called. Latest expiry first."""
    newer = aliased(InvitationToken)
    query = (
        select(InvitationToken)
        .join(Beneficiary, Beneficiary.id == InvitationToken.beneficiary_id)
        .options(contains_eager(InvitationToken.beneficiary))
        .where(
            InvitationToken.organisation_id == counsellor.organisation_id,
            InvitationToken.expires_at < utcnow(),
            InvitationToken.used_at.is_(None),
            Beneficiary.activated_at.is_(None),
            exists().where(*_followed_people(counsellor, mine, InvitationToken.beneficiary_id)),
            ~exists().where(
                newer.beneficiary_id == InvitationToken.beneficiary_id,
                newer.organisation_id == InvitationToken.organisation_id,
                newer.id > InvitationToken.id,
            ),
        )
        .order_by(InvitationToken.expires_at.desc(), InvitationToken.id)
    )
    return Block("invitations", *_counted(query, limit))


def at_risk(counsellor: Counsellor, mine: bool, limit: int) -> Block:
    """Counts by rule, and the first people matching any rule, A to Z."""
    by_rule = counts(counsellor, mine=mine)
    page = search(counsellor, Filters(mine=mine, risk=risk.ANY), size=limit)
    return Block(
        "risque",
        by_rule[risk.ANY],
        page.rows,
        extra={key: by_rule[key] for key in risk.RULE_KEYS},
    )


def dormant(counsellor: Counsellor, mine: bool, limit: int) -> Block:
    """People nobody has updated or seen for long (the retention's definition): to check
    whether the follow-up should go on. Never deleted by the portal."""
    return Block("dormants", *_counted(dormant_people(counsellor, mine), limit))


def home(counsellor: Counsellor, mine: bool, only: str | None = None) -> dict[str, Block]:
    """Every block of the home, or only `only` with its long list."""
    builders = {
        "demandes": requests_to_answer,
        "aujourdhui": todays_agenda,
        "issues": outcomes_to_record,
        "interets": new_interests,
        "invitations": expired_invitations,
        "risque": at_risk,
        "dormants": dormant,
    }
    if only in builders:
        return {only: builders[only](counsellor, mine, LONG_LIST)}
    return {key: build(counsellor, mine, SHOWN) for key, build in builders.items()}
