"""Pathway steps of one organisation: PUT, GET, DELETE."""

from datetime import date

import pytest

from portal.pathway.models import StepKind, StepSource
from tests.api.conftest import assert_problem
from tests.factories import make_step, person_of, put_beneficiary, step_body

STEP_FIELDS = {
    "external_id",
    "organisation",
    "source",
    "kind",
    "title",
    "status",
    "starts_on",
    "ends_on",
    "organisation_name",
    "description",
}


def test_put_creates_replaces_and_is_idempotent(org_a):
    put_beneficiary(org_a, "DOS-1")
    body = step_body(starts_on="2026-01-05", ends_on="2026-03-31")
    created = org_a.api.put("/beneficiaries/DOS-1/steps/S-1", body)
    assert created.status_code == 201, created.get_data(as_text=True)
    step = created.get_json()
    assert STEP_FIELDS <= set(step)
    assert step["source"] == "backoffice" and step["organisation"] == org_a.slug
    assert {k: step[k] for k in body} == body

    again = org_a.api.put("/beneficiaries/DOS-1/steps/S-1", body)
    assert again.status_code == 200
    assert again.get_json() == step

    replaced = org_a.api.put(
        "/beneficiaries/DOS-1/steps/S-1", step_body(status="done", title="Fini")
    )
    assert replaced.status_code == 200
    assert (replaced.get_json()["status"], replaced.get_json()["title"]) == ("done", "Fini")
    assert org_a.api.events() == []


def test_steps_are_listed_oldest_first(org_a):
    put_beneficiary(org_a, "DOS-1")
    org_a.api.put("/beneficiaries/DOS-1/steps/LATE", step_body(starts_on="2026-06-01"))
    org_a.api.put("/beneficiaries/DOS-1/steps/EARLY", step_body(starts_on="2025-09-01"))
    org_a.api.put("/beneficiaries/DOS-1/steps/MID", step_body(starts_on="2026-01-01"))
    steps = org_a.api.get("/beneficiaries/DOS-1/steps").get_json()["steps"]
    assert [s["external_id"] for s in steps] == ["EARLY", "MID", "LATE"]


def test_delete_removes_a_step(org_a):
    put_beneficiary(org_a, "DOS-1")
    org_a.api.put("/beneficiaries/DOS-1/steps/S-1", step_body())
    assert org_a.api.delete("/beneficiaries/DOS-1/steps/S-1").status_code == 204
    assert org_a.api.get("/beneficiaries/DOS-1/steps").get_json() == {"steps": []}
    assert_problem(org_a.api.delete("/beneficiaries/DOS-1/steps/S-1"), 404)


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"kind": "holiday"}, "/kind"),
        ({"status": "paused"}, "/status"),
        ({"title": ""}, "/title"),
        ({"starts_on": "2026-13-01"}, "/starts_on"),
        ({"colour": "red"}, "/colour"),
    ],
)
def test_an_invalid_step_is_422(org_a, overrides, field):
    put_beneficiary(org_a, "DOS-1")
    assert_problem(
        org_a.api.put("/beneficiaries/DOS-1/steps/S-1", step_body(**overrides)), 422, field
    )


def test_a_step_ending_before_it_starts_is_422(org_a):
    put_beneficiary(org_a, "DOS-1")
    body = step_body(starts_on="2026-03-01", ends_on="2026-02-01")
    assert_problem(org_a.api.put("/beneficiaries/DOS-1/steps/S-1", body), 422)


@pytest.mark.parametrize("step_id", ["a%20b", "S" * 65, "%C3%A9"])
def test_a_step_external_id_outside_the_pattern_is_422(org_a, step_id):
    put_beneficiary(org_a, "DOS-1")
    response = org_a.api.put(f"/beneficiaries/DOS-1/steps/{step_id}", step_body())
    assert response.status_code in (404, 422)
    assert_problem(response, response.status_code)


def test_a_step_of_an_unknown_beneficiary_is_404(org_a):
    assert_problem(org_a.api.put("/beneficiaries/NOBODY/steps/S-1", step_body()), 404)


def test_steps_the_portal_made_are_listed_with_source_portal(org_a):
    put_beneficiary(org_a, "DOS-1")
    make_step(
        person_of(org_a, "DOS-1"),
        org_a.organisation,
        external_id="portal:appointment:1",
        source=StepSource.PORTAL,
        kind=StepKind.APPOINTMENT,
        starts_on=date(2026, 1, 1),
    )
    org_a.api.put("/beneficiaries/DOS-1/steps/S-1", step_body(starts_on="2026-02-01"))
    steps = org_a.api.get("/beneficiaries/DOS-1/steps").get_json()["steps"]
    assert [(s["external_id"], s["source"], s["organisation"]) for s in steps] == [
        ("portal:appointment:1", "portal", org_a.slug),
        ("S-1", "backoffice", org_a.slug),
    ]
