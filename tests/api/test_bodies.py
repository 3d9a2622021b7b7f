"""Every operation that takes a body: malformed JSON is 400, an unknown field is 422 naming
it, and a body over 1 MiB is 413, all as problem+json."""

import json

import pytest

from tests.api.conftest import assert_problem
from tests.factories import (
    beneficiary_body,
    book,
    offer_body,
    put_beneficiary,
    slot_body,
    step_body,
)

OPERATIONS = [
    ("PUT", "/beneficiaries/D-2", lambda t: beneficiary_body()),
    ("POST", "/beneficiaries:batch", lambda t: {"items": []}),
    ("PUT", "/beneficiaries/D-1/steps/S-1", lambda t: step_body()),
    ("PUT", "/slots/S-1", lambda t: slot_body(t)),
    ("POST", "/appointments/{appointment}/status", lambda t: {"status": "confirmed"}),
    ("PUT", "/offers/O-1", lambda t: offer_body()),
    ("PUT", "/webhook", lambda t: {"url": "https://93.184.215.14/h", "secret": "s" * 32}),
]
IDS = [f"{method} {path}" for method, path, _body in OPERATIONS]


@pytest.fixture
def ready(org_a):
    put_beneficiary(org_a, "D-1")
    return {"appointment": book(org_a, "D-1").id}


@pytest.mark.parametrize("method, path, body", OPERATIONS, ids=IDS)
def test_the_valid_body_is_accepted(org_a, ready, method, path, body):
    """The baseline the tests below bend: without it their 4xx would prove nothing."""
    response = org_a.api.open(method, path.format(**ready), json=body(org_a))
    assert response.status_code in (200, 201), response.get_data(as_text=True)


@pytest.mark.parametrize("raw", [b"{", b"{'a': 1}", b'{"a": tru}', b"\xc3\x28"])
@pytest.mark.parametrize("method, path, body", OPERATIONS, ids=IDS)
def test_malformed_json_is_400(org_a, ready, method, path, body, raw):
    response = org_a.api.open(
        method, path.format(**ready), data=raw, headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 400)


@pytest.mark.parametrize("method, path, body", OPERATIONS, ids=IDS)
def test_an_unknown_field_is_422_naming_it(org_a, ready, method, path, body):
    response = org_a.api.open(method, path.format(**ready), json={**body(org_a), "colour": "red"})
    assert_problem(response, 422, "/colour")


@pytest.mark.parametrize("method, path, body", OPERATIONS, ids=IDS)
def test_a_body_over_one_mebibyte_is_413(org_a, ready, method, path, body):
    raw = json.dumps({**body(org_a), "padding": "x" * (1024 * 1024)}).encode()
    response = org_a.api.open(
        method, path.format(**ready), data=raw, headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 413)
