"""One person, several organisations: linked on CAF number or France Travail id with the
birth date, never on names or phones; each organisation keeps its ids, référent and steps."""

import pytest

from tests.api.conftest import assert_problem
from tests.factories import beneficiary_body, put_beneficiary, step_body

REFERENT_A = {"name": "Claire Muller", "email": "claire.muller@bas-rhin.fr", "phone": None}
REFERENT_B = {"name": "Yann Le Gall", "email": "yann.legall@plie29.fr", "phone": "02 98 00 00 00"}


def test_the_same_caf_number_and_birth_date_are_one_person(org_a, org_b):
    a = org_a.api.put(
        "/beneficiaries/A-1", beneficiary_body(caf_number="1234567", referent=REFERENT_A)
    )
    assert a.status_code == 201
    b = org_b.api.put(
        "/beneficiaries/B-77",
        beneficiary_body(caf_number="1234567", first_name="Aminata", referent=REFERENT_B),
    )
    assert b.status_code == 201, b.get_data(as_text=True)
    seen_by_a = org_a.api.get("/beneficiaries/A-1").get_json()
    seen_by_b = org_b.api.get("/beneficiaries/B-77").get_json()

    assert seen_by_a["id"] == seen_by_b["id"] == a.get_json()["id"]
    assert (
        sorted(seen_by_a["followed_by"])
        == sorted(seen_by_b["followed_by"])
        == sorted([org_a.slug, org_b.slug])
    )
    assert seen_by_a.get("external_id", "A-1") == "A-1"
    assert seen_by_b.get("external_id", "B-77") == "B-77"
    # Each organisation keeps its own référent.
    assert seen_by_a["referent"]["email"] == "claire.muller@bas-rhin.fr"
    assert seen_by_b["referent"]["email"] == "yann.legall@plie29.fr"
    assert seen_by_b["referent"]["phone"] == "+33298000000"
    # The personal fields are those of the latest PUT, whoever made it.
    assert seen_by_a["first_name"] == seen_by_b["first_name"] == "Aminata"
    # B does not know A's id, nor A B's.
    assert_problem(org_b.api.get("/beneficiaries/A-1"), 404)
    assert_problem(org_a.api.get("/beneficiaries/B-77"), 404)


def test_a_referent_change_by_one_organisation_leaves_the_others(org_a, org_b):
    put_beneficiary(org_a, "A-1", caf_number="1234567", referent=REFERENT_A)
    put_beneficiary(org_b, "B-1", caf_number="1234567", referent=REFERENT_B)
    put_beneficiary(org_b, "B-1", caf_number="1234567", referent=None)
    assert org_a.api.get("/beneficiaries/A-1").get_json()["referent"]["name"] == "Claire Muller"
    assert org_b.api.get("/beneficiaries/B-1").get_json()["referent"] is None


def test_the_same_france_travail_id_and_birth_date_are_one_person(org_a, org_b):
    a = put_beneficiary(org_a, "A-1", france_travail_id="FT12345")
    b = put_beneficiary(org_b, "B-1", france_travail_id="FT12345", phone="+33799999999")
    assert a["id"] == b["id"]
    assert sorted(org_a.api.get("/beneficiaries/A-1").get_json()["followed_by"]) == sorted(
        [org_a.slug, org_b.slug]
    )


@pytest.mark.parametrize(
    "a_fields, b_fields",
    [
        (
            {"caf_number": "1234567", "birth_date": "1990-05-17"},
            {"caf_number": "1234567", "birth_date": "1990-05-18"},
        ),
        (
            {"france_travail_id": "FT12345", "birth_date": "1990-05-17"},
            {"france_travail_id": "FT12345", "birth_date": "1991-05-17"},
        ),
        ({"caf_number": "1234567"}, {"caf_number": "1234568"}),
        ({"caf_number": "1234567"}, {"france_travail_id": "1234567"}),
        # Same names, phone and birth date, but no identifier: a couple, twins, homonyms.
        ({}, {}),
        ({"caf_number": "1234567"}, {}),
    ],
    ids=[
        "caf-other-birth-date",
        "ft-other-birth-date",
        "other-caf",
        "caf-vs-ft",
        "names-and-phone-only",
        "one-side-without-ids",
    ],
)
def test_a_near_miss_is_two_people(org_a, org_b, a_fields, b_fields):
    a = put_beneficiary(org_a, "A-1", **a_fields)
    b = put_beneficiary(org_b, "B-1", **b_fields)
    assert a["id"] != b["id"]
    assert org_a.api.get("/beneficiaries/A-1").get_json()["followed_by"] == [org_a.slug]
    assert org_b.api.get("/beneficiaries/B-1").get_json()["followed_by"] == [org_b.slug]


def test_names_and_phone_never_link_within_one_organisation_either(org_a):
    first = put_beneficiary(org_a, "A-1")
    second = org_a.api.put("/beneficiaries/A-2", beneficiary_body(role="conjoint"))
    assert second.status_code == 201
    assert second.get_json()["id"] != first["id"]


def test_every_organisations_steps_are_listed_for_both(org_a, org_b):
    put_beneficiary(org_a, "A-1", caf_number="1234567")
    put_beneficiary(org_b, "B-1", caf_number="1234567")
    a_step = org_a.api.put(
        "/beneficiaries/A-1/steps/A-S1",
        step_body(kind="orientation", title="Orientation", starts_on="2026-01-05"),
    )
    assert a_step.status_code == 201, a_step.get_data(as_text=True)
    assert a_step.get_json()["organisation"] == org_a.slug
    b_step = org_b.api.put(
        "/beneficiaries/B-1/steps/B-S1",
        step_body(kind="training", title="Formation", starts_on="2026-02-01"),
    )
    assert b_step.status_code == 201

    for tenant, external_id in ((org_a, "A-1"), (org_b, "B-1")):
        response = tenant.api.get(f"/beneficiaries/{external_id}/steps")
        assert response.status_code == 200
        steps = response.get_json()["steps"]
        assert [(s["external_id"], s["organisation"], s["source"]) for s in steps] == [
            ("A-S1", org_a.slug, "backoffice"),
            ("B-S1", org_b.slug, "backoffice"),
        ]


def test_an_organisation_cannot_change_or_delete_anothers_step(org_a, org_b):
    put_beneficiary(org_a, "A-1", caf_number="1234567")
    put_beneficiary(org_b, "B-1", caf_number="1234567")
    assert (
        org_a.api.put("/beneficiaries/A-1/steps/S-1", step_body(title="Celle de A")).status_code
        == 201
    )

    # Under B's ids, A's step does not exist.
    assert_problem(org_b.api.delete("/beneficiaries/B-1/steps/S-1"), 404)
    assert_problem(org_b.api.delete("/beneficiaries/A-1/steps/S-1"), 404)
    assert_problem(org_b.api.put("/beneficiaries/A-1/steps/S-1", step_body(title="Pirate")), 404)
    # A PUT under B's own ids makes B's own step; A's stays as it was.
    mine = org_b.api.put("/beneficiaries/B-1/steps/S-1", step_body(title="Celle de B"))
    assert mine.status_code == 201
    assert mine.get_json()["organisation"] == org_b.slug

    steps = org_a.api.get("/beneficiaries/A-1/steps").get_json()["steps"]
    assert sorted((s["organisation"], s["title"]) for s in steps) == sorted(
        [(org_a.slug, "Celle de A"), (org_b.slug, "Celle de B")]
    )
    assert org_a.api.delete("/beneficiaries/A-1/steps/S-1").status_code == 204
    steps = org_b.api.get("/beneficiaries/B-1/steps").get_json()["steps"]
    assert [(s["organisation"], s["title"]) for s in steps] == [(org_b.slug, "Celle de B")]
