"""Builders of valid rows and of valid API bodies, in one place; each takes overrides for
what a test cares about."""

import itertools
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pyotp
from sqlalchemy import select

from portal.appointments.models import Appointment, Slot, SlotMode, SlotPurpose
from portal.beneficiaries.models import Beneficiary, FollowUp
from portal.core.clock import PARIS, paris_today, utcnow
from portal.core.holidays import holiday_name
from portal.extensions import db
from portal.offers import services as offers
from portal.offers.models import Offer
from portal.offers.places import EARTH_RADIUS_KM, place_of_postal_code
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
    organisation: Organisation | None = None,
    email: str | None = None,
    is_admin: bool = False,
    two_step: bool | None = None,
) -> Counsellor:
    """A counsellor; `two_step` None: enrolled in two-step sign-in when the account must be
    (administrators), as a working account is. Read the secret from `totp_secret`."""
    organisation = organisation or make_organisation()
    counsellor = organisations.create_counsellor(
        organisation,
        email or f"conseiller{next(_numbers)}@example.org",
        "Claire Muller",
        PASSWORD,
        is_admin,
    )
    if two_step or (two_step is None and counsellor.must_use_two_step):
        enrol_two_step(counsellor)
    db.session.commit()
    return counsellor


def enrol_two_step(counsellor: Counsellor) -> str:
    """Two-step sign-in on, without recovery codes (their Argon2 hashes cost a second)."""
    counsellor.totp_secret = pyotp.random_base32()
    counsellor.totp_enabled_at = utcnow()
    db.session.commit()
    return counsellor.totp_secret


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
    if "language" in fields:  # as the back office sends it
        values["language_source"] = "backoffice"
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


# -- Offers placed at known distances ------------------------------------------------------

STRASBOURG = place_of_postal_code("67000")


def point_at(km: float, bearing: float = 0.0, latitude=None, longitude=None):
    """(latitude, longitude) `km` from a point (Strasbourg's by default) along `bearing`."""
    latitude = STRASBOURG.latitude if latitude is None else latitude
    longitude = STRASBOURG.longitude if longitude is None else longitude
    phi1, lambda1 = math.radians(latitude), math.radians(longitude)
    theta, delta = math.radians(bearing), km / EARTH_RADIUS_KM
    phi2 = math.asin(
        math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta)
    )
    lambda2 = lambda1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi1),
        math.cos(delta) - math.sin(phi1) * math.sin(phi2),
    )
    return math.degrees(phi2), math.degrees(lambda2)


def offer_fields(**overrides) -> dict[str, Any]:
    """A valid offer in Strasbourg, as the back office sends it (its own coordinates)."""
    fields = {
        "kind": "immersion",
        "title": "Immersion en boulangerie",
        "description": "Deux semaines pour découvrir le métier.",
        "provider_name": "Boulangerie Kieffer",
        "address": "3 rue des Orfèvres",
        "postal_code": "67000",
        "city": "Strasbourg",
        "latitude": STRASBOURG.latitude,
        "longitude": STRASBOURG.longitude,
        "remote": False,
        "starts_on": paris_today() + timedelta(days=30),
        "ends_on": paris_today() + timedelta(days=44),
        "hours_per_week": 35,
        "seats": 2,
        "rome_code": "D1102",
        "url": None,
        "expires_on": None,
    }
    fields.update(overrides)
    return fields


def make_offer(
    organisation: Organisation | None = None,
    external_id: str | None = None,
    km: float | None = None,
    bearing: float = 0.0,
    commit: bool = True,
    **overrides,
) -> Offer:
    """An offer put as the API puts it; `km` places it that far from Strasbourg."""
    organisation = organisation or make_organisation()
    if km is not None:
        overrides["latitude"], overrides["longitude"] = point_at(km, bearing)
    offer = offers.upsert_offer(
        organisation, external_id or f"OFFER-{next(_numbers)}", offer_fields(**overrides)
    ).offer
    if commit:
        db.session.commit()
    return offer


# -- The back-office API ------------------------------------------------------------------

API = "/api/v1"


class Api:
    """The test client speaking to /api/v1 with one organisation's key."""

    def __init__(self, client, key: str | None) -> None:
        self.client = client
        self.key = key

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        headers.update(extra or {})
        return headers

    def open(self, method: str, path: str, *, headers=None, **kwargs):
        response = self.client.open(
            API + path, method=method, headers=self.headers(headers), **kwargs
        )
        response.close()
        return response

    def get(self, path: str, **kwargs):
        return self.open("GET", path, **kwargs)

    def put(self, path: str, json: Any = None, **kwargs):
        return self.open("PUT", path, json=json, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs):
        return self.open("POST", path, json=json, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.open("DELETE", path, **kwargs)

    def events(self, **params) -> list[dict]:
        response = self.get("/events", query_string=params)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()["events"]


@dataclass
class Tenant:
    organisation: Organisation
    counsellor: Counsellor
    key: str
    api: Api

    @property
    def slug(self) -> str:
        return self.organisation.slug


def beneficiary_body(**overrides) -> dict[str, Any]:
    body = {
        "first_name": "Amina",
        "last_name": "Diallo",
        "birth_date": "1990-05-17",
        "phone": "+33612345678",
        "email": "amina.diallo@example.org",
        "language": "fr",
        "caf_number": None,
        "france_travail_id": None,
        "role": "demandeur",
        "postal_code": "67000",
        "rsa_registration_date": (date.today() - timedelta(days=20)).isoformat(),
        "referent": {
            "name": "Claire Muller",
            "email": "claire.muller@example.org",
            "phone": "03 88 76 67 67",
        },
        "sms_consent": True,
    }
    body.update(overrides)
    return body


def step_body(**overrides) -> dict[str, Any]:
    body = {
        "kind": "training",
        "title": "Remise à niveau en français",
        "status": "in_progress",
        "starts_on": (date.today() - timedelta(days=3)).isoformat(),
        "ends_on": None,
        "organisation_name": "GRETA Strasbourg",
        "description": "Deux matinées par semaine.",
    }
    body.update(overrides)
    return body


def in_days(days: float, hour: int = 10) -> str:
    """An RFC 3339 date-time about `days` from now at `hour` Paris time, on a day that is a
    public holiday in none of the tests' departments."""
    day = (datetime.now(PARIS) + timedelta(days=days)).date()
    while holiday_name(day, "67") or holiday_name(day, "29"):
        day += timedelta(days=1)
    moment = datetime(day.year, day.month, day.day, hour, 0, tzinfo=PARIS)
    return moment.isoformat()


def slot_body(tenant: Tenant, **overrides) -> dict[str, Any]:
    body = {
        "counsellor_email": tenant.counsellor.email,
        "starts_at": in_days(7),
        "duration_minutes": 30,
        "mode": "in_person",
        "location": "1 place du Quartier Blanc, 67000 Strasbourg",
        "purpose": "follow_up",
        "reserved_for": None,
    }
    body.update(overrides)
    return body


def offer_body(**overrides) -> dict[str, Any]:
    """offer_fields() as the back office sends it in JSON, with its own link and expiry."""
    fields = offer_fields(
        latitude=48.5819,
        longitude=7.7500,
        starts_on=date.today() + timedelta(days=30),
        ends_on=date.today() + timedelta(days=44),
        url="https://example.org/offres/42",
        expires_on=date.today() + timedelta(days=25),
    )
    body = {name: v.isoformat() if isinstance(v, date) else v for name, v in fields.items()}
    body.update(overrides)
    return body


def put_beneficiary(tenant: Tenant, external_id: str, **overrides) -> dict[str, Any]:
    response = tenant.api.put(f"/beneficiaries/{external_id}", beneficiary_body(**overrides))
    assert response.status_code in (200, 201), response.get_data(as_text=True)
    return response.get_json()


def person_of(tenant: Tenant, external_id: str) -> Beneficiary:
    return db.session.scalars(
        select(Beneficiary)
        .join(FollowUp)
        .where(
            FollowUp.organisation_id == tenant.organisation.id,
            FollowUp.external_id == external_id,
        )
    ).one()


def book(
    tenant: Tenant, external_id: str, starts_in: timedelta = timedelta(days=3), **fields
) -> Appointment:
    """A slot of `tenant` booked by the person `tenant` calls `external_id`, made directly:
    booking is done by beneficiaries on the portal's pages, not through this API."""
    slot = make_slot(
        tenant.counsellor,
        starts_in=starts_in,
        external_id=fields.pop("slot_external_id", f"SLOT-{next(_numbers)}"),
    )
    return make_appointment(slot, person_of(tenant, external_id), **fields)
