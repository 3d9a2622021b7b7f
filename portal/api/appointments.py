"""Appointments: the organisation's list, and their status."""

from flask import g, request

from portal.api import schemas
from portal.api.payloads import appointment_payload
from portal.api.routing import (
    MAX_ROW_ID,
    field_problem,
    integer_arg,
    moment_arg,
    operation,
    query,
    read_body,
    respond,
)
from portal.appointments import services as appointments
from portal.appointments.models import AppointmentStatus
from portal.beneficiaries import services as beneficiaries
from portal.core.problems import ApiProblem
from portal.extensions import db


@operation(
    "/appointments",
    "GET",
    summary="The organisation's appointments, 500 a page",
    responses={200: schemas.AppointmentsOut, 422: None},
    links={"set_appointment_status": {"appointment_id": "$response.body#/appointments/0/id"}},
    query=[
        query(
            "status",
            {"type": "string", "enum": [s.value for s in AppointmentStatus]},
            "only the appointments in this status",
        ),
        query(
            "from",
            {"type": "string", "pattern": schemas.MOMENT},
            "slots starting at or after: a date (midnight, Paris) or a date-time with its "
            "offset, years 1900 to 2999",
        ),
        query(
            "to",
            {"type": "string", "pattern": schemas.MOMENT},
            "slots starting before: a date (midnight, Paris) or a date-time with its "
            "offset, years 1900 to 2999",
        ),
        query(
            "after",
            {"type": "integer", "minimum": 0, "maximum": MAX_ROW_ID},
            "the cursor: next_after of the previous page",
        ),
    ],
)
def list_appointments():
    status = request.args.get("status") or None
    if status is not None and status not in {s.value for s in AppointmentStatus}:
        raise field_problem("status", "unknown status")
    page_size = 500
    rows = appointments.list_for_organisation(
        g.organisation,
        AppointmentStatus(status) if status else None,
        moment_arg("from"),
        moment_arg("to"),
        integer_arg("after", 0, 0, MAX_ROW_ID),
        page_size,
    )
    items = [appointment_payload(a, external_id) for a, external_id in rows]
    next_after = items[-1]["id"] if len(items) == page_size else None
    return respond(schemas.AppointmentsOut, {"appointments": items, "next_after": next_after})


@operation(
    "/appointments/<int:appointment_id>/status",
    "POST",
    summary="Confirm, decline or record the outcome of an appointment",
    body=schemas.StatusIn,
    responses={200: schemas.AppointmentOut, 404: None, 409: None, 422: None},
    # An outcome may follow a confirmation, and be corrected.
    links={"set_appointment_status": {"appointment_id": "$response.body#/id"}},
)
def set_appointment_status(appointment_id: int):
    """An impossible transition (attended before the start, anything after cancelled) is a 409."""
    if appointment_id > MAX_ROW_ID:
        raise ApiProblem(404, "No appointment with this id.")
    appointment = appointments.organisation_appointment(g.organisation.id, appointment_id)
    if appointment is None:
        raise ApiProblem(404, "No appointment with this id.")
    data = read_body(schemas.StatusIn)
    try:
        appointments.set_status(
            appointment, AppointmentStatus(data.status), data.reason, by="backoffice"
        )
    except appointments.AppointmentError as error:
        raise ApiProblem(409, str(error), kind="transition") from None
    db.session.commit()
    external_id = beneficiaries.follow_up_external_id(g.organisation, appointment.beneficiary_id)
    return respond(schemas.AppointmentOut, appointment_payload(appointment, external_id))
