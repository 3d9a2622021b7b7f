"""Slots: published by counsellors or pushed by the back office, withdrawn, listed."""

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.appointments.errors import AppointmentError
from portal.appointments.models import (
    LIVE,
    Appointment,
    AppointmentStatus,
    Slot,
    SlotMode,
    SlotPurpose,
)
from portal.appointments.notices import rewrite_reminders
from portal.appointments.status import cancel
from portal.beneficiaries.models import FollowUp
from portal.core.clock import exists_in_paris, paris_day, paris_moment, utcnow
from portal.core.holidays import holiday_name
from portal.extensions import db
from portal.organisations.models import Counsellor, Organisation


def own_slot(counsellor: Counsellor, slot_id: int) -> Slot | None:
    """One of the counsellor's slots still offered; anyone else's is as if it did not exist."""
    slot = db.session.get(Slot, slot_id)
    if slot is None or slot.counsellor_id != counsellor.id or slot.withdrawn_at is not None:
        return None
    return slot


def live_appointments(slot: Slot, lock: bool = False) -> list[Appointment]:
    """The appointments holding the slot's seats, by seat. With `lock`, the slot's row is
    locked first (PostgreSQL): no booking slips in while the caller changes the slot."""
    if lock:
        db.session.execute(select(Slot.id).where(Slot.id == slot.id).with_for_update()).all()
    return list(
        db.session.scalars(
            select(Appointment)
            .where(Appointment.slot_id == slot.id, Appointment.status.in_(LIVE))
            .order_by(Appointment.seat)
        )
    )


def slot_by_external_id(organisation: Organisation, external_id: str) -> Slot | None:
    return db.session.scalars(
        select(Slot).where(Slot.organisation_id == organisation.id, Slot.external_id == external_id)
    ).first()


def check_not_a_holiday(organisation: Organisation, starts_at: datetime) -> None:
    local_day = paris_day(starts_at)
    name = holiday_name(local_day, organisation.department_code)
    if name:
        raise AppointmentError(
            "holiday", f"{local_day.isoformat()} is a public holiday ({name})", "starts_at"
        )


@dataclass(frozen=True)
class SlotState:
    """A slot as the back office sees it: how many people booked it, and whom it is kept
    for (under the organisation's own id for that person)."""

    slot: Slot
    reserved_for_external_id: str | None
    appointments_count: int

    @property
    def is_booked(self) -> bool:
        return self.appointments_count > 0

    @property
    def seats_left(self) -> int:
        return max(self.slot.capacity - self.appointments_count, 0)


def slot_state(slot: Slot) -> SlotState:
    reserved = None
    if slot.reserved_for_id is not None:
        reserved = db.session.scalars(
            select(FollowUp.external_id).where(
                FollowUp.beneficiary_id == slot.reserved_for_id,
                FollowUp.organisation_id == slot.organisation_id,
            )
        ).first()
    return SlotState(slot, reserved, len(live_appointments(slot)))


@dataclass(frozen=True)
class SlotUpsert:
    slot: Slot
    created: bool
    changed: bool


def upsert_slot(organisation: Organisation, external_id: str, fields: dict[str, Any]) -> SlotUpsert:
    """Creates or replaces a slot. A booked slot keeps its time and counsellor, and a
    session never gets fewer seats than people booked on it."""
    counsellor = db.session.scalars(
        select(Counsellor).where(
            Counsellor.organisation_id == organisation.id,
            Counsellor.email == fields["counsellor_email"].lower(),
        )
    ).first()
    if counsellor is None:
        raise AppointmentError(
            "unknown_counsellor",
            "no counsellor with this email in the organisation",
            "counsellor_email",
        )
    starts_at: datetime = fields["starts_at"]
    if starts_at <= utcnow():
        raise AppointmentError("past", "starts_at must be in the future", "starts_at")
    check_not_a_holiday(organisation, starts_at)
    mode = SlotMode(fields["mode"])
    if mode is SlotMode.IN_PERSON and not fields.get("location"):
        raise AppointmentError(
            "location_required", "location is required for in_person", "location"
        )
    if fields.get("video_url") and mode is not SlotMode.VIDEO:
        raise AppointmentError(
            "video_url_not_video", "video_url is only for a slot whose mode is video", "video_url"
        )
    capacity = fields.get("capacity") or 1
    reserved_for = None
    if fields.get("reserved_for") and capacity > 1:
        raise AppointmentError(
            "reserved_session", "a slot kept for one person has one seat", "reserved_for"
        )
    if fields.get("reserved_for"):
        follow_up = db.session.scalars(
            select(FollowUp).where(
                FollowUp.organisation_id == organisation.id,
                FollowUp.external_id == fields["reserved_for"],
            )
        ).first()
        if follow_up is None:
            raise AppointmentError(
                "unknown_beneficiary", "no beneficiary with this external_id", "reserved_for"
            )
        reserved_for = follow_up.beneficiary
    values = {
        "counsellor": counsellor,
        "starts_at": starts_at,
        "duration_minutes": fields["duration_minutes"],
        "mode": mode,
        "location": fields.get("location"),
        "video_url": fields.get("video_url"),
        "purpose": SlotPurpose(fields["purpose"]),
        "reserved_for": reserved_for,
        "capacity": capacity,
        "title": fields.get("title"),
        "withdrawn_at": None,
    }
    slot = slot_by_external_id(organisation, external_id)
    created = slot is None or slot.withdrawn_at is not None
    if slot is None:
        slot = Slot(organisation_id=organisation.id, external_id=external_id, **values)
        db.session.add(slot)
        db.session.flush()
        return SlotUpsert(slot, True, True)
    booked = live_appointments(slot, lock=True)
    if booked and (slot.starts_at != starts_at or slot.counsellor_id != counsellor.id):
        raise AppointmentError(
            "booked",
            "this slot is booked: withdraw it with ?cancel_booking=true before moving it",
        )
    if len(booked) > capacity:
        raise AppointmentError(
            "capacity_below_bookings",
            f"{len(booked)} people booked this slot: capacity cannot be lower",
        )
    _seat_within(booked, capacity)
    changed = set()
    for name, value in values.items():
        if getattr(slot, name) != value:
            setattr(slot, name, value)
            changed.add(name)
    db.session.flush()
    if changed & REMINDED_FIELDS:
        # The reminders already queued were written with the old place or link.
        for appointment in booked:
            rewrite_reminders(appointment)
    return SlotUpsert(slot, created, bool(changed))


# What the reminders of an appointment tell about its slot, besides the time (which a
# booked slot keeps).
REMINDED_FIELDS = frozenset({"mode", "location", "video_url"})


def _seat_within(booked: list[Appointment], capacity: int) -> None:
    """Moves the appointments on seats past a lowered capacity to the free seats below it
    (there are enough: the caller checked), one at a time so no two ever share a seat."""
    free = iter(sorted(set(range(1, capacity + 1)) - {a.seat for a in booked}))
    for appointment in booked:
        if appointment.seat > capacity:
            appointment.seat = next(free)
            db.session.flush()


def withdraw_slot(slot: Slot, cancel_booking: bool) -> None:
    """Withdraws a slot; a booked one only with `cancel_booking`, which cancels every
    booking on it (each with its event and SMS)."""
    booked = live_appointments(slot, lock=True)
    if booked and (
        not cancel_booking
        or any(
            a.status not in (AppointmentStatus.REQUESTED, AppointmentStatus.CONFIRMED)
            for a in booked
        )
    ):
        raise AppointmentError(
            "booked", "this slot is booked; add ?cancel_booking=true to cancel it"
        )
    for appointment in booked:
        cancel(appointment, by="backoffice")
    slot.withdrawn_at = utcnow()
    db.session.flush()


def slots_with_bookings(
    counsellor: Counsellor, start: datetime, end: datetime
) -> list[tuple[Slot, list[Appointment]]]:
    """The counsellor's slots still offered between two moments, soonest first, each with
    the appointments that hold its seats (and their people), in two queries. Never a past
    one: what has started is the agenda's."""
    slots = db.session.scalars(
        select(Slot)
        .where(
            Slot.counsellor_id == counsellor.id,
            Slot.withdrawn_at.is_(None),
            Slot.starts_at >= max(start, utcnow()),
            Slot.starts_at < end,
        )
        .order_by(Slot.starts_at, Slot.id)
    ).all()
    booked: dict[int, list[Appointment]] = {slot.id: [] for slot in slots}
    for appointment in db.session.scalars(
        select(Appointment)
        .options(joinedload(Appointment.beneficiary))
        .where(Appointment.slot_id.in_(booked), Appointment.status.in_(LIVE))
        .order_by(Appointment.seat)
    ):
        booked[appointment.slot_id].append(appointment)
    return [(slot, booked[slot.id]) for slot in slots]


def local_start(day: date, at: time) -> datetime:
    """A Paris wall-clock time as a UTC instant; a time the clocks skip does not exist."""
    if not exists_in_paris(day, at):
        raise AppointmentError(
            "no_such_time", "this time does not exist that day (clocks change)", "time"
        )
    return paris_moment(day, at)


def publish_slots(
    counsellor: Counsellor,
    first_day: date,
    at: time,
    duration_minutes: int,
    mode: SlotMode,
    location: str | None,
    purpose: SlotPurpose,
    repeat_until: date | None = None,
    until: time | None = None,
    capacity: int = 1,
    title: str | None = None,
    video_url: str | None = None,
) -> list[Slot]:
    """One slot, or back-to-back ones until `until` (the last one ends by then); the same
    every week until `repeat_until`; holidays are refused. With `capacity` > 1, each is a
    collective session of that many seats."""
    organisation = counsellor.organisation
    days = [first_day]
    if repeat_until is not None:
        if repeat_until < first_day or repeat_until > first_day + timedelta(days=366):
            raise AppointmentError(
                "bad_period", "the end of the series must be within a year", "repeat_until"
            )
        while days[-1] + timedelta(days=7) <= repeat_until:
            days.append(days[-1] + timedelta(days=7))
    if mode is SlotMode.IN_PERSON and not location:
        raise AppointmentError(
            "location_required", "an address is needed for an in-person slot", "location"
        )
    times = _times_of_day(at, until, duration_minutes)
    slots = []
    for day, at_time in ((day, at_time) for day in days for at_time in times):
        starts_at = local_start(day, at_time)
        if starts_at <= utcnow():
            raise AppointmentError("past", "this moment is already past", "first_day")
        check_not_a_holiday(organisation, starts_at)
        slot = Slot(
            organisation_id=organisation.id,
            external_id=f"portal:{secrets.token_hex(6)}",
            counsellor=counsellor,
            starts_at=starts_at,
            duration_minutes=duration_minutes,
            mode=mode,
            location=location if mode is SlotMode.IN_PERSON else None,
            video_url=video_url if mode is SlotMode.VIDEO else None,
            purpose=purpose,
            capacity=capacity,
            title=title,
        )
        db.session.add(slot)
        slots.append(slot)
    db.session.flush()
    return slots


def _times_of_day(at: time, until: time | None, duration_minutes: int) -> list[time]:
    """The start times of back-to-back slots from `at`, the last one ending by `until`."""
    if until is None:
        return [at]
    day = date(2000, 1, 3)  # any day: only wall-clock times are added here
    start, end = datetime.combine(day, at), datetime.combine(day, until)
    step = timedelta(minutes=duration_minutes)
    if start + step > end:
        raise AppointmentError(
            "bad_until", "the end time leaves no room for one slot after the start", "until"
        )
    times = []
    while start + step <= end:
        times.append(start.time())
        start += step
    return times
