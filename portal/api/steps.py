"""Pathway steps: each organisation's own, and the person's whole pathway."""

from flask import Response, g

from portal.api import schemas
from portal.api.payloads import step_payload
from portal.api.routing import (
    check_id,
    field_problem,
    follow_up_or_404,
    operation,
    read_body,
    respond,
)
from portal.core.problems import ApiProblem
from portal.extensions import db
from portal.pathway import services as pathway


@operation(
    "/beneficiaries/<external_id>/steps/<step_external_id>",
    "PUT",
    summary="Create or replace one of this organisation's steps",
    body=schemas.StepIn,
    responses={
        200: schemas.StepOut,
        201: schemas.StepOut,
        404: None,
        409: "The step_external_id belongs to another of your beneficiaries",
        422: "Invalid: the schema, and beyond it `ends_on` must not be before `starts_on`",
    },
    links={
        "delete_step": {
            "external_id": "$request.path.external_id",
            "step_external_id": "$response.body#/external_id",
        },
        "list_steps": {"external_id": "$request.path.external_id"},
    },
)
def put_step(external_id: str, step_external_id: str):
    follow_up = follow_up_or_404(external_id)
    check_id(step_external_id, "step_external_id")
    data = read_body(schemas.StepIn)
    try:
        result = pathway.upsert_step(
            g.organisation, follow_up.beneficiary, step_external_id, data.model_dump()
        )
    except pathway.StepError as error:
        raise field_problem(error.field, str(error), 422 if error.field else 409) from None
    db.session.commit()
    return respond(schemas.StepOut, step_payload(result.step), 201 if result.created else 200)


@operation(
    "/beneficiaries/<external_id>/steps/<step_external_id>",
    "DELETE",
    summary="Delete one of this organisation's steps",
    responses={204: None, 404: None},
)
def delete_step(external_id: str, step_external_id: str):
    follow_up = follow_up_or_404(external_id)
    deleted = pathway.delete_step(
        g.organisation, follow_up.beneficiary, check_id(step_external_id, "step_external_id")
    )
    if not deleted:
        raise ApiProblem(404, "No step with this external_id for this beneficiary.")
    db.session.commit()
    return Response(status=204)


@operation(
    "/beneficiaries/<external_id>/steps",
    "GET",
    summary="The person's whole pathway, every organisation's steps",
    responses={200: schemas.StepsOut, 404: None},
)
def list_steps(external_id: str):
    follow_up = follow_up_or_404(external_id)
    steps = [step_payload(step) for step in pathway.steps_of(follow_up.beneficiary)]
    return respond(schemas.StepsOut, {"steps": steps})
