"""Hand-over between organisations: propose, answer, withdraw; who leads the pathway.

Only organisations that follow the person take part: a counsellor reaches a proposal
through their own organisation's follow-up, and anything else is as absent as an id
nobody has. Every change records its event (to every organisation following the
person) in the caller's transaction.

Concurrency: a proposal locks the person's row and an answer the proposal's row
(SELECT … FOR UPDATE on PostgreSQL; SQLite has a single writer), so two answers to one
proposal cannot both win; a partial unique index keeps one open proposal per person.
"""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal.beneficiaries.models import Beneficiary, FollowUp
from portal.beneficiaries.services import follow_ups_of, referent_at
from portal.core.clock import utcnow
from portal.core.phones import display_phone
from portal.events.services import record_event
from portal.extensions import db
from portal.handover.models import Handover, HandoverStatus
from portal.organisations.models import Counsellor, Organisation
from portal.sms.models import SmsKind
from portal.sms.outbox import queue_notice

PROPOSED = "followup.handover_proposed"
ACCEPTED = "followup.handover_accepted"
REFUSED = "followup.handover_refused"
HISTORY_LIMIT = 50


class HandoverError(Exception):
    """A proposal or an answer that cannot be made now; `reason` says why (a code)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class HandoverPage:
    """What the proposal page shows about one person, for one counsellor."""

    follow_up: FollowUp  # the counsellor's organisation's
    candidates: list[FollowUp]  # the other organisations following the person
    open_handover: Handover | None

    @property
    def lead(self) -> Organisation | None:
        return self.follow_up.beneficiary.lead_organisation


def _event_data(handover: Handover, reason: str) -> dict:
    return {
        "from": handover.from_organisation.slug,
        "to": handover.to_organisation.slug,
        "reason": reason,
    }


def handover_page(counsellor: Counsellor, beneficiary_id: int) -> HandoverPage | None:
    """None when the counsellor's organisation does not follow the person."""
    follow_up = referent_at(beneficiary_id, counsellor.organisation_id)
    if follow_up is None:
        return None
    return handover_page_of(follow_up, follow_ups_of(follow_up.beneficiary))


def handover_page_of(follow_up: FollowUp, follow_ups: list[FollowUp]) -> HandoverPage:
    """The same from the follow-ups a caller has already read (the person's file)."""
    person = follow_up.beneficiary
    others = [f for f in follow_ups if f.organisation_id != follow_up.organisation_id]
    return HandoverPage(
        follow_up=follow_up,
        candidates=[f for f in others if f.organisation_id != person.lead_organisation_id],
        open_handover=open_handover_of(person),
    )


def open_handover_of(person: Beneficiary) -> Handover | None:
    return db.session.scalars(
        select(Handover).where(
            Handover.beneficiary_id == person.id, Handover.status == HandoverStatus.PROPOSED
        )
    ).first()


def propose(
    counsellor: Counsellor, person: Beneficiary, to_organisation_id: int, reason: str
) -> Handover:
    """`counsellor`'s organisation proposes that another one following the person leads.

    Raises HandoverError: 'not_following' (the chosen organisation does not follow the
    person, or is the counsellor's own, or already leads), 'already_open'.
    """
    _lock(Beneficiary, person.id)
    if referent_at(person.id, counsellor.organisation_id) is None:
        raise HandoverError("not_following")
    chosen = referent_at(person.id, to_organisation_id)
    if (
        chosen is None
        or to_organisation_id == counsellor.organisation_id
        or to_organisation_id == person.lead_organisation_id
    ):
        raise HandoverError("not_following")
    if open_handover_of(person) is not None:
        raise HandoverError("already_open")
    handover = Handover(
        beneficiary=person,
        from_organisation=counsellor.organisation,
        to_organisation=chosen.organisation,
        proposed_by=counsellor,
        reason=reason,
    )
    db.session.add(handover)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as error:  # another proposal won the race (the unique index)
        raise HandoverError("already_open") from error
    record_event(PROPOSED, person, _event_data(handover, reason))
    return handover


def _lock(model, row_id: int):
    """The row, re-read and locked until the transaction ends."""
    return db.session.scalars(
        select(model)
        .where(model.id == row_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def _reachable(counsellor: Counsellor, handover_id: int, side) -> Handover | None:
    """The proposal, when the counsellor's organisation is on `side` of it and still follows
    the person; None otherwise, as for an id nobody has."""
    return db.session.scalars(
        select(Handover)
        .join(
            FollowUp,
            (FollowUp.beneficiary_id == Handover.beneficiary_id)
            & (FollowUp.organisation_id == counsellor.organisation_id),
        )
        .where(Handover.id == handover_id, side == counsellor.organisation_id)
    ).first()


def handover_to_answer(counsellor: Counsellor, handover_id: int) -> Handover | None:
    return _reachable(counsellor, handover_id, Handover.to_organisation_id)


def handover_sent(counsellor: Counsellor, handover_id: int) -> Handover | None:
    return _reachable(counsellor, handover_id, Handover.from_organisation_id)


def _answer(handover: Handover, counsellor: Counsellor, status: HandoverStatus, reason=None):
    locked = _lock(Handover, handover.id)
    if locked is None or not locked.is_open:
        raise HandoverError("already_answered")
    locked.status = status
    locked.answered_by = counsellor
    locked.answer_reason = reason
    locked.answered_at = utcnow()
    return locked


def accept(counsellor: Counsellor, handover: Handover) -> Handover:
    """The counsellor's organisation leads the pathway from now on; the person is told by
    SMS (when they accept SMS) and every follower by an event carrying the proposal's
    reason. Raises HandoverError('already_answered')."""
    handover = _answer(handover, counsellor, HandoverStatus.ACCEPTED)
    person = handover.beneficiary
    person.lead_organisation_id = handover.to_organisation_id
    record_event(ACCEPTED, person, _event_data(handover, handover.reason))
    _tell_the_person(person, handover.to_organisation)
    db.session.flush()
    return handover


def refuse(counsellor: Counsellor, handover: Handover, reason: str) -> Handover:
    """Raises HandoverError('already_answered')."""
    handover = _answer(handover, counsellor, HandoverStatus.REFUSED, reason)
    record_event(REFUSED, handover.beneficiary, _event_data(handover, reason))
    db.session.flush()
    return handover


def withdraw(counsellor: Counsellor, handover: Handover) -> Handover:
    """The proposing organisation takes its proposal back (no event: nothing changed)."""
    handover = _answer(handover, counsellor, HandoverStatus.WITHDRAWN)
    db.session.flush()
    return handover


def _tell_the_person(person: Beneficiary, lead: Organisation) -> None:
    follow_up = referent_at(person.id, lead.id)
    contact = ""
    if follow_up is not None:
        parts = [follow_up.referent_name or ""]
        if follow_up.referent_phone:
            parts.append(display_phone(follow_up.referent_phone))
        contact = ", ".join(part for part in parts if part)
    queue_notice(
        person,
        lead,
        SmsKind.LEAD_CHANGED,
        "sms/lead_changed.txt",
        lead_name=lead.name,
        contact=contact,
    )


def organisation_leaves(organisation: Organisation, person: Beneficiary) -> None:
    """Before `organisation` stops following the person: its open proposals, either way,
    are withdrawn, and it no longer leads the pathway (nobody does until one accepts)."""
    for handover in db.session.scalars(
        select(Handover).where(
            Handover.beneficiary_id == person.id,
            Handover.status == HandoverStatus.PROPOSED,
            (Handover.from_organisation_id == organisation.id)
            | (Handover.to_organisation_id == organisation.id),
        )
    ):
        handover.status = HandoverStatus.WITHDRAWN
        handover.answered_at = utcnow()
    if person.lead_organisation_id == organisation.id:
        person.lead_organisation_id = None
    db.session.flush()


# -- What the counsellors' pages list ---------------------------------------------------------


def _followed_by_own(counsellor: Counsellor):
    return select(FollowUp.beneficiary_id).where(
        FollowUp.organisation_id == counsellor.organisation_id
    )


def _listed():
    return select(Handover).options(
        joinedload(Handover.beneficiary),
        joinedload(Handover.from_organisation),
        joinedload(Handover.to_organisation),
        joinedload(Handover.proposed_by),
    )


def handovers_to_answer(counsellor: Counsellor) -> list[Handover]:
    """Proposals that the counsellor's organisation leads, waiting for its answer, oldest
    first (for the to-do list)."""
    return list(
        db.session.scalars(
            _listed()
            .where(
                Handover.to_organisation_id == counsellor.organisation_id,
                Handover.status == HandoverStatus.PROPOSED,
                Handover.beneficiary_id.in_(_followed_by_own(counsellor)),
            )
            .order_by(Handover.created_at)
        )
    )


def handover_history(counsellor: Counsellor, limit: int = HISTORY_LIMIT) -> list[Handover]:
    """Every other proposal the organisation sent or received, newest first, about people
    it still follows."""
    own = counsellor.organisation_id
    return list(
        db.session.scalars(
            _listed()
            .where(
                (Handover.from_organisation_id == own) | (Handover.to_organisation_id == own),
                Handover.beneficiary_id.in_(_followed_by_own(counsellor)),
                ~(
                    (Handover.to_organisation_id == own)
                    & (Handover.status == HandoverStatus.PROPOSED)
                ),
            )
            .order_by(Handover.created_at.desc(), Handover.id.desc())
            .limit(limit)
        )
    )
