"""Slots the organisation's counsellors offer."""

from flask import Response, g, request

from portal.api import schemas
from portal.api.payloads import slot_payload
from portal.api.routing import check_id, field_problem, operation, query, read_body, respond
from portal.appointments import services as appointments
from portal.appointments.models import Slot
from portal.core.problems import ApiProblem
from portal.extensions import db


def _slot(external_id: str) -> Slot:
    slot = appointments.slot_by_external_id(g.organisation, check_id(external_id))
    if slot is None or slot.withdrawn_at is not None:
        raise ApiProblem(404, "No slot with this external_id.")
    return slot


@operation(
    "/slots/<external_id>",
    "PUT",
    summary="Create or replace a slot a counsellor offers",
    body=schemas.SlotIn,
    responses={
        200: schemas.SlotOut,
        201: schemas.SlotOut,
        409: "The slot is booked: its time and counsellor cannot change, nor its "
        "`capacity` go below the live bookings",
        422: "Invalid: the schema, and beyond it `counsellor_email` must be one of your "
        "counsellors, `starts_at` in the future and not on a public holiday of your "
        "department, `reserved_for` one of your beneficiaries and only with `capacity` 1",
    },
    links={
        target: {"external_id": "$response.body#/external_id"}
        for target in ("get_slot", "delete_slot")
    },
)
def put_slot(external_id: str):
    """Refused on a public holiday of the organisation's department."""
    check_id(external_id)
    data = read_body(schemas.SlotIn)
    try:
        result = appointments.upsert_slot(g.organisation, external_id, data.model_dump())
    except appointments.AppointmentError as error:
        raise field_problem(error.field, str(error), 422 if error.field else 409) from None
    db.session.commit()
    return respond(
        schemas.SlotOut,
        slot_payload(appointments.slot_state(result.slot)),
        201 if result.created else 200,
    )


@operation(
    "/slots/<external_id>",
    "GET",
    summary="Read a slot",
    responses={200: schemas.SlotOut, 404: None},
)
def get_slot(external_id: str):
    return respond(schemas.SlotOut, slot_payload(appointments.slot_state(_slot(external_id))))


@operation(
    "/slots/<external_id>",
    "DELETE",
    summary="Withdraw a slot",
    responses={204: None, 404: None, 409: None},
    query=[
        query(
            "cancel_booking",
            {"type": "boolean"},
            "true cancels every appointment on it, telling each person by SMS",
        )
    ],
)
def delete_slot(external_id: str):
    """A booked slot answers 409 unless ?cancel_booking=true."""
    slot = _slot(external_id)
    cancel_booking = (request.args.get("cancel_booking") or "false").lower()
    if cancel_booking not in ("true", "false"):
        raise field_problem("cancel_booking", "cancel_booking must be true or false")
    try:
        appointments.withdraw_slot(slot, cancel_booking == "true")
    except appointments.AppointmentError as error:
        raise ApiProblem(409, str(error), kind="slot_booked") from None
    db.session.commit()
    return Response(status=204)
