"""No request, however malformed, yields a 5xx: odd but well-formed JSON and queries."""

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

NUL = "\x00"

CASES = [
    # Date-times at the edges of what Python can represent, once moved to UTC or Paris.
    ("PUT", "/slots/S-1", "slot", {"starts_at": "9999-12-31T23:00:00-05:00"}),
    ("PUT", "/slots/S-1", "slot", {"starts_at": "9999-12-31T23:30:00+00:00"}),
    ("PUT", "/slots/S-1", "slot", {"starts_at": "0001-01-01T00:30:00+01:00"}),
    ("GET", "/appointments?from=9999-12-31T23:00:00-05:00", None, None),
    ("GET", "/appointments?from=0001-01-01", None, None),
    ("GET", "/appointments?to=0001-01-01T00:00:00%2B01:00", None, None),
    ("GET", "/appointments?to=9999-12-31", None, None),
    ("GET", "/appointments?from=2026-03-02T09:30:00%2B25:00", None, None),
    # Cursors: beyond the id columns, and digits int() does not read.
    ("GET", "/appointments?after=2147483648", None, None),
    ("GET", "/appointments?after=4611686018427387904", None, None),
    ("GET", "/appointments?after=99999999999999999999999", None, None),
    ("GET", "/appointments?after=%C2%B2", None, None),  # "²": str.isdigit() says yes
    ("GET", "/events?after=%C2%B2", None, None),
    ("GET", "/events?limit=%C2%B9", None, None),  # "¹"
    ("GET", "/events?after=9223372036854775808", None, None),
    ("POST", "/appointments/2147483648/status", "status", {}),
    ("POST", "/appointments/99999999999999999999/status", "status", {}),
    # NUL characters: valid JSON strings, refused by PostgreSQL text columns.
    ("PUT", "/beneficiaries/D-1", "ben", {"first_name": f"A{NUL}B"}),
    ("PUT", "/beneficiaries/D-1", "ben", {"referent": {"name": NUL, "email": "a@b.fr"}}),
    ("PUT", "/slots/S-1", "slot", {"location": f"x{NUL}y"}),
    ("PUT", "/offers/O-1", "offer", {"title": f"x{NUL}"}),
    ("PUT", "/offers/O-1", "offer", {"description": NUL}),
    ("PUT", "/beneficiaries/D-1/steps/S-1", "step", {"title": NUL}),
    ("PUT", "/beneficiaries/D-1/steps/S-1", "step", {"description": f"ligne 1{NUL}"}),
    ("POST", "/appointments/{appointment}/status", "status", {"reason": NUL}),
    ("POST", "/appointments/{appointment}/status", "status", {"reason": "é" * 1000}),
    ("PUT", "/webhook", "hook", {"url": f"https://93.184.215.14/{NUL}"}),
    # URLs urllib cannot split.
    ("PUT", "/webhook", "hook", {"url": "https://[::1/hook"}),
    ("PUT", "/webhook", "hook", {"url": "https://[v1.x]/hook"}),
    ("PUT", "/webhook", "hook", {"url": "https://93.184.215.14:99999/"}),
    ("PUT", "/webhook", "hook", {"url": "https://" + "a" * 64 + ".example/"}),
    ("PUT", "/webhook", "hook", {"url": "https://a..b/"}),
    # Sizes at the limits of the columns.
    ("PUT", "/beneficiaries/D-1", "ben", {"email": "a" * 64 + "@" + "b" * 185 + ".fr"}),
    ("PUT", "/offers/O-1", "offer", {"hours_per_week": 1e308, "seats": 10**30}),
    ("PUT", "/offers/O-1", "offer", {"url": "https://" + "a" * 490}),
    ("PUT", "/slots/S-1", "slot", {"duration_minutes": 10**30}),
    ("DELETE", "/slots/S-1?cancel_booking=%00", None, None),
]


def _body(tenant, kind, overrides):
    if kind == "slot":
        return slot_body(tenant, **overrides)
    if kind == "ben":
        return beneficiary_body(**overrides)
    if kind == "offer":
        return offer_body(**overrides)
    if kind == "step":
        return step_body(**overrides)
    if kind == "hook":
        return {"secret": "s" * 32, **overrides}
    if kind == "status":
        return {"status": "confirmed", **overrides}
    return None


@pytest.mark.parametrize(
    "method, path, kind, overrides",
    CASES,
    ids=[f"{m} {p} {sorted((o or {}).items())!r:.60}" for m, p, _k, o in CASES],
)
def test_no_5xx(org_a, method, path, kind, overrides):
    put_beneficiary(org_a, "D-1")
    org_a.api.put("/slots/S-1", slot_body(org_a))
    path = path.replace("{appointment}", str(book(org_a, "D-1").id))
    response = org_a.api.open(method, path, json=_body(org_a, kind, overrides))
    assert response.status_code < 500, response.get_data(as_text=True)
    if response.status_code >= 400:
        assert_problem(response, response.status_code)
