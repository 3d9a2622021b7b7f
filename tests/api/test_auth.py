"""Authentication and isolation: a key sees only its organisation's data, and another
organisation's resource is a 404 that does not reveal it exists."""

import pytest
from sqlalchemy import select

from portal.core.clock import utcnow
from portal.extensions import db
from portal.organisations.models import ApiKey
from tests.api.conftest import assert_problem
from tests.factories import API, book, offer_body, put_beneficiary, slot_body, step_body


def _api_routes(app) -> list[tuple[str, str]]:
    """Every (method, concrete url) the app routes under /api/v1 except the public document."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API) or rule.endpoint == "api.openapi":
            continue
        url = rule.rule
        for argument in rule.arguments:
            url = url.replace(f"<int:{argument}>", "1").replace(f"<{argument}>", "X-1")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((method, url))
    return sorted(routes)


def test_every_api_route_is_listed(app):
    # Guards the parametrised test below against an empty list.
    assert len(_api_routes(app)) >= 19


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer spi_000000000000_not-a-real-key-at-all",
        "Bearer not-even-the-format",
        "Bearer " + "x" * 5000,
    ],
    ids=["missing", "empty", "scheme-only", "scheme-space", "unknown", "garbage", "huge"],
)
def test_without_a_valid_key_every_route_is_401(app, client, org_a, authorization):
    for method, url in _api_routes(app):
        headers = {} if authorization is None else {"Authorization": authorization}
        response = client.open(url, method=method, headers=headers, json={})
        assert_problem(response, 401)
        assert response.headers.get("WWW-Authenticate", "").lower().startswith("bearer"), (
            method,
            url,
        )


@pytest.mark.parametrize("scheme", ["Basic", "Token", "Bearer:", ""])
def test_a_good_key_under_another_scheme_is_401(client, org_a, scheme):
    header = f"{scheme} {org_a.key}".strip()
    response = client.get(f"{API}/events", headers={"Authorization": header})
    assert_problem(response, 401)
    assert "WWW-Authenticate" in response.headers


def test_the_scheme_is_case_insensitive(client, org_a):
    response = client.get(f"{API}/events", headers={"Authorization": f"bearer {org_a.key}"})
    assert response.status_code == 200


def test_a_key_with_a_changed_character_is_401(client, org_a):
    forged = org_a.key[:-1] + ("A" if org_a.key[-1] != "A" else "B")
    response = client.get(f"{API}/events", headers={"Authorization": f"Bearer {forged}"})
    assert_problem(response, 401)


def test_a_revoked_key_is_401(org_a):
    assert org_a.api.get("/events").status_code == 200
    key = db.session.scalars(
        select(ApiKey).where(ApiKey.organisation_id == org_a.organisation.id)
    ).one()
    key.revoked_at = utcnow()
    db.session.commit()
    assert_problem(org_a.api.get("/events"), 401)


def test_keys_are_stored_hashed(org_a):
    key = db.session.scalars(
        select(ApiKey).where(ApiKey.organisation_id == org_a.organisation.id)
    ).one()
    secret_part = org_a.key.rsplit("_", 1)[1]
    assert secret_part not in (key.key_hash or "")
    assert org_a.key not in (key.key_hash or "")


# -- Another organisation's resources: 404, never 403 ---------------------------------------


@pytest.fixture
def a_world(org_a):
    """One of every resource kind, owned by organisation A."""
    put_beneficiary(org_a, "A-1")
    assert org_a.api.put("/beneficiaries/A-1/steps/A-STEP-1", step_body()).status_code == 201
    assert org_a.api.put("/slots/A-SLOT-1", slot_body(org_a)).status_code == 201
    assert org_a.api.put("/offers/A-OFFER-1", offer_body()).status_code == 201
    appointment = book(org_a, "A-1")
    return {"appointment_id": appointment.id}


OTHERS = [
    ("GET", "/beneficiaries/A-1", None),
    ("DELETE", "/beneficiaries/A-1", None),
    ("POST", "/beneficiaries/A-1/invitation", None),
    ("GET", "/beneficiaries/A-1/steps", None),
    ("PUT", "/beneficiaries/A-1/steps/A-STEP-1", step_body(title="Écrasé")),
    ("DELETE", "/beneficiaries/A-1/steps/A-STEP-1", None),
    ("GET", "/slots/A-SLOT-1", None),
    ("DELETE", "/slots/A-SLOT-1", None),
    ("DELETE", "/slots/A-SLOT-1?cancel_booking=true", None),
    ("GET", "/offers/A-OFFER-1", None),
    ("DELETE", "/offers/A-OFFER-1", None),
    ("POST", "/appointments/{appointment_id}/status", {"status": "confirmed", "reason": None}),
]


@pytest.mark.parametrize("method, path, body", OTHERS, ids=[f"{m} {p}" for m, p, _ in OTHERS])
def test_another_organisations_resource_is_404(a_world, org_a, org_b, method, path, body):
    path = path.format(**a_world)
    response = org_b.api.open(method, path, json=body)
    assert_problem(response, 404)
    # And A's resource is untouched.
    assert org_a.api.get("/beneficiaries/A-1").status_code == 200
    steps = org_a.api.get("/beneficiaries/A-1/steps").get_json()["steps"]
    assert [(s["external_id"], s["title"]) for s in steps] == [
        ("A-STEP-1", "Remise à niveau en français")
    ]
    assert org_a.api.get("/slots/A-SLOT-1").status_code == 200
    assert org_a.api.get("/offers/A-OFFER-1").status_code == 200
    listed = org_a.api.get("/appointments").get_json()["appointments"]
    assert [a["status"] for a in listed] == ["requested"]


def test_the_404_of_another_organisation_looks_like_a_missing_one(a_world, org_b):
    theirs = org_b.api.get("/slots/A-SLOT-1")
    missing = org_b.api.get("/slots/NOBODY")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.get_json() == missing.get_json()


def test_another_organisations_appointments_and_events_are_not_listed(a_world, org_a, org_b):
    org_a.api.post(f"/appointments/{a_world['appointment_id']}/status", {"status": "confirmed"})
    assert org_a.api.events() != []
    assert org_b.api.get("/appointments").get_json()["appointments"] == []
    assert org_b.api.events() == []


def test_the_same_external_ids_in_two_organisations_are_two_resources(a_world, org_a, org_b):
    """External ids are unique per organisation: B's PUT under A's ids creates B's own."""
    assert (
        org_b.api.put("/slots/A-SLOT-1", slot_body(org_b, duration_minutes=60)).status_code == 201
    )
    assert org_b.api.put("/offers/A-OFFER-1", offer_body(title="Autre")).status_code == 201
    assert org_a.api.get("/slots/A-SLOT-1").get_json()["duration_minutes"] == 30
    assert org_a.api.get("/offers/A-OFFER-1").get_json()["title"] == "Immersion en boulangerie"
    assert org_b.api.get("/slots/A-SLOT-1").get_json()["counsellor_email"] == org_b.counsellor.email
