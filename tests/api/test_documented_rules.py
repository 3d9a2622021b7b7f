"""What the OpenAPI document says about a value is what the API does with it."""

import re

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.api.schemas import EMAIL, HTTPS_URL, MOMENT, STARTS_AT
from portal.core.phones import MOBILE_PATTERN, normalise_mobile
from tests.factories import API, beneficiary_body, offer_body, slot_body


@pytest.fixture
def document(client):
    return client.get(f"{API}/openapi.json").get_json()


def _schema(document, name):
    return jsonschema_rs.validator_for(
        {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    )


@settings(max_examples=300, database=None, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.from_regex(MOBILE_PATTERN, fullmatch=True))
def test_every_number_the_mobile_pattern_shows_is_taken(number):
    assert normalise_mobile(number).startswith("+")


@pytest.mark.parametrize(
    ("phone", "status"),
    [
        ("06 12 34 56 78", 201),
        ("+33 6 12 34 56 78", 201),
        ("0692 12 34 56", 201),
        ("+447911123456", 422),  # a foreign mobile: not in the pattern
        ("03 88 76 67 67", 422),
    ],
)
def test_the_beneficiary_phone_follows_the_pattern(org_a, phone, status):
    assert bool(re.fullmatch(MOBILE_PATTERN, phone)) == (status == 201)
    response = org_a.api.put("/beneficiaries/DOS-1", beneficiary_body(phone=phone))
    assert response.status_code == status, response.get_json()


def test_a_referents_overseas_landline_is_taken(org_a):
    referent = {"name": "Claire", "email": "claire@cg974.fr", "phone": "0262 90 12 34"}
    response = org_a.api.put("/beneficiaries/DOS-1", beneficiary_body(referent=referent))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["referent"]["phone"] == "+262262901234"


def test_a_query_parameter_given_twice_is_a_422(org_a):
    response = org_a.api.get("/events?limit=5&limit=5")
    assert response.status_code == 422
    assert response.get_json()["errors"] == [
        {"field": "/limit", "message": "limit is given more than once: give it once"}
    ]


def test_an_empty_query_parameter_is_absent(org_a):
    assert org_a.api.get("/appointments?status=&from=&to=&after=").status_code == 200
    assert org_a.api.get("/events?after=&limit=").status_code == 200
    org_a.api.put("/slots/SL-1", slot_body(org_a))
    assert org_a.api.delete("/slots/SL-1?cancel_booking=").status_code == 204


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("2026-03-02", 200),
        ("2024-02-29", 200),
        ("2026-03-02T09:30:00+01:00", 200),
        ("2026-03-02T09:30Z", 200),
        ("2025-02-29", 422),
        ("2026-06-31", 422),
        ("1899-12-31", 422),
        ("3000-01-01", 422),
        ("2026-03-02T09:30:00", 422),  # no offset
        ("2026-03-02 09:30:00+01:00", 422),
    ],
)
def test_from_follows_its_pattern(org_a, value, status):
    assert bool(re.fullmatch(MOMENT, value)) == (status == 200)
    assert org_a.api.get("/appointments", query_string={"from": value}).status_code == status


@pytest.mark.parametrize(("after", "status"), [("2147483647", 200), ("2147483648", 422)])
def test_after_has_the_documented_maximum(org_a, document, after, status):
    parameters = document["paths"]["/api/v1/appointments"]["get"]["parameters"]
    assert next(p for p in parameters if p["name"] == "after")["schema"]["maximum"] == 2**31 - 1
    assert org_a.api.get(f"/appointments?after={after}").status_code == status


def test_integers_may_be_written_with_a_zero_fraction(org_a):
    """JSON Schema counts 30.0 as an integer; "30" and true are still refused."""
    assert org_a.api.put("/slots/SL-1", slot_body(org_a, duration_minutes=30.0)).status_code == 201
    for wrong in ("30", True, 30.5):
        answer = org_a.api.put("/slots/SL-2", slot_body(org_a, duration_minutes=wrong))
        assert answer.status_code == 422


def test_latitude_and_longitude_come_together_in_the_document_too(org_a, document):
    offer = _schema(document, "OfferIn")
    cases = [(48.5, 7.7, 201), (None, None, 201), (48.5, None, 422), (None, 7.7, 422)]
    for n, (latitude, longitude, status) in enumerate(cases):
        body = offer_body(latitude=latitude, longitude=longitude)
        assert offer.is_valid(body) == (status == 201)
        assert org_a.api.put(f"/offers/O-{n}", body).status_code == status


def test_an_in_person_slot_needs_a_location_in_the_document_too(org_a, document):
    slot = _schema(document, "SlotIn")
    body = slot_body(org_a, mode="in_person", location=None)
    assert not slot.is_valid(body)
    assert org_a.api.put("/slots/SL-1", body).status_code == 422


@pytest.mark.parametrize(
    ("url", "matches"),
    [
        ("https://backoffice.example.org/hooks/portal?x=1", True),
        ("https://93.184.215.14:8443/h", True),
        ("http://backoffice.example.org/h", False),
        ("https://user:pw@backoffice.example.org/h", False),
        ("https://backoffice.example.org:70000/h", False),
    ],
)
def test_webhook_urls_follow_the_pattern_unless_insecure(org_a, app, url, matches):
    assert bool(re.fullmatch(HTTPS_URL, url)) == matches
    app.config["WEBHOOK_ALLOW_INSECURE"] = False
    body = {"url": url, "secret": "s" * 32}
    answer = org_a.api.put("/webhook", body)
    if not matches:
        assert answer.status_code == 422
        assert answer.get_json()["errors"][0]["field"] == "/url"


def test_the_other_patterns_are_the_documents(document):
    schemas = document["components"]["schemas"]
    assert schemas["SlotIn"]["properties"]["starts_at"]["pattern"] == STARTS_AT
    assert schemas["SlotIn"]["properties"]["counsellor_email"]["pattern"] == EMAIL
    assert schemas["WebhookIn"]["properties"]["url"]["pattern"] == HTTPS_URL
    assert schemas["BeneficiaryFields"]["properties"]["phone"]["pattern"] == MOBILE_PATTERN
    assert schemas["StepIn"]["properties"]["title"]["pattern"] == "^[^\\u0000]*$"


def test_links_lead_from_a_resource_to_what_can_be_done_with_it(document):
    put = document["paths"]["/api/v1/beneficiaries/{external_id}"]["put"]
    links = put["responses"]["201"]["links"]
    assert links["get_beneficiary"] == {
        "operationId": "get_beneficiary",
        "parameters": {"external_id": "$response.body#/external_id"},
    }
    listing = document["paths"]["/api/v1/appointments"]["get"]["responses"]["200"]["links"]
    assert listing["set_appointment_status"]["parameters"] == {
        "appointment_id": "$response.body#/appointments/0/id"
    }
    operation_ids = {
        operation["operationId"]
        for item in document["paths"].values()
        for operation in item.values()
    }
    for item in document["paths"].values():
        for operation in item.values():
            for response in operation["responses"].values():
                for link in response.get("links", {}).values():
                    assert link["operationId"] in operation_ids
