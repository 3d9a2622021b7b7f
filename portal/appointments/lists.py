"""Appointments as counsellors and the back office look them up."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import contains_eager, joinedload

from portal.appointments.models import (
    LIVE,
    Appointment,
    AppointmentStatus,
    Slot,
)
from portal.beneficiaries.models import Beneficiary, FollowUp
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


@dataclass(frozen=True)
class AgendaSession:
    """A collective session in the agenda: one entry, however many people booked it."""

    slot: Slot
    appointments: list[Appointment]


def agenda(
    counsellor: Counsellor, start: datetime, end: datetime, whole_organisation: bool = False
) -> list[Appointment | AgendaSession]:
    """The counsellor's own appointments between two moments (or all the organisation's),
    soonest first, with their people; a session's appointments gathered in one entry."""
    owner = (
        Slot.organisation_id == counsellor.organisation_id
        if whole_organisation
        else Slot.counsellor_id == counsellor.id
    )
    entries: list[Appointment | AgendaSession] = []
    sessions: dict[int, AgendaSession] = {}
    for appointment in db.session.scalars(
        select(Appointment)
        .join(Slot)
        .options(joinedload(Appointment.slot), joinedload(Appointment.beneficiary))
        .where(
            owner,
            Slot.starts_at >= start,
            Slot.starts_at < end,
            Appointment.status.in_(LIVE),
        )
        .order_by(Slot.starts_at, Appointment.id)
    ):
        if not appointment.slot.is_session:
            entries.append(appointment)
            continue
        if appointment.slot_id not in sessions:
            sessions[appointment.slot_id] = AgendaSession(appointment.slot, [])
            entries.append(sessions[appointment.slot_id])
        sessions[appointment.slot_id].appointments.append(appointment)
    return entries


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


def session_attendees(organisation_id: int, slot_id: int) -> tuple[Slot, list[Appointment]] | None:
    """One of the organisation's collective sessions and the appointments booked on it,
    people the organisation follows only, live ones first then by name; another
    organisation's session, or a one-person slot, is as if it did not exist."""
    slot = db.session.scalars(
        select(Slot).where(
            Slot.id == slot_id, Slot.organisation_id == organisation_id, Slot.capacity > 1
        )
    ).first()
    if slot is None:
        return None
    appointments = db.session.scalars(
        select(Appointment)
        .join(Beneficiary, Beneficiary.id == Appointment.beneficiary_id)
        .join(
            FollowUp,
            (FollowUp.beneficiary_id == Beneficiary.id)
            & (FollowUp.organisation_id == organisation_id),
        )
        .options(contains_eager(Appointment.beneficiary))
        .where(Appointment.slot_id == slot.id)
        .order_by(
            Appointment.status.not_in(LIVE),  # the live ones first
            Beneficiary.last_name,
            Beneficiary.first_name,
            Appointment.id,
        )
    ).all()
    return slot, list(appointments)
