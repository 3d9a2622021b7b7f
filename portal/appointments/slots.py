"""Slots: published by counsellors or pushed by the back office, withdrawn, listed."""

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import contains_eager, joinedload

from portal.appointments.errors import AppointmentError
from portal.appointments.models import (
    LIVE_STATUSES,
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


def live_appointment(slot: Slot) -> Appointment | None:
    return db.session.scalars(
        select(Appointment).where(
            Appointment.slot_id == slot.id,
            Appointment.status.in_([AppointmentStatus(s) for s in LIVE_STATUSES]),
        )
    ).first()


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
    """A slot as the back office sees it: booked or not, and whom it is kept for (under
    the organisation's own id for that person)."""

    slot: Slot
    reserved_for_external_id: str | None
    is_booked: bool


def slot_state(slot: Slot) -> SlotState:
    reserved = None
    if slot.reserved_for_id is not None:
        reserved = db.session.scalars(
            select(FollowUp.external_id).where(
                FollowUp.beneficiary_id == slot.reserved_for_id,
                FollowUp.organisation_id == slot.organisation_id,
            )
        ).first()
    return SlotState(slot, reserved, live_appointment(slot) is not None)


@dataclass(frozen=True)
class SlotUpsert:
    slot: Slot
    created: bool
    changed: bool


def upsert_slot(organisation: Organisation, external_id: str, fields: dict[str, Any]) -> SlotUpsert:
    """Creates or replaces a slot. A booked slot keeps its time and counsellor."""
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
    reserved_for = None
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
        "withdrawn_at": None,
    }
    slot = slot_by_external_id(organisation, external_id)
    created = slot is None or slot.withdrawn_at is not None
    if slot is None:
        slot = Slot(organisation_id=organisation.id, external_id=external_id, **values)
        db.session.add(slot)
        db.session.flush()
        return SlotUpsert(slot, True, True)
    if live_appointment(slot) is not None and (
        slot.starts_at != starts_at or slot.counsellor_id != counsellor.id
    ):
        raise AppointmentError(
            "booked",
            "this slot is booked: withdraw it with ?cancel_booking=true before moving it",
        )
    changed = set()
    for name, value in values.items():
        if getattr(slot, name) != value:
            setattr(slot, name, value)
            changed.add(name)
    db.session.flush()
    if changed & REMINDED_FIELDS and (appointment := live_appointment(slot)) is not None:
        # The reminders already queued were written with the old place or link.
        rewrite_reminders(appointment)
    return SlotUpsert(slot, created, bool(changed))


# What the reminders of an appointment tell about its slot, besides the time (which a
# booked slot keeps).
REMINDED_FIELDS = frozenset({"mode", "location", "video_url"})


def withdraw_slot(slot: Slot, cancel_booking: bool) -> None:
    appointment = live_appointment(slot)
    if appointment is not None:
        if not cancel_booking or appointment.status not in (
            AppointmentStatus.REQUESTED,
            AppointmentStatus.CONFIRMED,
        ):
            raise AppointmentError(
                "booked", "this slot is booked; add ?cancel_booking=true to cancel it"
            )
        cancel(appointment, by="backoffice")
    slot.withdrawn_at = utcnow()
    db.session.flush()


def slots_with_bookings(
    counsellor: Counsellor, start: datetime, end: datetime
) -> list[tuple[Slot, Appointment | None]]:
    """The counsellor's slots still offered between two moments, soonest first, each with
    the appointment that holds it (and its person), in one query. Never a past one: what
    has started is the agenda's."""
    rows = db.session.execute(
        select(Slot, Appointment)
        .outerjoin(
            Appointment,
            (Appointment.slot_id == Slot.id)
            & Appointment.status.in_([AppointmentStatus(s) for s in LIVE_STATUSES]),
        )
        # The appointment's slot is the row's slot: no second (inner) join that would drop
        # the free ones.
        .options(contains_eager(Appointment.slot), joinedload(Appointment.beneficiary))
        .where(
            Slot.counsellor_id == counsellor.id,
            Slot.withdrawn_at.is_(None),
            Slot.starts_at >= max(start, utcnow()),
            Slot.starts_at < end,
        )
        .order_by(Slot.starts_at, Slot.id)
    )
    return [(slot, appointment) for slot, appointment in rows]


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
    video_url: str | None = None,
) -> list[Slot]:
    """One slot, or back-to-back ones until `until` (the last one ends by then); the same
    every week until `repeat_until`; holidays are refused."""
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
