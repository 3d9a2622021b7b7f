"""Booking, moving and cancelling by the beneficiary, within the rules that keep slots fair."""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, undefer

from portal.appointments.errors import AppointmentError
from portal.appointments.models import (
    LIVE,
    Appointment,
    AppointmentStatus,
    Slot,
    SlotMode,
    SlotPurpose,
)
from portal.appointments.notices import NO_LONGER_STANDS, notify, queue_reminders, record
from portal.appointments.status import OPEN, cancel, set_status
from portal.appointments.steps import move_step, sync_step
from portal.beneficiaries.models import Beneficiary, FollowUp
from portal.beneficiaries.services import follow_ups_of, referent_at
from portal.core.clock import paris_day, paris_midnight, utcnow
from portal.events.services import record_event
from portal.extensions import db
from portal.pathway.models import PathwayStep, StepKind, StepStatus
from portal.sms.models import SmsKind
from portal.sms.outbox import drop_queued_about

BOOKING_HORIZON = timedelta(days=28)
# A slot closer than this cannot be booked: the counsellor would not see the request.
BOOKING_LEAD = timedelta(hours=2)


# Who may book what (fitting_purposes): the first appointment that chooses the kind of
# support is for people not oriented yet; follow-ups and the contract are for the others;
# information meetings are for everyone. A slot reserved for the person is always theirs.
BEFORE_ORIENTATION = frozenset({SlotPurpose.ORIENTATION, SlotPurpose.OTHER})
AFTER_ORIENTATION = frozenset({SlotPurpose.FOLLOW_UP, SlotPurpose.CONTRACT, SlotPurpose.OTHER})


def is_oriented(person: Beneficiary, follow_ups: list[FollowUp] | None = None) -> bool:
    """Whether the person's orientation is behind them, by any organisation: a référent was
    named for them (the orientation decision names the référent), an orientation step is
    done, or they attended an orientation appointment."""
    follow_ups = follow_ups_of(person) if follow_ups is None else follow_ups
    if any(f.referent_email or f.referent_name for f in follow_ups):
        return True
    done_step = exists().where(
        PathwayStep.beneficiary_id == person.id,
        PathwayStep.kind == StepKind.ORIENTATION,
        PathwayStep.status == StepStatus.DONE,
    )
    attended = exists().where(
        Appointment.beneficiary_id == person.id,
        Appointment.status == AppointmentStatus.ATTENDED,
        Appointment.slot_id == Slot.id,
        Slot.purpose == SlotPurpose.ORIENTATION,
    )
    return bool(db.session.scalar(select(done_step | attended)))


def fitting_purposes(person: Beneficiary, follow_ups: list[FollowUp] | None = None) -> frozenset:
    return AFTER_ORIENTATION if is_oriented(person, follow_ups) else BEFORE_ORIENTATION


def _has_a_seat_for(person: Beneficiary):
    """A seat is left (for a one-seat slot: no live appointment holds it) and the person
    holds none of its seats: a session books a person once."""
    return and_(
        Slot.appointments_count < Slot.capacity,
        ~exists().where(
            Appointment.slot_id == Slot.id,
            Appointment.beneficiary_id == person.id,
            Appointment.status.in_(LIVE),
        ),
    )


def _bookable_where(person: Beneficiary, now: datetime, mode: SlotMode | None) -> list:
    follow_ups = follow_ups_of(person)
    conditions = [
        Slot.organisation_id.in_([f.organisation_id for f in follow_ups]),
        Slot.withdrawn_at.is_(None),
        Slot.starts_at >= now + BOOKING_LEAD,
        Slot.starts_at < now + BOOKING_HORIZON,
        or_(
            Slot.reserved_for_id == person.id,
            Slot.reserved_for_id.is_(None)
            & Slot.purpose.in_(list(fitting_purposes(person, follow_ups))),
        ),
        _has_a_seat_for(person),
    ]
    if mode is not None:
        conditions.append(Slot.mode == mode)
    return conditions


@dataclass(frozen=True)
class BookableDays:
    """The days with a slot the person may book (under the chosen mode), with how many,
    in order; and the modes offered at all, for the filter."""

    counts: dict[date, int]
    modes: frozenset


def bookable_days(
    person: Beneficiary, mode: SlotMode | None = None, now: datetime | None = None
) -> BookableDays:
    """Reads two columns of the free slots in the booking horizon, no slot objects."""
    rows = db.session.execute(
        select(Slot.starts_at, Slot.mode).where(*_bookable_where(person, now or utcnow(), None))
    ).all()
    counts = Counter(paris_day(starts_at) for starts_at, of_mode in rows if mode in (None, of_mode))
    return BookableDays(dict(sorted(counts.items())), frozenset(of_mode for _, of_mode in rows))


def bookable_slots(
    person: Beneficiary,
    day: date | None = None,
    mode: SlotMode | None = None,
    now: datetime | None = None,
) -> list[Slot]:
    """Free slots the person may book (their organisations', of a purpose that fits them,
    and those reserved for them), soonest first; of one Paris day when `day` is given."""
    query = (
        select(Slot)
        .options(joinedload(Slot.organisation), undefer(Slot.appointments_count))
        .where(*_bookable_where(person, now or utcnow(), mode))
    )
    if day is not None:
        query = query.where(
            Slot.starts_at >= paris_midnight(day),
            Slot.starts_at < paris_midnight(day + timedelta(days=1)),
        )
    return list(db.session.scalars(query.order_by(Slot.starts_at, Slot.id)))


def bookable_slot(person: Beneficiary, slot_id: int) -> Slot | None:
    """The slot if the person may book it now, under the same rules as the list."""
    return db.session.scalars(
        select(Slot)
        .options(joinedload(Slot.organisation))
        .where(Slot.id == slot_id, *_bookable_where(person, utcnow(), None))
    ).first()


# The `by` of the appointment.confirmed event when the organisation's rule confirmed it.
CONFIRMED_BY_RULE = "portal"


def confirms_at_once(slot: Slot) -> bool:
    """Whether the slot's organisation confirms bookings of this purpose without waiting
    for a counsellor (Organisation.purposes_confirmed_at_once)."""
    return slot.organisation.confirms_at_once(slot.purpose.value)


def booked_already(person: Beneficiary, slot_id: int) -> Appointment | None:
    """The person's live appointment on this slot (a session books a person once)."""
    return db.session.scalars(
        select(Appointment).where(
            Appointment.slot_id == slot_id,
            Appointment.beneficiary_id == person.id,
            Appointment.status.in_(LIVE),
        )
    ).first()


def book(person: Beneficiary, slot_id: int, by: str = "beneficiary") -> Appointment:
    """Books a slot (or a seat of a session) for the person: `requested`, or `confirmed`
    at once when the slot's organisation confirms this purpose at once (events
    appointment.requested then appointment.confirmed, by "portal"; one SMS, the
    confirmation; nothing for the counsellor to answer).

    Records the event, adds the appointment to the pathway and queues the SMS. When
    someone else got the slot or its last seat first, AppointmentError("taken") is
    raised: the caller rolls back and offers other slots. A second place at the same
    session is AppointmentError("already_booked").
    """
    slot = bookable_slot(person, slot_id)
    if slot is None:
        if booked_already(person, slot_id) is not None:
            raise AppointmentError("already_booked", "the person already has a place there")
        raise AppointmentError("taken", "this slot can no longer be booked")
    _lock_person(person)
    _check_no_clash(person, slot)
    _check_room_for_one_more(person, slot)
    appointment = Appointment(
        slot=slot, beneficiary=person, status=AppointmentStatus.REQUESTED, seat=_take_seat(slot)
    )
    db.session.add(appointment)
    try:
        db.session.flush()
    except IntegrityError:
        raise AppointmentError("taken", "someone booked this slot a moment ago") from None
    record("appointment.requested", appointment, by)
    sync_step(appointment)
    if confirms_at_once(slot):
        # One SMS, the confirmation: never "requested" then "confirmed" a second later.
        set_status(appointment, AppointmentStatus.CONFIRMED, None, by=CONFIRMED_BY_RULE)
    else:
        notify(appointment, SmsKind.APPOINTMENT_REQUESTED, "sms/appointment_requested.txt")
    queue_reminders(appointment)
    db.session.flush()
    return appointment


# The longest slot there is (Slot's check constraint): how far back an appointment that
# could still be running may have started.
LONGEST_SLOT = timedelta(minutes=240)


def _lock_person(person: Beneficiary) -> None:
    """Locks the person's row (PostgreSQL) so that two bookings or moves of one person at
    the same instant are checked one after the other, never both against the same state."""
    db.session.execute(
        select(Beneficiary.id).where(Beneficiary.id == person.id).with_for_update()
    ).all()


def _take_seat(slot: Slot) -> int:
    """The slot's lowest free seat, its row locked first (PostgreSQL): the bookings of one
    session are counted one after the other, so however many people book at once none
    goes past the capacity. The unique (slot, seat) index refuses what would slip by."""
    capacity = db.session.scalar(select(Slot.capacity).where(Slot.id == slot.id).with_for_update())
    # A new statement after the lock: it sees the seats the ones before us committed.
    taken = set(
        db.session.scalars(
            select(Appointment.seat).where(
                Appointment.slot_id == slot.id, Appointment.status.in_(LIVE)
            )
        )
    )
    seat = next((seat for seat in range(1, capacity + 1) if seat not in taken), None)
    if seat is None:
        raise AppointmentError("taken", "every seat is taken")
    return seat


def clashing_appointment(
    person: Beneficiary, slot: Slot, ignoring: Appointment | None = None
) -> Appointment | None:
    """The person's requested or confirmed appointment whose time overlaps the slot's, if
    any (a missed appointment can cost a sanction of the RSA: two at once must never be)."""
    candidates = db.session.scalars(
        select(Appointment)
        .join(Slot)
        .where(
            Appointment.beneficiary_id == person.id,
            Appointment.status.in_(list(OPEN)),
            Slot.starts_at > slot.starts_at - LONGEST_SLOT,
            Slot.starts_at < slot.ends_at,
        )
        .order_by(Slot.starts_at)
    )
    return next(
        (
            other
            for other in candidates
            if other is not ignoring
            and other.slot_id != slot.id
            and other.slot.starts_at < slot.ends_at
            and slot.starts_at < other.slot.ends_at
        ),
        None,
    )


def _check_no_clash(person: Beneficiary, slot: Slot, ignoring: Appointment | None = None) -> None:
    other = clashing_appointment(person, slot, ignoring)
    if other is not None:
        raise AppointmentError(
            "clash", "the person already has an appointment at that time", other=other
        )


def _check_room_for_one_more(person: Beneficiary, slot: Slot) -> None:
    """Refuses a booking past the slot's organisation's ceiling of appointments to come
    (Organisation.max_upcoming_appointments; all organisations' appointments count: it is
    one person's time)."""
    limit = slot.organisation.max_upcoming_appointments
    count = db.session.scalar(
        select(func.count())
        .select_from(Appointment)
        .join(Slot)
        .where(
            Appointment.beneficiary_id == person.id,
            Appointment.status.in_(list(OPEN)),
            Slot.starts_at >= utcnow(),
        )
    )
    if count >= limit:
        raise AppointmentError(
            "too_many", f"at most {limit} appointments to come at once", limit=limit
        )


def _upcoming(person: Beneficiary):
    return (
        select(Appointment)
        .join(Slot)
        .options(joinedload(Appointment.slot).joinedload(Slot.organisation))
        .where(
            Appointment.beneficiary_id == person.id,
            Appointment.status.in_(list(OPEN)),
            Slot.starts_at >= utcnow(),
        )
        .order_by(Slot.starts_at)
    )


def upcoming(person: Beneficiary) -> list[Appointment]:
    """The person's requested and confirmed appointments still to come, soonest first."""
    return list(db.session.scalars(_upcoming(person)))


def next_appointment(person: Beneficiary) -> Appointment | None:
    """The person's next requested or confirmed appointment."""
    return db.session.scalars(_upcoming(person).limit(1)).first()


def referent_for(appointment: Appointment) -> FollowUp | None:
    """Whom the person calls about this appointment: their référent at its organisation."""
    return referent_at(appointment.beneficiary_id, appointment.slot.organisation_id)


def own_appointment(person: Beneficiary, appointment_id: int) -> Appointment | None:
    """One of the person's appointments; another person's is as if it did not exist."""
    return db.session.scalars(
        select(Appointment)
        .options(joinedload(Appointment.slot).joinedload(Slot.counsellor))
        .where(Appointment.id == appointment_id, Appointment.beneficiary_id == person.id)
    ).first()


def shows_video_link(appointment: Appointment, now: datetime | None = None) -> bool:
    """Whether the person's page shows the video link now: for a requested or confirmed
    appointment, from 30 minutes before its start until its end."""
    return appointment.status in OPEN and appointment.slot.video_link_open(now or utcnow())


def change_deadline(appointment: Appointment) -> datetime:
    """Until when the person may cancel or move it themselves (2 hours before, by default)."""
    limit = appointment.slot.organisation.cancellation_limit_minutes
    return appointment.slot.starts_at - timedelta(minutes=limit)


def may_change(appointment: Appointment, now: datetime | None = None) -> bool:
    return appointment.status in OPEN and (now or utcnow()) <= change_deadline(appointment)


def cancel_by_beneficiary(appointment: Appointment, now: datetime | None = None) -> None:
    if not may_change(appointment, now):
        raise AppointmentError("too_late", "too late to cancel here: call the counsellor")
    cancel(appointment, by="beneficiary")


def reschedule(
    appointment: Appointment, new_slot_id: int, now: datetime | None = None
) -> Appointment:
    """Moves the appointment to another free slot, in one transaction and one event (and
    appointment.confirmed after it when the new slot's organisation confirms at once; the
    one SMS then says it is confirmed).

    The old slot is freed only if the new one is taken: if the new insert is refused,
    the caller rolls back and the old appointment stands as it was.
    """
    if not may_change(appointment, now):
        raise AppointmentError("too_late", "too late to move it here: call the counsellor")
    person = appointment.beneficiary
    new_slot = bookable_slot(person, new_slot_id)
    if new_slot is None or new_slot.id == appointment.slot_id:
        raise AppointmentError("taken", "this slot can no longer be booked")
    _lock_person(person)
    _check_no_clash(person, new_slot, ignoring=appointment)
    old_slot = appointment.slot
    moved = Appointment(
        slot=new_slot,
        beneficiary=person,
        status=AppointmentStatus.REQUESTED,
        seat=_take_seat(new_slot),
    )
    db.session.add(moved)
    try:
        db.session.flush()
    except IntegrityError:
        raise AppointmentError("taken", "someone booked this slot a moment ago") from None
    appointment.status = AppointmentStatus.CANCELLED
    appointment.status_reason = "rescheduled"
    appointment.cancelled_by = "beneficiary"
    drop_queued_about(appointment.id, NO_LONGER_STANDS)
    appointment.rescheduled_to_id = moved.id
    record_event(
        "appointment.rescheduled",
        person,
        {
            "appointment_id": moved.id,
            "previous_appointment_id": appointment.id,
            "old_slot_external_id": old_slot.external_id,
            "new_slot_external_id": new_slot.external_id,
            "organisation": new_slot.organisation.slug,
            "by": "beneficiary",
        },
    )
    move_step(appointment, moved)
    confirmed = confirms_at_once(new_slot)
    if confirmed:
        set_status(
            moved, AppointmentStatus.CONFIRMED, None, by=CONFIRMED_BY_RULE, tell_person=False
        )
    notify(
        moved,
        SmsKind.APPOINTMENT_RESCHEDULED,
        "sms/appointment_rescheduled.txt",
        confirmed=confirmed,
    )
    queue_reminders(moved)
    db.session.flush()
    return moved
