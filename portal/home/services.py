"""What a beneficiary's home shows first: their next appointment and current step."""

from sqlalchemy import case, select

from portal.appointments.models import Appointment, AppointmentStatus, Slot
from portal.beneficiaries.models import Beneficiary
from portal.db_types import utcnow
from portal.extensions import db
from portal.pathway.models import PathwayStep, StepStatus


def next_appointment(beneficiary: Beneficiary) -> Appointment | None:
    return db.session.scalars(
        select(Appointment)
        .join(Slot)
        .where(
            Appointment.beneficiary_id == beneficiary.id,
            Appointment.status.in_([AppointmentStatus.REQUESTED, AppointmentStatus.CONFIRMED]),
            Slot.starts_at >= utcnow(),
        )
        .order_by(Slot.starts_at)
        .limit(1)
    ).first()


def current_step(beneficiary: Beneficiary) -> PathwayStep | None:
    """The step in progress (the latest started), else the next planned one."""
    in_progress_first = case((PathwayStep.status == StepStatus.IN_PROGRESS, 0), else_=1)
    return db.session.scalars(
        select(PathwayStep)
        .where(
            PathwayStep.beneficiary_id == beneficiary.id,
            PathwayStep.status.in_([StepStatus.IN_PROGRESS, StepStatus.PLANNED]),
        )
        .order_by(in_progress_first, PathwayStep.starts_on.desc(), PathwayStep.id.desc())
        .limit(1)
    ).first()
