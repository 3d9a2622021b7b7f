"""Slots and appointments: the rules shared by the pages and the back-office API."""

import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal.appointments.models import (
    LIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    Slot,
    SlotMode,
    SlotPurpose,
)
from portal.beneficiaries.models import Beneficiary, FollowUp
from portal.beneficiaries.services import follow_ups_of, referent_at
from portal.core.clock import exists_in_paris, paris_day, paris_moment, utcnow
from portal.core.holidays import holiday_name
from portal.events.services import record_event
from portal.extensions import db
from portal.organisations.models import Counsellor, Organisation
from portal.pathway.models import PathwayStep, StepKind, StepSource, StepStatus
from portal.sms.models import SmsKind
from portal.sms.outbox import drop_queued_about, queue_notice
from portal.sms.schedule import reminder_times

logger = logging.getLogger(__name__)


# Why the SMS about an appointment were not sent, as the outbox records it.
NO_LONGER_STANDS = "the appointment was cancelled, moved or answered"


class AppointmentError(Exception):
    """A rule refused the change; `code` names which, `field` the field it is about."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.field = field


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
    changed = False
    for name, value in values.items():
        if getattr(slot, name) != value:
            setattr(slot, name, value)
            changed = True
    db.session.flush()
    return SlotUpsert(slot, created, changed)


def _notify(appointment: Appointment, kind: SmsKind, template: str, **context) -> None:
    # Past the start, news about an appointment is no longer worth an SMS.
    queue_notice(
        appointment.beneficiary,
        appointment.slot.organisation,
        kind,
        template,
        appointment_id=appointment.id,
        send_before=appointment.slot.starts_at,
        slot=appointment.slot,
        **context,
    )


def _queue_reminders(appointment: Appointment, now: datetime | None = None) -> None:
    """The 48-hour and the morning reminders, in allowed hours; dropped at send time if the
    appointment no longer stands."""
    slot = appointment.slot
    organisation = slot.organisation
    times = reminder_times(
        slot.starts_at,
        now or utcnow(),
        organisation.department_code,
        organisation.reminder_hours_before,
        organisation.morning_reminder_hour,
    )
    for key, kind, template in (
        ("48h", SmsKind.REMINDER_48H, "sms/reminder_48h.txt"),
        ("day", SmsKind.REMINDER_DAY, "sms/reminder_day.txt"),
    ):
        if key in times:
            queue_notice(
                appointment.beneficiary,
                organisation,
                kind,
                template,
                appointment_id=appointment.id,
                due_at=times[key],
                send_before=slot.starts_at,
                slot=slot,
            )


def _event(type_: str, appointment: Appointment, by: str, **data) -> None:
    record_event(
        type_,
        appointment.beneficiary,
        {
            "appointment_id": appointment.id,
            "slot_external_id": appointment.slot.external_id,
            "organisation": appointment.slot.organisation.slug,
            "by": by,
            **data,
        },
    )


def cancel(
    appointment: Appointment, by: str, reason: str | None = None, notify: bool = True
) -> None:
    """Cancels a live appointment, records the event and tells the person."""
    if appointment.status not in (AppointmentStatus.REQUESTED, AppointmentStatus.CONFIRMED):
        raise AppointmentError(
            "transition", f"a {appointment.status.value} appointment cannot be cancelled"
        )
    appointment.status = AppointmentStatus.CANCELLED
    appointment.status_reason = reason
    drop_queued_about(appointment.id, NO_LONGER_STANDS)
    _event("appointment.cancelled", appointment, by, reason=reason)
    sync_step(appointment)
    if notify:
        _notify(appointment, SmsKind.APPOINTMENT_CANCELLED, "sms/appointment_cancelled.txt")
    db.session.flush()


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


def cancel_future_appointments_of_organisation(
    organisation: Organisation, person: Beneficiary
) -> None:
    appointments = db.session.scalars(
        select(Appointment)
        .join(Slot)
        .where(
            Slot.organisation_id == organisation.id,
            Appointment.beneficiary_id == person.id,
            Appointment.status.in_([AppointmentStatus.REQUESTED, AppointmentStatus.CONFIRMED]),
            Slot.starts_at > utcnow(),
        )
    ).all()
    for appointment in appointments:
        cancel(appointment, by="backoffice", reason="follow_up_ended")


OUTCOMES = {AppointmentStatus.ATTENDED, AppointmentStatus.NO_SHOW, AppointmentStatus.EXCUSED}
OPEN = {AppointmentStatus.REQUESTED, AppointmentStatus.CONFIRMED}


def set_status(
    appointment: Appointment, status: AppointmentStatus, reason: str | None, by: str
) -> bool:
    """Confirm, decline or record an outcome. Returns False when nothing changed.

    Confirmed and declined answer a request; an outcome comes after the start time and
    may be corrected; nothing follows a cancellation or a refusal.
    """
    current = appointment.status
    if status == current and reason == appointment.status_reason:
        return False
    if current in (AppointmentStatus.CANCELLED, AppointmentStatus.DECLINED):
        raise AppointmentError("transition", f"nothing can follow {current.value}")
    if status is AppointmentStatus.CONFIRMED:
        allowed = current is AppointmentStatus.REQUESTED or current is status
    elif status is AppointmentStatus.DECLINED:
        allowed = current is AppointmentStatus.REQUESTED
    elif status in OUTCOMES:
        if appointment.slot.starts_at > utcnow():
            raise AppointmentError(
                "too_early", f"{status.value} can only be set after the start time"
            )
        allowed = current in OPEN or current in OUTCOMES
    else:
        allowed = False
    if not allowed:
        raise AppointmentError("transition", f"{current.value} cannot become {status.value}")
    appointment.status = status
    appointment.status_reason = reason
    if status not in OPEN:
        drop_queued_about(appointment.id, NO_LONGER_STANDS)
    _event(f"appointment.{status.value}", appointment, by, reason=reason)
    sync_step(appointment)
    if status is AppointmentStatus.CONFIRMED and current is not status:
        _notify(appointment, SmsKind.APPOINTMENT_CONFIRMED, "sms/appointment_confirmed.txt")
    elif status is AppointmentStatus.DECLINED:
        _notify(
            appointment, SmsKind.APPOINTMENT_DECLINED, "sms/appointment_declined.txt", reason=reason
        )
    db.session.flush()
    return True


def list_for_organisation(
    organisation: Organisation,
    status: AppointmentStatus | None,
    starts_from: datetime | None,
    starts_to: datetime | None,
    after: int,
    limit: int,
) -> list[tuple[Appointment, str | None]]:
    query = (
        select(Appointment, FollowUp.external_id)
        .join(Slot, Slot.id == Appointment.slot_id)
        .outerjoin(
            FollowUp,
            (FollowUp.beneficiary_id == Appointment.beneficiary_id)
            & (FollowUp.organisation_id == organisation.id),
        )
        .where(Slot.organisation_id == organisation.id, Appointment.id > after)
        .order_by(Appointment.id)
        .limit(limit)
    )
    if status is not None:
        query = query.where(Appointment.status == status)
    if starts_from is not None:
        query = query.where(Slot.starts_at >= starts_from)
    if starts_to is not None:
        query = query.where(Slot.starts_at < starts_to)
    return [(row[0], row[1]) for row in db.session.execute(query)]


# -- Booking by the beneficiary -------------------------------------------------------------

BOOKING_HORIZON = timedelta(days=28)
# A slot closer than this cannot be booked: the counsellor would not see the request.
BOOKING_LEAD = timedelta(hours=2)


def bookable_slots(person: Beneficiary, now: datetime | None = None) -> list[Slot]:
    """Free slots the person may book: their organisations', their référents' first, and
    those reserved for them; soonest first within each group."""
    now = now or utcnow()
    follow_ups = follow_ups_of(person)
    organisation_ids = [f.organisation_id for f in follow_ups]
    referent_emails = {f.referent_email for f in follow_ups if f.referent_email}
    taken = select(Appointment.slot_id).where(
        Appointment.status.in_([AppointmentStatus(s) for s in LIVE_STATUSES])
    )
    slots = db.session.scalars(
        select(Slot)
        .options(joinedload(Slot.counsellor), joinedload(Slot.organisation))
        .where(
            Slot.organisation_id.in_(organisation_ids),
            Slot.withdrawn_at.is_(None),
            Slot.starts_at >= now + BOOKING_LEAD,
            Slot.starts_at < now + BOOKING_HORIZON,
            Slot.id.not_in(taken),
            (Slot.reserved_for_id.is_(None)) | (Slot.reserved_for_id == person.id),
        )
        .order_by(Slot.starts_at)
    ).all()
    return sorted(
        slots,
        key=lambda slot: (
            slot.reserved_for_id != person.id,
            slot.counsellor.email not in referent_emails,
            slot.starts_at,
        ),
    )


def bookable_slot(person: Beneficiary, slot_id: int) -> Slot | None:
    return next((slot for slot in bookable_slots(person) if slot.id == slot_id), None)


def book(person: Beneficiary, slot_id: int, by: str = "beneficiary") -> Appointment:
    """Books a slot for the person, in status `requested`.

    Records the event, adds the appointment to the pathway and queues the SMS. When
    someone else got the slot first, the database refuses the second appointment and
    AppointmentError("taken") is raised: the caller rolls back and offers other slots.
    """
    slot = bookable_slot(person, slot_id)
    if slot is None:
        raise AppointmentError("taken", "this slot can no longer be booked")
    _check_room_for_one_more(person)
    appointment = Appointment(slot=slot, beneficiary=person, status=AppointmentStatus.REQUESTED)
    db.session.add(appointment)
    try:
        db.session.flush()
    except IntegrityError:
        raise AppointmentError("taken", "someone booked this slot a moment ago") from None
    _event("appointment.requested", appointment, by)
    sync_step(appointment)
    _notify(appointment, SmsKind.APPOINTMENT_REQUESTED, "sms/appointment_requested.txt")
    _queue_reminders(appointment)
    db.session.flush()
    return appointment


# Enough for a pathway (an orientation, a follow-up, a contract), and a ceiling on what
# one account, or whoever holds it, can take from everyone else and queue as SMS.
MAX_UPCOMING_APPOINTMENTS = 3


def _check_room_for_one_more(person: Beneficiary) -> None:
    """Refuses a booking past MAX_UPCOMING_APPOINTMENTS. The person's row is locked first
    (PostgreSQL), so two bookings at the same instant are counted one after the other."""
    db.session.execute(
        select(Beneficiary.id).where(Beneficiary.id == person.id).with_for_update()
    ).all()
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
    if count >= MAX_UPCOMING_APPOINTMENTS:
        raise AppointmentError(
            "too_many", f"at most {MAX_UPCOMING_APPOINTMENTS} appointments to come at once"
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
    """Moves the appointment to another free slot, in one transaction and one event.

    The old slot is freed only if the new one is taken: if the new insert is refused,
    the caller rolls back and the old appointment stands as it was.
    """
    if not may_change(appointment, now):
        raise AppointmentError("too_late", "too late to move it here: call the counsellor")
    person = appointment.beneficiary
    new_slot = bookable_slot(person, new_slot_id)
    if new_slot is None or new_slot.id == appointment.slot_id:
        raise AppointmentError("taken", "this slot can no longer be booked")
    old_slot = appointment.slot
    moved = Appointment(slot=new_slot, beneficiary=person, status=AppointmentStatus.REQUESTED)
    db.session.add(moved)
    try:
        db.session.flush()
    except IntegrityError:
        raise AppointmentError("taken", "someone booked this slot a moment ago") from None
    appointment.status = AppointmentStatus.CANCELLED
    appointment.status_reason = "rescheduled"
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
    _notify(moved, SmsKind.APPOINTMENT_RESCHEDULED, "sms/appointment_rescheduled.txt")
    _queue_reminders(moved)
    db.session.flush()
    return moved


# -- The appointment's step on the pathway -------------------------------------------------

_STEP_STATUS = {
    AppointmentStatus.REQUESTED: StepStatus.PLANNED,
    AppointmentStatus.CONFIRMED: StepStatus.PLANNED,
    AppointmentStatus.ATTENDED: StepStatus.DONE,
    AppointmentStatus.DECLINED: StepStatus.CANCELLED,
    AppointmentStatus.CANCELLED: StepStatus.CANCELLED,
    AppointmentStatus.NO_SHOW: StepStatus.CANCELLED,
    AppointmentStatus.EXCUSED: StepStatus.CANCELLED,
}


def _step_of(appointment: Appointment) -> PathwayStep | None:
    return db.session.scalars(
        select(PathwayStep).where(PathwayStep.appointment_id == appointment.id)
    ).first()


def sync_step(appointment: Appointment) -> None:
    """The pathway shows every appointment as a step the portal made; it follows its status."""
    if appointment.beneficiary is None:
        return
    slot = appointment.slot
    step = _step_of(appointment)
    if step is None:
        step = PathwayStep(
            organisation_id=slot.organisation_id,
            beneficiary=appointment.beneficiary,
            external_id=f"portal:appointment:{appointment.id}",
            source=StepSource.PORTAL,
            kind=StepKind.APPOINTMENT,
            title=f"Rendez-vous avec {slot.counsellor.name}",
            appointment_id=appointment.id,
        )
        db.session.add(step)
    step.status = _STEP_STATUS[appointment.status]
    step.starts_on = paris_day(slot.starts_at)


def move_step(old: Appointment, new: Appointment) -> None:
    step = _step_of(old)
    if step is None:
        sync_step(new)
        return
    step.appointment_id = new.id
    step.title = f"Rendez-vous avec {new.slot.counsellor.name}"
    sync_step(new)


# -- Calendar file -------------------------------------------------------------------------


def calendar_file(appointment: Appointment, summary: str, reminder: str) -> bytes:
    """An .ics with the place and an alarm an hour before, for the phone's calendar."""
    from icalendar import Alarm, Calendar, Event

    slot = appointment.slot
    calendar = Calendar()
    calendar.add("prodid", "-//Portail SPI//rendez-vous//FR")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"appointment-{appointment.id}@portail-spi")
    event.add("dtstamp", utcnow())
    event.add("dtstart", slot.starts_at)
    event.add("dtend", slot.ends_at)
    event.add("summary", summary)
    if slot.location:
        event.add("location", slot.location)
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", reminder)
    alarm.add("trigger", timedelta(hours=-1))
    event.add_component(alarm)
    calendar.add_component(event)
    return calendar.to_ical()


# -- Counsellors -----------------------------------------------------------------------------


def requests_to_answer(counsellor: Counsellor) -> list[Appointment]:
    """The organisation's requested appointments, oldest request first."""
    return list(
        db.session.scalars(
            select(Appointment)
            .join(Slot)
            .options(
                joinedload(Appointment.slot).joinedload(Slot.counsellor),
                joinedload(Appointment.beneficiary),
            )
            .where(
                Slot.organisation_id == counsellor.organisation_id,
                Appointment.status == AppointmentStatus.REQUESTED,
            )
            .order_by(Appointment.booked_at, Appointment.id)
        )
    )


def organisation_appointment(organisation_id: int, appointment_id: int) -> Appointment | None:
    """One of the organisation's appointments; another organisation's is as if it did not exist."""
    return db.session.scalars(
        select(Appointment)
        .join(Slot)
        .where(Appointment.id == appointment_id, Slot.organisation_id == organisation_id)
    ).first()


def agenda(counsellor: Counsellor, start: datetime, end: datetime) -> list[Appointment]:
    """The counsellor's own appointments between two moments, soonest first."""
    return list(
        db.session.scalars(
            select(Appointment)
            .join(Slot)
            .options(joinedload(Appointment.slot), joinedload(Appointment.beneficiary))
            .where(
                Slot.counsellor_id == counsellor.id,
                Slot.starts_at >= start,
                Slot.starts_at < end,
                Appointment.status.not_in(
                    [AppointmentStatus.CANCELLED, AppointmentStatus.DECLINED]
                ),
            )
            .order_by(Slot.starts_at)
        )
    )


def own_slots(counsellor: Counsellor, now: datetime | None = None) -> list[tuple[Slot, bool]]:
    """The counsellor's future slots, each with whether it is booked."""
    now = now or utcnow()
    slots = db.session.scalars(
        select(Slot)
        .where(
            Slot.counsellor_id == counsellor.id, Slot.withdrawn_at.is_(None), Slot.starts_at >= now
        )
        .order_by(Slot.starts_at)
    ).all()
    booked = set(
        db.session.scalars(
            select(Appointment.slot_id).where(
                Appointment.slot_id.in_([slot.id for slot in slots]),
                Appointment.status.in_([AppointmentStatus(s) for s in LIVE_STATUSES]),
            )
        )
    )
    return [(slot, slot.id in booked) for slot in slots]


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
) -> list[Slot]:
    """One slot, or the same one every week until `repeat_until`; holidays are refused."""
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
    slots = []
    for day in days:
        starts_at = local_start(day, at)
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
            purpose=purpose,
        )
        db.session.add(slot)
        slots.append(slot)
    db.session.flush()
    return slots
