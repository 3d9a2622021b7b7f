"""Appointments as counsellors and the back office look them up."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.appointments.models import (
    Appointment,
    AppointmentStatus,
    Slot,
)
from portal.beneficiaries.models import FollowUp
from portal.extensions import db
from portal.organisations.models import Counsellor, Organisation


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


def organisation_appointment(organisation_id: int, appointment_id: int) -> Appointment | None:
    """One of the organisation's appointments; another organisation's is as if it did not exist."""
    return db.session.scalars(
        select(Appointment)
        .join(Slot)
        .where(Appointment.id == appointment_id, Slot.organisation_id == organisation_id)
    ).first()


def agenda(
    counsellor: Counsellor, start: datetime, end: datetime, whole_organisation: bool = False
) -> list[Appointment]:
    """The counsellor's own appointments between two moments (or all the organisation's),
    soonest first, with their people."""
    owner = (
        Slot.organisation_id == counsellor.organisation_id
        if whole_organisation
        else Slot.counsellor_id == counsellor.id
    )
    return list(
        db.session.scalars(
            select(Appointment)
            .join(Slot)
            .options(joinedload(Appointment.slot), joinedload(Appointment.beneficiary))
            .where(
                owner,
                Slot.starts_at >= start,
                Slot.starts_at < end,
                Appointment.status.not_in(
                    [AppointmentStatus.CANCELLED, AppointmentStatus.DECLINED]
                ),
            )
            .order_by(Slot.starts_at, Appointment.id)
        )
    )


def appointments_of_person(organisation_id: int, beneficiary_id: int) -> list[Appointment]:
    """Every appointment of the person on the organisation's slots, the latest first: what
    other organisations booked with them is theirs to show."""
    return list(
        db.session.scalars(
            select(Appointment)
            .join(Slot)
            .where(
                Appointment.beneficiary_id == beneficiary_id,
                Slot.organisation_id == organisation_id,
            )
            .order_by(Slot.starts_at.desc(), Appointment.id.desc())
        )
    )
