"""Slots and appointments: the rules shared by the pages and the back-office API."""

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import render_template
from flask_babel import force_locale
from sqlalchemy import select

from portal.appointments.calendar import holiday_name
from portal.appointments.models import (
    LIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    Slot,
    SlotMode,
    SlotPurpose,
)
from portal.beneficiaries.models import Beneficiary, FollowUp
from portal.db_types import utcnow
from portal.events.services import record_event
from portal.extensions import db
from portal.organisations.models import Counsellor, Organisation
from portal.sms.models import SmsKind
from portal.sms.services import queue_sms

logger = logging.getLogger(__name__)

PARIS = "Europe/Paris"


class AppointmentError(Exception):
    """A rule refused the change; `code` names which, `field` the field it is about."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.field = field


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
    from zoneinfo import ZoneInfo

    local_day = starts_at.astimezone(ZoneInfo(PARIS)).date()
    name = holiday_name(local_day, organisation.department_code)
    if name:
        raise AppointmentError(
            "holiday", f"{local_day.isoformat()} is a public holiday ({name})", "starts_at"
        )


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


def _notify_cancelled(appointment: Appointment) -> None:
    person = appointment.beneficiary
    if person is None or not person.may_receive_sms:
        return
    organisation = appointment.slot.organisation
    with force_locale(person.language):
        body = render_template(
            "sms/appointment_cancelled.txt", sender=organisation.sender_name, slot=appointment.slot
        ).strip()
    queue_sms(
        to=person.phone,
        body=body,
        kind=SmsKind.APPOINTMENT_CANCELLED,
        beneficiary=person,
        organisation=organisation,
        language=person.language,
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
    record_event(
        "appointment.cancelled",
        appointment.beneficiary,
        {
            "appointment_id": appointment.id,
            "slot_external_id": appointment.slot.external_id,
            "by": by,
            "reason": reason,
        },
    )
    if notify:
        _notify_cancelled(appointment)
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
    record_event(
        f"appointment.{status.value}",
        appointment.beneficiary,
        {
            "appointment_id": appointment.id,
            "slot_external_id": appointment.slot.external_id,
            "by": by,
            "reason": reason,
        },
    )
    db.session.flush()
    return True


def appointment_payload(appointment: Appointment, beneficiary_external_id: str | None) -> dict:
    slot = appointment.slot
    return {
        "id": appointment.id,
        "slot_external_id": slot.external_id,
        "beneficiary_external_id": beneficiary_external_id,
        "starts_at": slot.starts_at,
        "mode": slot.mode.value,
        "location": slot.location,
        "status": appointment.status.value,
        "status_reason": appointment.status_reason,
        "booked_at": appointment.booked_at,
        "updated_at": appointment.updated_at,
    }


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
