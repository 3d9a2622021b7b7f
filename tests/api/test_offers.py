"""Offers: PUT, GET, DELETE."""

import pytest

from tests.api.conftest import assert_problem
from tests.factories import offer_body

OFFER_FIELDS = set(offer_body())


def test_put_get_delete(org_a):
    body = offer_body()
    created = org_a.api.put("/offers/O-1", body)
    assert created.status_code == 201, created.get_data(as_text=True)
    offer = created.get_json()
    assert OFFER_FIELDS <= set(offer)
    assert {k: offer[k] for k in OFFER_FIELDS} == body
    assert org_a.api.get("/offers/O-1").get_json() == offer

    again = org_a.api.put("/offers/O-1", body)
    assert again.status_code == 200
    assert again.get_json() == offer

    replaced = org_a.api.put("/offers/O-1", offer_body(title="Immersion en pâtisserie", seats=1))
    assert replaced.status_code == 200
    assert (replaced.get_json()["title"], replaced.get_json()["seats"]) == (
        "Immersion en pâtisserie",
        1,
    )

    deleted = org_a.api.delete("/offers/O-1")
    assert deleted.status_code == 204
    assert deleted.get_data() == b""
    assert_problem(org_a.api.get("/offers/O-1"), 404)
    assert_problem(org_a.api.delete("/offers/O-1"), 404)
    assert org_a.api.events() == []


def test_a_withdrawn_offer_can_be_put_again(org_a):
    org_a.api.put("/offers/O-1", offer_body())
    org_a.api.delete("/offers/O-1")
    response = org_a.api.put("/offers/O-1", offer_body())
    assert response.status_code == 201
    assert org_a.api.get("/offers/O-1").status_code == 200


def test_the_optional_fields_may_be_left_out(org_a):
    body = {
        "kind": "job",
        "title": "Agent d'entretien (IAE)",
        "description": "CDDI de 4 mois.",
        "provider_name": "Régie de quartier",
        "postal_code": "29200",
    }
    response = org_a.api.put("/offers/O-1", body)
    assert response.status_code == 201, response.get_data(as_text=True)
    offer = response.get_json()
    assert offer["remote"] is False
    for name in (
        "latitude",
        "longitude",
        "starts_on",
        "ends_on",
        "seats",
        "rome_code",
        "url",
        "expires_on",
    ):
        assert offer[name] is None, name


@pytest.mark.parametrize("rome_code", ["K2204", "A1101", "N4105"])
def test_a_rome_code_is_accepted(org_a, rome_code):
    assert org_a.api.put("/offers/O-1", offer_body(rome_code=rome_code)).status_code == 201


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"latitude": 48.58, "longitude": None}, ""),
        ({"latitude": None, "longitude": 7.75}, ""),
        ({"latitude": 91, "longitude": 7.75}, "/latitude"),
        ({"longitude": 181}, "/longitude"),
        ({"rome_code": "k2204"}, "/rome_code"),
        ({"rome_code": "K220"}, "/rome_code"),
        ({"rome_code": "K22045"}, "/rome_code"),
        ({"rome_code": "KK204"}, "/rome_code"),
        ({"kind": "internship"}, "/kind"),
        ({"title": ""}, "/title"),
        ({"description": None}, "/description"),
        ({"provider_name": None}, "/provider_name"),
        ({"postal_code": "2920"}, "/postal_code"),
        ({"remote": "no"}, "/remote"),
        ({"seats": -1}, "/seats"),
        ({"seats": 1.5}, "/seats"),
        ({"expires_on": "soon"}, "/expires_on"),
        ({"salary": 1800}, "/salary"),
    ],
)
def test_an_invalid_offer_is_422(org_a, overrides, field):
    response = org_a.api.put("/offers/O-1", offer_body(**overrides))
    problem = assert_problem(response, 422)
    if field:
        assert field in [e["field"] for e in problem["errors"]], problem
    assert_problem(org_a.api.get("/offers/O-1"), 404)


@pytest.mark.parametrize(
    "missing", ["kind", "title", "description", "provider_name", "postal_code"]
)
def test_a_required_offer_field_left_out_is_422(org_a, missing):
    body = offer_body()
    del body[missing]
    assert_problem(org_a.api.put("/offers/O-1", body), 422, f"/{missing}")


@pytest.mark.parametrize("external_id", ["a%20b", "O" * 65, "%C3%A9"])
def test_an_offer_external_id_outside_the_pattern_is_422(org_a, external_id):
    response = org_a.api.put(f"/offers/{external_id}", offer_body())
    assert response.status_code in (404, 422)
    assert_problem(response, response.status_code)
