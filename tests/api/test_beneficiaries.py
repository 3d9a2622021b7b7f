"""PUT/GET of beneficiaries: idempotence, every contract field, validation as problems."""

import json
from datetime import date, datetime, timedelta

import pytest

from tests.api.conftest import assert_problem
from tests.factories import beneficiary_body, put_beneficiary

CONTRACT_FIELDS = {
    "first_name",
    "last_name",
    "birth_date",
    "phone",
    "email",
    "language",
    "caf_number",
    "france_travail_id",
    "role",
    "postal_code",
    "rsa_registration_date",
    "referent",
    "sms_consent",
    "id",
    "activated_at",
    "sms_opted_out",
    "followed_by",
    "created_at",
    "updated_at",
}


def _rfc3339(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    assert moment.tzinfo is not None, f"{value} has no offset"
    return moment


def test_put_creates_then_an_identical_put_changes_nothing(org_a):
    body = beneficiary_body()
    created = org_a.api.put("/beneficiaries/DOS-1", body)
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.mimetype == "application/json"
    first = created.get_json()

    again = org_a.api.put("/beneficiaries/DOS-1", body)
    assert again.status_code == 200
    second = again.get_json()
    assert second["id"] == first["id"]
    assert second["updated_at"] == first["updated_at"]
    assert second["created_at"] == first["created_at"]
    assert second == first
    assert org_a.api.events() == []


def test_put_replaces_the_fields(org_a):
    first = put_beneficiary(org_a, "DOS-1")
    body = beneficiary_body(
        first_name="Aminata",
        last_name="Diallo-Keita",
        phone="07 81 02 03 04",
        email=None,
        language="ar",
        caf_number="1234567",
        france_travail_id="1234567A",
        role="conjoint",
        postal_code="67100",
        referent=None,
        sms_consent=False,
    )
    response = org_a.api.put("/beneficiaries/DOS-1", body)
    assert response.status_code == 200
    changed = response.get_json()
    assert changed["id"] == first["id"]
    got = org_a.api.get("/beneficiaries/DOS-1").get_json()
    assert got == changed
    for name in ("first_name", "last_name", "email", "language", "caf_number", "role"):
        assert got[name] == body[name], name
    assert got["france_travail_id"] == "1234567A"
    assert got["postal_code"] == "67100"
    assert got["phone"] == "+33781020304"
    assert got["referent"] is None
    assert got["sms_consent"] is False
    assert _rfc3339(got["updated_at"]) > _rfc3339(first["updated_at"])
    assert got["created_at"] == first["created_at"]


def test_a_field_left_out_takes_its_default_again(org_a):
    put_beneficiary(org_a, "DOS-1", language="en", role="conjoint", sms_consent=False)
    body = beneficiary_body()
    for optional in ("language", "role", "sms_consent", "email", "referent", "caf_number"):
        del body[optional]
    got = org_a.api.put("/beneficiaries/DOS-1", body).get_json()
    assert (got["language"], got["role"], got["sms_consent"]) == ("fr", "demandeur", True)
    assert got["email"] is None and got["referent"] is None and got["caf_number"] is None


def test_get_returns_every_contract_field(org_a):
    body = beneficiary_body(caf_number="0012345", france_travail_id="7654321B")
    put = org_a.api.put("/beneficiaries/DOS-1", body).get_json()
    response = org_a.api.get("/beneficiaries/DOS-1")
    assert response.status_code == 200
    got = response.get_json()
    assert CONTRACT_FIELDS <= set(got), CONTRACT_FIELDS - set(got)
    assert got == put
    assert got["first_name"] == "Amina" and got["last_name"] == "Diallo"
    assert got["birth_date"] == "1990-05-17"
    assert got["phone"] == "+33612345678"
    assert got["email"] == "amina.diallo@example.org"
    assert got["language"] == "fr"
    assert got["caf_number"] == "0012345"
    assert got["france_travail_id"] == "7654321B"
    assert got["role"] == "demandeur"
    assert got["postal_code"] == "67000"
    assert got["rsa_registration_date"] == body["rsa_registration_date"]
    assert got["referent"] == {
        "name": "Claire Muller",
        "email": "claire.muller@example.org",
        "phone": "+33388766767",
    }
    assert got["sms_consent"] is True
    assert isinstance(got["id"], int)
    assert got["activated_at"] is None
    assert got["sms_opted_out"] is False
    assert got["followed_by"] == [org_a.slug]
    created, updated = _rfc3339(got["created_at"]), _rfc3339(got["updated_at"])
    assert abs(created - datetime.now(created.tzinfo)) < timedelta(minutes=1)
    assert updated >= created


@pytest.mark.parametrize(
    "typed, e164",
    [
        ("06 12 34 56 78", "+33612345678"),
        ("0612345678", "+33612345678"),
        ("06.12.34.56.78", "+33612345678"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("+33761234567", "+33761234567"),
        ("07 81 23 45 67", "+33781234567"),
    ],
)
def test_a_mobile_number_is_accepted_in_national_form_and_returned_in_e164(org_a, typed, e164):
    response = org_a.api.put("/beneficiaries/DOS-1", beneficiary_body(phone=typed))
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["phone"] == e164
    assert org_a.api.get("/beneficiaries/DOS-1").get_json()["phone"] == e164


@pytest.mark.parametrize(
    "phone",
    [
        "03 88 12 34 56",
        "+33388123456",
        "09 70 12 34 56",
        "0800 123 456",
        "06 12 34",
        "12",
        "abc",
        "",
    ],
    ids=[
        "landline",
        "landline-e164",
        "voip-09",
        "freephone",
        "short",
        "digits",
        "letters",
        "empty",
    ],
)
def test_a_number_sms_cannot_reach_is_422_on_phone(org_a, phone):
    response = org_a.api.put("/beneficiaries/DOS-1", beneficiary_body(phone=phone))
    assert_problem(response, 422, "/phone")
    assert org_a.api.get("/beneficiaries/DOS-1").status_code == 404


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"first_name": ""}, "/first_name"),
        ({"first_name": "A" * 101}, "/first_name"),
        ({"last_name": None}, "/last_name"),
        ({"birth_date": "17/05/1990"}, "/birth_date"),
        ({"birth_date": "1990-02-30"}, "/birth_date"),
        ({"email": "not-an-email"}, "/email"),
        ({"language": "klingon"}, "/language"),
        ({"caf_number": "12AB"}, "/caf_number"),
        ({"caf_number": "1" * 21}, "/caf_number"),
        ({"role": "chef"}, "/role"),
        ({"postal_code": "6700"}, "/postal_code"),
        ({"postal_code": 67000}, "/postal_code"),
        ({"rsa_registration_date": "yesterday"}, "/rsa_registration_date"),
        ({"sms_consent": "yes"}, "/sms_consent"),
        ({"referent": {"name": "Claire", "email": "nope", "phone": None}}, "/referent/email"),
        (
            {"referent": {"name": "Claire", "email": "c@example.org", "surname": "M"}},
            "/referent/surname",
        ),
        ({"nickname": "Mina"}, "/nickname"),
        ({"first_nmae": "Amina"}, "/first_nmae"),
    ],
)
def test_an_invalid_field_is_422_naming_it(org_a, overrides, field):
    response = org_a.api.put("/beneficiaries/DOS-1", beneficiary_body(**overrides))
    assert_problem(response, 422, field)


@pytest.mark.parametrize(
    "missing",
    ["first_name", "last_name", "birth_date", "phone", "postal_code", "rsa_registration_date"],
)
def test_a_required_field_left_out_is_422_naming_it(org_a, missing):
    body = beneficiary_body()
    del body[missing]
    assert_problem(org_a.api.put("/beneficiaries/DOS-1", body), 422, f"/{missing}")


def test_a_rejected_put_changes_nothing(org_a):
    first = put_beneficiary(org_a, "DOS-1")
    response = org_a.api.put("/beneficiaries/DOS-1", beneficiary_body(first_name="Z", email="bad"))
    assert_problem(response, 422, "/email")
    assert org_a.api.get("/beneficiaries/DOS-1").get_json() == first


@pytest.mark.parametrize(
    "raw",
    [b"{", b'{"first_name": "Amina",}', b"not json", b"\xff\xfe\x00", b'{"a": 1} trailing'],
    ids=["truncated", "trailing-comma", "text", "binary", "trailing-data"],
)
def test_malformed_json_is_400(org_a, raw):
    response = org_a.api.put(
        "/beneficiaries/DOS-1", data=raw, headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 400)


@pytest.mark.parametrize("raw", [b"", b"null", b"[]", b'"Amina"', b"42", b"true"])
def test_json_that_is_not_an_object_is_a_client_error(org_a, raw):
    response = org_a.api.put(
        "/beneficiaries/DOS-1", data=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code in (400, 422), response.get_data(as_text=True)
    assert_problem(response, response.status_code)


def test_a_body_over_one_mebibyte_is_413(org_a):
    body = json.dumps(beneficiary_body(first_name="A" * (1024 * 1024 + 1))).encode()
    response = org_a.api.put(
        "/beneficiaries/DOS-1", data=body, headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 413)


def test_a_body_just_under_one_mebibyte_is_read(org_a):
    body = beneficiary_body()
    body["referent"] = {"name": "Claire", "email": "c@example.org", "phone": None}
    raw = json.dumps(body).encode()
    padded = raw[:-1] + b" " * (1024 * 1024 - len(raw)) + b"}"
    assert len(padded) == 1024 * 1024
    response = org_a.api.put(
        "/beneficiaries/DOS-1", data=padded, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    "external_id",
    ["a%20b", "A" * 65, "%C3%A9", "dos%2A1", "dos%3B1", "%20", "dos%251"],
    ids=["space", "65-chars", "e-acute", "star", "semicolon", "blank", "percent"],
)
@pytest.mark.parametrize("method", ["PUT", "GET", "DELETE"])
def test_an_external_id_outside_the_pattern_is_422_or_404(org_a, method, external_id):
    response = org_a.api.open(method, f"/beneficiaries/{external_id}", json=beneficiary_body())
    assert response.status_code in (404, 422), response.get_data(as_text=True)
    problem = assert_problem(response, response.status_code)
    if response.status_code == 422:
        assert problem["errors"]


@pytest.mark.parametrize(
    "external_id",
    ["A" * 64, "a", "DOS-2026.01_x:9", "0"],
    ids=["64-chars", "1-char", "all", "zero"],
)
def test_an_external_id_inside_the_pattern_is_accepted(org_a, external_id):
    response = org_a.api.put(f"/beneficiaries/{external_id}", beneficiary_body())
    assert response.status_code == 201, response.get_data(as_text=True)
    assert org_a.api.get(f"/beneficiaries/{external_id}").status_code == 200


def test_an_unknown_beneficiary_is_404(org_a):
    assert_problem(org_a.api.get("/beneficiaries/NOBODY"), 404)
    assert_problem(org_a.api.delete("/beneficiaries/NOBODY"), 404)
    assert_problem(org_a.api.get("/beneficiaries/NOBODY/steps"), 404)
    assert_problem(org_a.api.post("/beneficiaries/NOBODY/invitation"), 404)


@pytest.mark.parametrize(
    "method, path",
    [
        ("PATCH", "/beneficiaries/DOS-1"),
        ("POST", "/beneficiaries/DOS-1"),
        ("GET", "/nothing-here"),
        ("GET", "/beneficiaries"),
        ("PUT", "/events"),
    ],
)
def test_other_errors_are_problems_too(org_a, method, path):
    response = org_a.api.open(method, path, json={})
    assert response.status_code in (404, 405)
    assert_problem(response, response.status_code)


def test_the_portal_id_is_stable_and_the_dates_are_dates(org_a):
    first = put_beneficiary(org_a, "DOS-1")
    second = put_beneficiary(org_a, "DOS-2", phone="+33600000001")
    assert first["id"] != second["id"]
    assert date.fromisoformat(first["birth_date"]) == date(1990, 5, 17)
