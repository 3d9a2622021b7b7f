"""Offers: immersions, training, volunteering and jobs the organisation publishes."""

from flask import Response, g

from portal.api import schemas
from portal.api.payloads import offer_payload
from portal.api.routing import check_id, operation, read_body, respond
from portal.core.problems import ApiProblem
from portal.extensions import db
from portal.offers import services as offers


def _offer(external_id: str):
    offer = offers.offer_by_external_id(g.organisation, check_id(external_id))
    if offer is None or offer.withdrawn_at is not None:
        raise ApiProblem(404, "No offer with this external_id.")
    return offer


@operation(
    "/offers/<external_id>",
    "PUT",
    summary="Create or replace an offer",
    body=schemas.OfferIn,
    responses={
        200: schemas.OfferOut,
        201: schemas.OfferOut,
        422: "Invalid: the schema, and beyond it `ends_on` must not be before `starts_on`",
    },
    links={
        target: {"external_id": "$response.body#/external_id"}
        for target in ("get_offer", "delete_offer")
    },
)
def put_offer(external_id: str):
    check_id(external_id)
    data = read_body(schemas.OfferIn)
    result = offers.upsert_offer(g.organisation, external_id, data.model_dump())
    db.session.commit()
    return respond(schemas.OfferOut, offer_payload(result.offer), 201 if result.created else 200)


@operation(
    "/offers/<external_id>",
    "GET",
    summary="Read an offer",
    responses={200: schemas.OfferOut, 404: None},
)
def get_offer(external_id: str):
    return respond(schemas.OfferOut, offer_payload(_offer(external_id)))


@operation(
    "/offers/<external_id>", "DELETE", summary="Withdraw an offer", responses={204: None, 404: None}
)
def delete_offer(external_id: str):
    """The offer disappears from the portal at once."""
    offers.withdraw_offer(_offer(external_id))
    db.session.commit()
    return Response(status=204)
