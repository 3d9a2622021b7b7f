"""The waitlist: "tell me if an earlier time frees up".

A person joins from their appointment's page. When a slot frees up (an appointment
cancelled or declined, by anyone, or moved away from it), the people waiting with a later
appointment of the same organisation and purpose, who may book that slot, get an SMS with
a link; the first to take it moves there through the reschedule service (its locks and
clash rules), and the others are told it is gone while their appointment stands.

Slots are freed from many places (the person's pages, the counsellor's, the API, the back
office's withdrawals, the end of a follow-up). Rather than each of them calling in here,
the change of Appointment.status is noted on the session as it happens, and the offers
are written just before that transaction commits, in it: whoever frees a slot, the
waitlist hears of it, and a change rolled back offers nothing.
"""

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import aliased, object_session

from portal.appointments.booking import bookable_slot, clashing_appointment, may_change, reschedule
from portal.appointments.errors import AppointmentError
from portal.appointments.models import (
    LIVE,
    Appointment,
    AppointmentStatus,
    Slot,
    WaitlistEntry,
    WaitlistOffer,
)
from portal.appointments.status import OPEN
from portal.beneficiaries.models import Beneficiary
from portal.core.clock import paris_day, paris_midnight, utcnow
from portal.extensions import db
from portal.sms.models import SmsKind, SmsMessage, SmsStatus
from portal.sms.outbox import queue_notice
from portal.sms.schedule import next_allowed

logger = logging.getLogger(__name__)

# No offer for a slot closer than this, and its SMS is dropped rather than sent later: the
# person would not have the time to come (and the counsellor to see the request).
OFFER_LEAD = timedelta(hours=2)
MAX_OFFERS_PER_APPOINTMENT = 3
# At most one such SMS a person a (Paris) day.
MAX_OFFERS_PER_DAY = 1

FREED = {AppointmentStatus.CANCELLED, AppointmentStatus.DECLINED}
GONE_REASON = "the earlier slot was taken"

# What the session notes until it commits.
_FREED_SLOTS = "waitlist_freed_slots"
_ENDED_APPOINTMENTS = "waitlist_ended_appointments"
_TAKEN_SLOTS = "waitlist_taken_slots"


# -- Joining and leaving ----------------------------------------------------------------------


def entry_of(appointment: Appointment) -> WaitlistEntry | None:
    return db.session.scalars(
        select(WaitlistEntry).where(WaitlistEntry.appointment_id == appointment.id)
    ).first()


def may_join(appointment: Appointment, now: datetime | None = None) -> bool:
    """Only a requested or confirmed appointment the person may still move, and only for
    someone who gets our SMS: the offer comes by SMS."""
    person = appointment.beneficiary
    return (
        person is not None
        and person.may_receive_sms
        and appointment.status in OPEN
        and may_change(appointment, now)
    )


def waitlist_state(appointment: Appointment) -> str | None:
    """ "waiting", "may_join", or None when the waitlist is not offered for it."""
    if not may_join(appointment):
        return None
    entry = entry_of(appointment)
    return "waiting" if entry is not None and entry.ended_at is None else "may_join"


def join_waitlist(appointment: Appointment) -> WaitlistEntry:
    """Puts the appointment on the waitlist (again); twice is as once."""
    if not may_join(appointment):
        raise AppointmentError("too_late", "this appointment can no longer be moved")
    # Two taps at once: the second waits for the first and finds its entry.
    db.session.execute(
        select(Appointment.id).where(Appointment.id == appointment.id).with_for_update()
    ).all()
    entry = entry_of(appointment)
    if entry is None:
        entry = WaitlistEntry(appointment_id=appointment.id)
        db.session.add(entry)
    elif entry.ended_at is not None:
        entry.ended_at = None
        entry.joined_at = utcnow()
    db.session.flush()
    return entry


def leave_waitlist(appointment: Appointment) -> None:
    """Takes the appointment off the waitlist; the offers already sent stay valid."""
    entry = entry_of(appointment)
    if entry is not None and entry.ended_at is None:
        entry.ended_at = utcnow()
        db.session.flush()


# -- Offering a freed slot --------------------------------------------------------------------


def offer_freed_slot(slot_id: int, now: datetime | None = None) -> list[WaitlistOffer]:
    """Offers the slot, by SMS, to each waiting person it would bring forward and who may
    book it, within the caps; returns the offers made."""
    now = now or utcnow()
    slot = db.session.get(Slot, slot_id)
    if slot is None or slot.withdrawn_at is not None:
        return []
    send_before = slot.starts_at - OFFER_LEAD
    # Not in quiet hours: queued for the next allowed moment, if that is still in time.
    due = next_allowed(now, slot.organisation.department_code)
    if due > send_before:
        return []
    own_slot = aliased(Slot)
    entries = db.session.scalars(
        select(WaitlistEntry)
        .join(Appointment, WaitlistEntry.appointment_id == Appointment.id)
        .join(own_slot, Appointment.slot_id == own_slot.id)
        .where(
            WaitlistEntry.ended_at.is_(None),
            Appointment.status.in_(list(OPEN)),
            Appointment.beneficiary_id.is_not(None),
            own_slot.organisation_id == slot.organisation_id,
            own_slot.purpose == slot.purpose,
            own_slot.starts_at > slot.starts_at,
        )
        .order_by(WaitlistEntry.joined_at, WaitlistEntry.id)
    ).all()
    offers = [_offer(entry, slot, due, send_before, now) for entry in entries]
    return [offer for offer in offers if offer is not None]


def _offer(
    entry: WaitlistEntry, slot: Slot, due: datetime, send_before: datetime, now: datetime
) -> WaitlistOffer | None:
    appointment = entry.appointment
    person = appointment.beneficiary
    offered = db.session.scalars(
        select(WaitlistOffer.slot_id).where(WaitlistOffer.entry_id == entry.id)
    ).all()
    if not person.may_receive_sms or slot.id in offered:
        return None
    if len(offered) >= MAX_OFFERS_PER_APPOINTMENT:
        return None
    # The person's row, as a booking locks it: two slots freed at once count one SMS. One
    # locked by a booking or a move under way is passed over rather than waited for.
    locked = db.session.execute(
        select(Beneficiary.id).where(Beneficiary.id == person.id).with_for_update(skip_locked=True)
    ).first()
    if locked is None or _offers_on_the_day(person, due) >= MAX_OFFERS_PER_DAY:
        return None
    if (
        not may_change(appointment, now)
        or clashing_appointment(person, slot, ignoring=appointment) is not None
        or bookable_slot(person, slot.id) is None  # the dearest check, last
    ):
        return None
    offer = WaitlistOffer(entry=entry, slot=slot, due_at=due)
    db.session.add(offer)
    db.session.flush()
    message = queue_notice(
        person,
        slot.organisation,
        SmsKind.WAITLIST_OFFER,
        "sms/waitlist_offer.txt",
        appointment_id=appointment.id,
        due_at=due,
        send_before=send_before,
        slot=slot,
        offer_link=f"{current_app.config['PORTAL_BASE_URL']}/rendez-vous/plus-tot/{offer.id}",
    )
    offer.sms_message_id = message.id if message is not None else None
    db.session.flush()
    logger.info("earlier slot %s offered to appointment %s", slot.id, appointment.id)
    return offer


def _offers_on_the_day(person: Beneficiary, due: datetime) -> int:
    """The person's offers whose SMS goes out on the same Paris day as `due`, whatever
    appointment they are about."""
    day = paris_day(due)
    return db.session.scalar(
        select(func.count())
        .select_from(WaitlistOffer)
        .join(WaitlistEntry, WaitlistOffer.entry_id == WaitlistEntry.id)
        .join(Appointment, WaitlistEntry.appointment_id == Appointment.id)
        .where(
            Appointment.beneficiary_id == person.id,
            WaitlistOffer.due_at >= paris_midnight(day),
            WaitlistOffer.due_at < paris_midnight(day + timedelta(days=1)),
        )
    )


# -- Taking an offer --------------------------------------------------------------------------


def own_offer(person: Beneficiary, offer_id: int) -> WaitlistOffer | None:
    """One of the person's offers; another person's is as if it did not exist."""
    return db.session.scalars(
        select(WaitlistOffer)
        .join(WaitlistEntry, WaitlistOffer.entry_id == WaitlistEntry.id)
        .join(Appointment, WaitlistEntry.appointment_id == Appointment.id)
        .where(WaitlistOffer.id == offer_id, Appointment.beneficiary_id == person.id)
    ).first()


def moved_here(offer: WaitlistOffer) -> Appointment | None:
    """The appointment the person made by taking this offer, if they did."""
    moved_id = offer.entry.appointment.rescheduled_to_id
    moved = db.session.get(Appointment, moved_id) if moved_id is not None else None
    return moved if moved is not None and moved.slot_id == offer.slot_id else None


def offer_state(offer: WaitlistOffer) -> str:
    """ "open" (it can be taken), "clash" (another appointment of the person is at that
    time), "gone" (someone took it, or it is too close now) or "ended" (the appointment it
    would replace was cancelled or has passed)."""
    appointment = offer.entry.appointment
    person = appointment.beneficiary
    if appointment.status not in OPEN or not may_change(appointment):
        return "ended"
    if bookable_slot(person, offer.slot_id) is None:
        return "gone"
    if clashing_appointment(person, offer.slot, ignoring=appointment) is not None:
        return "clash"
    return "open"


def take_offer(offer: WaitlistOffer) -> Appointment:
    """Moves the person's appointment onto the offered slot, as they would move it
    themselves: AppointmentError("taken") when someone was quicker (the caller rolls back
    and their appointment stands)."""
    appointment = offer.entry.appointment
    if appointment.status not in OPEN:
        raise AppointmentError("ended", "the appointment to replace no longer stands")
    return reschedule(appointment, offer.slot_id)


# -- Hearing of freed slots, whoever frees them -----------------------------------------------


def _session_info(appointment: Appointment) -> dict:
    return (object_session(appointment) or db.session()).info


@event.listens_for(Appointment.status, "set", active_history=True)
def _note_status_change(appointment: Appointment, value, old, _initiator) -> None:
    if old not in OPEN or value in OPEN or appointment.id is None:
        return
    info = _session_info(appointment)
    info.setdefault(_ENDED_APPOINTMENTS, set()).add(appointment.id)
    if value in FREED and appointment.slot_id is not None:
        info.setdefault(_FREED_SLOTS, set()).add(appointment.slot_id)


@event.listens_for(Appointment, "after_insert")
def _note_slot_taken(_mapper, _connection, appointment: Appointment) -> None:
    _session_info(appointment).setdefault(_TAKEN_SLOTS, set()).add(appointment.slot_id)


@event.listens_for(db.session, "before_commit")
def _act_before_commit(session) -> None:
    ended = session.info.pop(_ENDED_APPOINTMENTS, set())
    taken = session.info.pop(_TAKEN_SLOTS, set())
    freed = session.info.pop(_FREED_SLOTS, set())
    if ended:
        # A cancelled, moved, declined or held appointment waits for nothing any more.
        session.execute(
            update(WaitlistEntry)
            .where(WaitlistEntry.appointment_id.in_(ended), WaitlistEntry.ended_at.is_(None))
            .values(ended_at=utcnow())
            .execution_options(synchronize_session="fetch")
        )
    if taken:
        _drop_offers_of_taken(taken)
    for slot_id in sorted(freed):
        offer_freed_slot(slot_id)


def _drop_offers_of_taken(slot_ids: set[int]) -> None:
    """An SMS offering a slot someone has taken since (it waited for the morning) is not
    sent: it would only disappoint. A collective session is taken once no seat is left."""
    booked = (
        select(func.count())
        .where(Appointment.slot_id == Slot.id, Appointment.status.in_(LIVE))
        .scalar_subquery()
    )
    full = select(Slot.id).where(Slot.id.in_(slot_ids), Slot.capacity <= booked)
    offered = select(WaitlistOffer.sms_message_id).where(
        WaitlistOffer.slot_id.in_(full), WaitlistOffer.sms_message_id.is_not(None)
    )
    db.session.execute(
        update(SmsMessage)
        .where(SmsMessage.id.in_(offered), SmsMessage.status == SmsStatus.QUEUED)
        .values(status=SmsStatus.DROPPED, last_error=GONE_REASON, claimed_at=None)
        .execution_options(synchronize_session=False)
    )


@event.listens_for(db.session, "after_rollback")
def _forget_notes(session) -> None:
    for key in (_FREED_SLOTS, _ENDED_APPOINTMENTS, _TAKEN_SLOTS):
        session.info.pop(key, None)
