"""Rate limit per key: 429 problem with Retry-After."""

import pytest

from portal.extensions import db
from portal.organisations.services import create_api_key
from tests.api.conftest import assert_problem
from tests.factories import Api, offer_body


@pytest.fixture
def app_config():
    return {"API_RATE_LIMIT": "5 per minute"}


def test_the_sixth_request_in_a_minute_is_429_with_retry_after(org_a, org_b):
    for _ in range(5):
        assert org_a.api.get("/events").status_code == 200
    refused = org_a.api.get("/events")
    assert_problem(refused, 429)
    retry_after = refused.headers.get("Retry-After")
    assert retry_after is not None and retry_after.isdigit(), refused.headers
    assert 1 <= int(retry_after) <= 60
    # The limit is per key: another organisation's key is not affected.
    assert org_b.api.get("/events").status_code == 200


def test_the_limit_counts_every_route_of_the_key(org_a):
    """600 requests a minute per key, not per key and per route."""
    assert org_a.api.get("/events").status_code == 200
    assert org_a.api.get("/appointments").status_code == 200
    assert org_a.api.put("/offers/O-1", offer_body()).status_code == 201
    assert org_a.api.get("/offers/O-1").status_code == 200
    assert org_a.api.get("/webhook").status_code == 404
    refused = org_a.api.get("/offers/O-1")
    assert_problem(refused, 429)
    assert refused.headers.get("Retry-After", "").isdigit()
    assert_problem(org_a.api.get("/events"), 429)


def test_two_keys_of_one_organisation_are_limited_apart(org_a, client):
    _api_key, key = create_api_key(org_a.organisation, "second connector")
    db.session.commit()
    second = Api(client, key)
    for _ in range(5):
        assert org_a.api.get("/events").status_code == 200
    assert_problem(org_a.api.get("/events"), 429)
    assert second.get("/events").status_code == 200


def test_the_openapi_document_is_served_whatever_the_limit(client, org_a):
    for _ in range(5):
        org_a.api.get("/events")
    assert client.get("/api/v1/openapi.json").status_code == 200
