"""Builders of valid rows; each takes overrides for what a test cares about."""

import itertools
from datetime import date, timedelta

from portal.appointments.models import Appointment, Slot, SlotMode, SlotPurpose
from portal.beneficiaries.models import Beneficiary, FollowUp
from portal.core.clock import utcnow
from portal.extensions import db
from portal.organisations import services as organisations
from portal.organisations.models import Counsellor, Organisation
from portal.pathway.models import PathwayStep, StepKind, StepStatus

_numbers = itertools.count(1)
PASSWORD = "correct horse battery staple"


def make_organisation(slug: str | None = None, department_code: str = "67") -> Organisation:
    n = next(_numbers)
    organisation = organisations.create_organisation(
        slug or f"org-{n}", f"Organisation {n}", department_code
    )
    db.session.commit()
    return organisation


def make_counsellor(
    organisation: Organisation | None = None, email: str | None = None, is_admin: bool = False
) -> Counsellor:
    organisation = organisation or make_organisation()
    counsellor = organisations.create_counsellor(
        organisation,
        email or f"conseiller{next(_numbers)}@example.org",
        "Claire Muller",
        PASSWORD,
        is_admin,
    )
    db.session.commit()
    return counsellor


def make_beneficiary(
    organisation: Organisation | None = None, external_id: str | None = None, **fields
) -> Beneficiary:
    organisation = organisation or make_organisation()
    n = next(_numbers)
    values = {
        "first_name": "Amina",
        "last_name": "Diallo",
        "birth_date": date(1990, 5, 17),
        "phone": f"+336{n:08d}",
        "postal_code": "67000",
        "rsa_registration_date": date.today() - timedelta(days=20),
    }
    values.update(fields)
    beneficiary = Beneficiary(**values)
    db.session.add(beneficiary)
    db.session.add(
        FollowUp(
            organisation=organisation,
            beneficiary=beneficiary,
            external_id=external_id or f"DOS-{n}",
            referent_name="Claire Muller",
            referent_email="claire.muller@example.org",
        )
    )
    db.session.commit()
    return beneficiary


def make_slot(
    counsellor: Counsellor | None = None, starts_in: timedelta = timedelta(days=2), **fields
) -> Slot:
    counsellor = counsellor or make_counsellor()
    values = {
        "organisation_id": counsellor.organisation_id,
        "external_id": f"SLOT-{next(_numbers)}",
        "counsellor": counsellor,
        "starts_at": utcnow().replace(microsecond=0) + starts_in,
        "duration_minutes": 30,
        "mode": SlotMode.IN_PERSON,
        "location": "1 place du Quartier Blanc, 67000 Strasbourg",
        "purpose": SlotPurpose.FOLLOW_UP,
    }
    values.update(fields)
    slot = Slot(**values)
    db.session.add(slot)
    db.session.commit()
    return slot


def make_appointment(slot: Slot, beneficiary: Beneficiary, **fields) -> Appointment:
    appointment = Appointment(slot=slot, beneficiary=beneficiary, **fields)
    db.session.add(appointment)
    db.session.commit()
    return appointment


def make_step(beneficiary: Beneficiary, organisation: Organisation, **fields) -> PathwayStep:
    values = {
        "external_id": f"STEP-{next(_numbers)}",
        "kind": StepKind.TRAINING,
        "title": "Remise à niveau en français",
        "status": StepStatus.IN_PROGRESS,
        "starts_on": date.today() - timedelta(days=3),
    }
    values.update(fields)
    step = PathwayStep(beneficiary=beneficiary, organisation=organisation, **values)
    db.session.add(step)
    db.session.commit()
    return step


def make_pathway(**person_fields):
    """A person followed by a department and a PLIE, with a done, a current and a planned
    step from both: (person, department, plie)."""
    department = make_organisation(slug="bas-rhin")
    department.name = "Département du Bas-Rhin"
    plie = make_organisation(slug="plie-strasbourg")
    plie.name = "PLIE de Strasbourg"
    values = {"first_name": "Amina", "rsa_registration_date": date.today() - timedelta(days=20)}
    person = make_beneficiary(department, **{**values, **person_fields})
    db.session.add(
        FollowUp(
            organisation=plie,
            beneficiary=person,
            external_id="PLIE-1",
            referent_name="Karim Benali",
            referent_email="karim@plie.example",
            referent_phone="+33388000000",
        )
    )
    db.session.commit()
    make_step(
        person,
        department,
        kind=StepKind.ORIENTATION,
        status=StepStatus.DONE,
        title="Orientation vers un accompagnement",
        starts_on=date.today() - timedelta(days=15),
    )
    make_step(
        person,
        plie,
        kind=StepKind.TRAINING,
        status=StepStatus.IN_PROGRESS,
        title="Remise à niveau en français",
        starts_on=date.today() - timedelta(days=3),
        organisation_name="Greta",
    )
    make_step(
        person,
        department,
        kind=StepKind.IMMERSION,
        status=StepStatus.PLANNED,
        title="Immersion en boulangerie",
        starts_on=date.today() + timedelta(days=10),
        description="Une semaine pour découvrir le métier.",
    )
    return person, department, plie
