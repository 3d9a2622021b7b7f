"""Fixtures of the back-office API contract suite: organisations with their keys, and
builders of valid bodies that each test bends to what it checks."""

import itertools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from portal.appointments.models import Appointment
from portal.beneficiaries.models import Beneficiary, FollowUp
from portal.core.hashing import hash_secret
from portal.extensions import db
from portal.organisations.models import Counsellor, Organisation
from portal.organisations.services import create_api_key, create_organisation
from tests.factories import PASSWORD, make_appointment, make_slot

API = "/api/v1"
_numbers = itertools.count(1)


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


# Counsellors' passwords play no part here: one Argon2 hash for all keeps the suite fast.
_PASSWORD_HASH = hash_secret(PASSWORD)


@pytest.fixture
def make_tenant(app, client):
    def make(slug: str | None = None, department: str = "67") -> Tenant:
        # One commit for the three rows: the suite makes two organisations a test.
        organisation = create_organisation(
            slug or f"org-{next(_numbers)}", "Organisation", department
        )
        counsellor = Counsellor(
            organisation=organisation,
            email=f"conseil-{organisation.slug}@example.org",
            name="Claire Muller",
            password_hash=_PASSWORD_HASH,
        )
        db.session.add(counsellor)
        _api_key, key = create_api_key(organisation, "back office")
        db.session.commit()
        return Tenant(organisation, counsellor, key, Api(client, key))

    return make


@pytest.fixture
def org_a(make_tenant) -> Tenant:
    """A department (Bas-Rhin: Alsace-Moselle holidays)."""
    return make_tenant("dep-67", "67")


@pytest.fixture
def org_b(make_tenant) -> Tenant:
    """Another organisation, in Finistère, with its own key."""
    return make_tenant("plie-29", "29")


# -- Bodies --------------------------------------------------------------------------------


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
    from zoneinfo import ZoneInfo

    from portal.core.holidays import holiday_name

    day = (datetime.now(ZoneInfo("Europe/Paris")) + timedelta(days=days)).date()
    while holiday_name(day, "67") or holiday_name(day, "29"):
        day += timedelta(days=1)
    moment = datetime(day.year, day.month, day.day, hour, 0, tzinfo=ZoneInfo("Europe/Paris"))
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
    body = {
        "kind": "immersion",
        "title": "Immersion en boulangerie",
        "description": "Deux semaines pour découvrir le métier.",
        "provider_name": "Boulangerie Kieffer",
        "address": "3 rue des Orfèvres",
        "postal_code": "67000",
        "city": "Strasbourg",
        "latitude": 48.5819,
        "longitude": 7.7500,
        "remote": False,
        "starts_on": (date.today() + timedelta(days=30)).isoformat(),
        "ends_on": (date.today() + timedelta(days=44)).isoformat(),
        "hours_per_week": 35,
        "seats": 2,
        "rome_code": "D1102",
        "url": "https://example.org/offres/42",
        "expires_on": (date.today() + timedelta(days=25)).isoformat(),
    }
    body.update(overrides)
    return body


# -- Assertions and shortcuts ---------------------------------------------------------------


def assert_problem(response, status: int, field: str | None = None) -> dict[str, Any]:
    """An RFC 9457 problem with the contract's members; for a 422, `field` among errors."""
    text = response.get_data(as_text=True)
    assert response.status_code == status, text
    assert response.mimetype == "application/problem+json", response.headers
    problem = response.get_json(force=True)
    for member in ("type", "title", "detail"):
        assert isinstance(problem.get(member), str) and problem[member], problem
    assert problem["status"] == status, problem
    if status == 422:
        assert isinstance(problem.get("errors"), list) and problem["errors"], problem
        for error in problem["errors"]:
            assert isinstance(error["field"], str) and isinstance(error["message"], str)
            assert error["field"] == "" or error["field"].startswith("/"), error
    if field is not None:
        assert field in [error["field"] for error in problem.get("errors") or []], problem
    return problem


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
