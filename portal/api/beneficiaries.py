"""People: create, replace, read, end a follow-up, invite; in batches too."""

from typing import Any

from flask import Response, g, json
from pydantic import ValidationError

from portal.api import schemas
from portal.api.payloads import beneficiary_payload
from portal.api.routing import check_id, follow_up_or_404, operation, read_body, respond
from portal.auth.services import create_invitation
from portal.beneficiaries import services as beneficiaries
from portal.core.problems import ApiProblem, validation_errors
from portal.erasure.services import end_follow_up
from portal.extensions import db
from portal.personal_data.services import save_people, save_person


def _beneficiary_fields(data: schemas.BeneficiaryFields) -> dict[str, Any]:
    fields = data.model_dump(exclude={"external_id"})
    # Left out, `language` is French by default: it must not count as the back office's say.
    fields["language_sent"] = "language" in data.model_fields_set
    return fields


@operation(
    "/beneficiaries/<external_id>",
    "PUT",
    summary="Create or replace a beneficiary",
    body=schemas.BeneficiaryFields,
    responses={
        200: schemas.BeneficiaryOut,
        201: schemas.BeneficiaryOut,
        422: "Invalid: the schema, and beyond it `referent.phone` must be a valid number of "
        "its country's numbering plan",
    },
    links={
        target: {"external_id": "$response.body#/external_id"}
        for target in (
            "get_beneficiary",
            "delete_beneficiary",
            "invite_beneficiary",
            "list_steps",
            "put_step",
        )
    },
)
def put_beneficiary(external_id: str):
    """Links to an existing person on CAF number + birth date or France Travail id + birth date."""
    check_id(external_id)
    data = read_body(schemas.BeneficiaryFields)
    result = save_person(g.organisation, external_id, _beneficiary_fields(data))
    db.session.commit()
    return respond(
        schemas.BeneficiaryOut,
        beneficiary_payload(beneficiaries.follow_up_for(g.organisation, external_id)),
        201 if result.created else 200,
    )


@operation(
    "/beneficiaries/<external_id>",
    "GET",
    summary="Read a beneficiary",
    responses={200: schemas.BeneficiaryOut, 404: None},
)
def get_beneficiary(external_id: str):
    return respond(schemas.BeneficiaryOut, beneficiary_payload(follow_up_or_404(external_id)))


@operation(
    "/beneficiaries/<external_id>",
    "DELETE",
    summary="End this organisation's follow-up",
    responses={204: None, 404: None},
)
def delete_beneficiary(external_id: str):
    """Cancels the organisation's future appointments, removes its steps and its link; the
    last organisation to let go erases the person."""
    end_follow_up(g.organisation, follow_up_or_404(external_id))
    db.session.commit()
    return Response(status=204)


@operation(
    "/beneficiaries/<external_id>/invitation",
    "POST",
    summary="Send a sign-in link by SMS",
    responses={202: None, 404: None, 409: None},
)
def invite_beneficiary(external_id: str):
    """A single-use link, valid 7 days; 409 when the person has opted out of SMS."""
    follow_up = follow_up_or_404(external_id)
    person = follow_up.beneficiary
    if not person.may_receive_sms:
        raise ApiProblem(
            409, "The person does not receive SMS (opted out or no consent).", kind="sms_opted_out"
        )
    create_invitation(person, g.organisation)
    db.session.commit()
    return Response(status=202)


@operation(
    "/beneficiaries:batch",
    "POST",
    summary="Create or replace up to 1000 beneficiaries",
    body=schemas.BatchIn,
    responses={
        200: schemas.BatchOut,
        422: 'The body is not {"items": [...]} of at most 1000 items (each item is '
        "judged on its own, in the results)",
    },
    links={"get_beneficiary": {"external_id": "$response.body#/results/0/external_id"}},
)
def batch_beneficiaries():
    """Each item is validated and saved on its own: one bad item does not stop the others."""
    batch = read_body(schemas.BatchIn)
    results: list[dict[str, Any]] = []
    valid: list[tuple[str, dict[str, Any]]] = []
    for item in batch.items:
        try:
            # The item came from JSON: validate it as JSON, as strictly as a single PUT.
            data = schemas.BatchItem.model_validate_json(json.dumps(item))
        except ValidationError as error:
            external_id = item.get("external_id") if isinstance(item, dict) else None
            results.append(
                {
                    "external_id": external_id if isinstance(external_id, str) else None,
                    "status": 422,
                    "errors": validation_errors(error),
                }
            )
            continue
        results.append({"external_id": data.external_id})
        valid.append((data.external_id, _beneficiary_fields(data)))
    saved = iter(save_people(g.organisation, valid))
    for result in results:
        if "status" not in result:
            result["status"] = 201 if next(saved).created else 200
    db.session.commit()
    return respond(schemas.BatchOut, {"results": results})
