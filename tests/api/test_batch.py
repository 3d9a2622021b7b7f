"""POST /beneficiaries:batch: up to 1000 items, each saved or refused on its own."""

import pytest

from tests.api.conftest import assert_problem
from tests.factories import beneficiary_body, put_beneficiary


def _item(external_id, **overrides):
    return {"external_id": external_id, **beneficiary_body(**overrides)}


def test_1001_items_are_422_and_nothing_is_saved(org_a):
    items = [_item(f"B-{n}", phone=f"+3361{n:07d}") for n in range(1001)]
    response = org_a.api.post("/beneficiaries:batch", {"items": items})
    assert_problem(response, 422)
    assert org_a.api.get("/beneficiaries/B-0").status_code == 404


def test_1000_items_are_accepted(org_a):
    items = [_item(f"B-{n}", phone=f"+3361{n:07d}", referent=None) for n in range(1000)]
    response = org_a.api.post("/beneficiaries:batch", {"items": items})
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == [201] * 1000
    assert org_a.api.get("/beneficiaries/B-999").status_code == 200


def test_good_and_bad_items_get_their_own_status_in_order(org_a):
    put_beneficiary(org_a, "OLD-1", first_name="Ancien")
    items = [
        _item("NEW-1"),
        _item("BAD-PHONE", phone="03 88 12 34 56"),
        _item("OLD-1", first_name="Renouvelé"),
        _item("BAD-FIELD", shoe_size=42),
        _item("NEW-2", phone="07 81 02 03 04"),
        _item("bad id with spaces"),
        {k: v for k, v in _item("BAD-MISSING").items() if k != "birth_date"},
        _item("OLD-1", first_name="Renouvelé"),
    ]
    response = org_a.api.post("/beneficiaries:batch", {"items": items})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    results = response.get_json()["results"]
    assert [(r["external_id"], r["status"]) for r in results] == [
        ("NEW-1", 201),
        ("BAD-PHONE", 422),
        ("OLD-1", 200),
        ("BAD-FIELD", 422),
        ("NEW-2", 201),
        ("bad id with spaces", 422),
        ("BAD-MISSING", 422),
        ("OLD-1", 200),
    ]
    fields = {r["external_id"]: [e["field"] for e in r.get("errors") or []] for r in results}
    assert "/phone" in fields["BAD-PHONE"]
    assert "/shoe_size" in fields["BAD-FIELD"]
    assert "/external_id" in fields["bad id with spaces"]
    assert "/birth_date" in fields["BAD-MISSING"]
    for result in results:
        if result["status"] == 422:
            assert all(isinstance(e["message"], str) for e in result["errors"])
        else:
            assert not result.get("errors")

    assert org_a.api.get("/beneficiaries/NEW-1").status_code == 200
    assert org_a.api.get("/beneficiaries/NEW-2").get_json()["phone"] == "+33781020304"
    assert org_a.api.get("/beneficiaries/OLD-1").get_json()["first_name"] == "Renouvelé"
    for bad in ("BAD-PHONE", "BAD-FIELD", "BAD-MISSING"):
        assert org_a.api.get(f"/beneficiaries/{bad}").status_code == 404


def test_an_item_that_is_not_an_object_is_one_bad_item(org_a):
    """ "One bad item does not stop the others", whatever the item is."""
    items = [_item("NEW-1"), 42, None, "DOS-3", _item("NEW-2", phone="0781020304")]
    response = org_a.api.post("/beneficiaries:batch", {"items": items})
    assert response.status_code == 200, response.get_data(as_text=True)
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == [201, 422, 422, 422, 201]
    assert org_a.api.get("/beneficiaries/NEW-2").status_code == 200


@pytest.mark.parametrize(
    "body",
    [{}, {"items": "x"}, {"items": None}, {"items": [], "extra": 1}, []],
    ids=["no-items", "string", "null", "unknown-field", "array"],
)
def test_a_malformed_batch_is_422(org_a, body):
    assert_problem(org_a.api.post("/beneficiaries:batch", body), 422)


def test_an_empty_batch_answers_no_results(org_a):
    response = org_a.api.post("/beneficiaries:batch", {"items": []})
    assert response.status_code == 200
    assert response.get_json() == {"results": []}


def test_malformed_json_in_a_batch_is_400(org_a):
    response = org_a.api.post(
        "/beneficiaries:batch", data=b'{"items": [', headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 400)


def test_a_batch_links_people_like_a_put(org_a, org_b):
    put_beneficiary(org_a, "A-1", caf_number="7777777")
    items = [_item("B-1", caf_number="7777777", first_name="Amina")]
    results = org_b.api.post("/beneficiaries:batch", {"items": items}).get_json()["results"]
    assert results[0]["status"] == 201
    a, b = (
        org_a.api.get("/beneficiaries/A-1").get_json(),
        org_b.api.get("/beneficiaries/B-1").get_json(),
    )
    assert a["id"] == b["id"]
