"""An appointment's life: confirmed, declined, cancelled, attended, missed or excused."""

from datetime import datetime

from sqlalchemy import select

from portal.appointments.errors import AppointmentError
from portal.appointments.models import (
    Appointment,
    AppointmentStatus,
    Slot,
)
from portal.appointments.notices import NO_LONGER_STANDS, notify, record
from portal.appointments.steps import sync_step
from portal.beneficiaries.models import Beneficiary
from portal.core.clock import utcnow
from portal.extensions import db
from portal.organisations.models import Organisation
from portal.sms.models import SmsKind
from portal.sms.outbox import drop_queued_about

OUTCOMES = {AppointmentStatus.ATTENDED, AppointmentStatus.NO_SHOW, AppointmentStatus.EXCUSED}
OPEN = {AppointmentStatus.REQUESTED, AppointmentStatus.CONFIRMED}


def may_record_outcome(appointment: Appointment, now: datetime | None = None) -> bool:
    """Whether a counsellor may record (or correct) what happened: once it has started, on
    an appointment still standing or already given an outcome (set_status's rule)."""
    return appointment.status in OPEN | OUTCOMES and appointment.slot.starts_at <= (now or utcnow())


def set_status(
    appointment: Appointment,
    status: AppointmentStatus,
    reason: str | None,
    by: str,
    tell_person: bool = True,
) -> bool:
    """Confirm, decline or record an outcome. Returns False when nothing changed.

    Confirmed and declined answer a request; an outcome comes after the start time and
    may be corrected; nothing follows a cancellation or a refusal. `tell_person` False
    when the caller sends the one SMS that says it all (a move confirmed at once).
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
        allowed = may_record_outcome(appointment)
    else:
        allowed = False
    if not allowed:
        raise AppointmentError("transition", f"{current.value} cannot become {status.value}")
    appointment.status = status
    appointment.status_reason = reason
    if status not in OPEN:
        drop_queued_about(appointment.id, NO_LONGER_STANDS)
    record(f"appointment.{status.value}", appointment, by, reason=reason)
    sync_step(appointment)
    if tell_person and status is AppointmentStatus.CONFIRMED and current is not status:
        notify(appointment, SmsKind.APPOINTMENT_CONFIRMED, "sms/appointment_confirmed.txt")
    elif tell_person and status is AppointmentStatus.DECLINED:
        notify(
            appointment, SmsKind.APPOINTMENT_DECLINED, "sms/appointment_declined.txt", reason=reason
        )
    db.session.flush()
    return True


def cancel(
    appointment: Appointment, by: str, reason: str | None = None, tell_person: bool = True
) -> None:
    """Cancels a live appointment, records the event and tells the person."""
    if appointment.status not in (AppointmentStatus.REQUESTED, AppointmentStatus.CONFIRMED):
        raise AppointmentError(
            "transition", f"a {appointment.status.value} appointment cannot be cancelled"
        )
    appointment.status = AppointmentStatus.CANCELLED
    appointment.status_reason = reason
    appointment.cancelled_by = by
    drop_queued_about(appointment.id, NO_LONGER_STANDS)
    record("appointment.cancelled", appointment, by, reason=reason)
    sync_step(appointment)
    if tell_person:
        # A counsellor's reason is written for the person; the back office's is a code.
        notify(
            appointment,
            SmsKind.APPOINTMENT_CANCELLED,
            "sms/appointment_cancelled.txt",
            reason=reason if by == "counsellor" else None,
        )
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
