"""The appointment's step on the pathway: the portal makes it and keeps it in step."""

from sqlalchemy import select

from portal.appointments.models import (
    Appointment,
    AppointmentStatus,
)
from portal.core.clock import paris_day
from portal.extensions import db
from portal.pathway.models import PathwayStep, StepKind, StepSource, StepStatus

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
