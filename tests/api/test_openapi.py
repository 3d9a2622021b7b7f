"""GET /api/v1/openapi.json: OpenAPI 3.1, every routed operation, and the answers match it."""

import re
from datetime import timedelta

import jsonschema_rs
import pytest

from tests.factories import (
    API,
    beneficiary_body,
    book,
    offer_body,
    put_beneficiary,
    slot_body,
    step_body,
)

_ARGUMENT = re.compile(r"<(?:\w+:)?(\w+)>")


@pytest.fixture
def document(client):
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def test_no_key_is_needed_and_it_is_openapi_3_1(document):
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"]
    # The contract: "The OpenAPI document says 1.1".
    assert document["info"]["version"] == "1.1"
    assert document["paths"]


def _routed(app) -> set[tuple[str, str]]:
    operations = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API + "/") or rule.endpoint == "api.openapi":
            continue
        path = _ARGUMENT.sub(r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operations.add((path, method.lower()))
    return operations


def test_every_routed_operation_is_documented_and_nothing_else(app, document):
    documented = {
        (path, method)
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "put", "post", "delete", "patch"}
    }
    routed = _routed(app)
    assert len(routed) >= 19
    assert routed == documented, (routed - documented, documented - routed)


CONTRACT_OPERATIONS = [
    ("/api/v1/beneficiaries/{external_id}", "put"),
    ("/api/v1/beneficiaries/{external_id}", "get"),
    ("/api/v1/beneficiaries/{external_id}", "delete"),
    ("/api/v1/beneficiaries/{external_id}/invitation", "post"),
    ("/api/v1/beneficiaries:batch", "post"),
    ("/api/v1/beneficiaries/{external_id}/steps/{step_external_id}", "put"),
    ("/api/v1/beneficiaries/{external_id}/steps/{step_external_id}", "delete"),
    ("/api/v1/beneficiaries/{external_id}/steps", "get"),
    ("/api/v1/slots/{external_id}", "put"),
    ("/api/v1/slots/{external_id}", "delete"),
    ("/api/v1/appointments", "get"),
    ("/api/v1/appointments/{appointment_id}/status", "post"),
    ("/api/v1/offers/{external_id}", "put"),
    ("/api/v1/offers/{external_id}", "delete"),
    ("/api/v1/events", "get"),
    ("/api/v1/webhook", "put"),
    ("/api/v1/webhook", "delete"),
]


@pytest.mark.parametrize("path, method", CONTRACT_OPERATIONS)
def test_every_contract_operation_is_routed(app, path, method):
    templated = {(re.sub(r"\{\w+\}", "{}", p), m) for p, m in _routed(app)}
    assert (re.sub(r"\{\w+\}", "{}", path), method) in templated


def _validator(document, schema):
    root = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
    root["components"] = document["components"]
    return jsonschema_rs.validator_for(root)


def _operation(document, method, url):
    """The documented operation whose path template matches `url`."""
    path = url.split("?")[0]
    for template, item in document["paths"].items():
        pattern = "^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in item:
            return template, item[method.lower()]
    raise AssertionError(f"{method} {path} is not in the document")


def _scenario(org_a):
    """Requests over every operation, good and bad, for their answers to be checked."""
    put_beneficiary(org_a, "DOS-1")
    appointment = book(org_a, "DOS-1", starts_in=timedelta(days=3))
    past = book(org_a, "DOS-1", starts_in=-timedelta(days=3))
    return [
        ("PUT", "/beneficiaries/DOS-2", beneficiary_body(phone="+33699999999")),
        ("PUT", "/beneficiaries/DOS-2", beneficiary_body(phone="+33699999999")),
        ("PUT", "/beneficiaries/DOS-3", beneficiary_body(phone="03 88 00 00 00")),
        ("GET", "/beneficiaries/DOS-1", None),
        ("GET", "/beneficiaries/NOBODY", None),
        ("GET", "/beneficiaries/a%20b", None),
        (
            "POST",
            "/beneficiaries:batch",
            {"items": [{"external_id": "X-1", **beneficiary_body()}, {}]},
        ),
        ("POST", "/beneficiaries:batch", {"items": "no"}),
        ("PUT", "/beneficiaries/DOS-1/steps/S-1", step_body()),
        ("PUT", "/beneficiaries/DOS-1/steps/S-2", step_body(kind="nope")),
        ("GET", "/beneficiaries/DOS-1/steps", None),
        ("DELETE", "/beneficiaries/DOS-1/steps/S-1", None),
        ("PUT", "/slots/SL-1", slot_body(org_a)),
        ("PUT", "/slots/SL-2", slot_body(org_a, duration_minutes=5)),
        ("PUT", "/slots/SL-3", slot_body(org_a, starts_at="2026-12-26T10:00:00+01:00")),
        ("GET", "/slots/SL-1", None),
        ("DELETE", "/slots/SL-1", None),
        ("DELETE", f"/slots/{appointment.slot.external_id}", None),
        ("DELETE", f"/slots/{appointment.slot.external_id}?cancel_booking=maybe", None),
        ("GET", "/appointments", None),
        ("GET", "/appointments?status=nope", None),
        ("POST", f"/appointments/{past.id}/status", {"status": "attended", "reason": None}),
        ("POST", f"/appointments/{appointment.id}/status", {"status": "attended"}),
        ("POST", f"/appointments/{appointment.id}/status", {"status": "bogus"}),
        ("POST", "/appointments/999999/status", {"status": "confirmed"}),
        ("PUT", "/offers/O-1", offer_body()),
        ("PUT", "/offers/O-2", offer_body(latitude=1.0, longitude=None)),
        ("GET", "/offers/O-1", None),
        ("DELETE", "/offers/O-1", None),
        ("GET", "/events", None),
        ("GET", "/events?limit=0", None),
        ("PUT", "/webhook", {"url": "https://93.184.215.14/h", "secret": "s" * 32}),
        ("PUT", "/webhook", {"url": "https://127.0.0.1/h", "secret": "s" * 32}),
        ("GET", "/webhook", None),
        ("DELETE", "/webhook", None),
        ("POST", "/beneficiaries/DOS-1/invitation", None),
        ("DELETE", "/beneficiaries/DOS-1", None),
    ]


def test_the_answers_match_the_document(org_a, document, app):
    app.config["WEBHOOK_ALLOW_INSECURE"] = False
    mismatches = []
    for method, url, body in _scenario(org_a):
        response = org_a.api.open(method, url, json=body)
        template, operation = _operation(document, method, API + url)
        status = str(response.status_code)
        answer = f"{method} {url} -> {status}"
        documented = operation["responses"].get(status)
        if documented is None:
            mismatches.append(f"{answer}: status not documented for {template}")
            continue
        content = documented.get("content")
        if response.status_code in (202, 204):
            continue
        if not content or response.mimetype not in content:
            mismatches.append(f"{answer}: {response.mimetype} not documented")
            continue
        schema = content[response.mimetype]["schema"]
        errors = [e.message for e in _validator(document, schema).iter_errors(response.get_json())]
        if errors:
            mismatches.append(f"{answer}: {errors[:3]}")
    assert mismatches == [], "\n".join(mismatches)


def test_the_documented_request_bodies_refuse_what_the_api_refuses(document):
    """The request schemas forbid unknown fields, as the API does."""
    put = document["paths"]["/api/v1/beneficiaries/{external_id}"]["put"]
    schema = put["requestBody"]["content"]["application/json"]["schema"]
    validator = _validator(document, schema)
    assert validator.is_valid(beneficiary_body())
    assert not validator.is_valid(beneficiary_body(nickname="Mina"))
    assert not validator.is_valid({k: v for k, v in beneficiary_body().items() if k != "phone"})
