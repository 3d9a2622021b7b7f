"""The contract's endpoints. Each reads and validates, calls one service, commits, answers."""

import hashlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from datetime import time as day_time
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, g, json, request
from pydantic import BaseModel, ValidationError
from sqlalchemy import select

from portal.api import schemas
from portal.api.problems import ApiProblem, is_malformed_json, problem_response, validation_errors
from portal.appointments import services as appointments
from portal.appointments.models import Appointment, AppointmentStatus, Slot
from portal.auth.services import create_invitation
from portal.beneficiaries import services as beneficiaries
from portal.beneficiaries.models import FollowUp
from portal.events import services as events
from portal.events import webhooks
from portal.extensions import csrf, db, limiter
from portal.offers import services as offers
from portal.organisations.services import find_api_key
from portal.pathway import services as pathway

logger = logging.getLogger(__name__)
bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

# What the OpenAPI document is generated from: one entry per operation, filled below.
OPERATIONS: list[dict[str, Any]] = []
PUBLIC_ENDPOINTS = {"api.openapi"}
MAX_ROW_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL
PARIS = ZoneInfo("Europe/Paris")


def operation(
    rule: str,
    method: str,
    *,
    summary: str,
    responses: dict[int, type[BaseModel] | None],
    body: type[BaseModel] | None = None,
    query: list[dict[str, Any]] | None = None,
) -> Callable:
    """Registers a route and describes it for the OpenAPI document in one place."""

    def decorator(view: Callable) -> Callable:
        endpoint = f"{view.__name__}"
        bp.add_url_rule(rule, endpoint=endpoint, view_func=view, methods=[method])
        OPERATIONS.append(
            {
                "rule": rule,
                "method": method.lower(),
                "operation_id": endpoint,
                "summary": summary,
                "description": (view.__doc__ or "").strip(),
                "body": body,
                "responses": responses,
                "query": query or [],
            }
        )
        view.allowed_roles = "api-key"
        return view

    return decorator


def _rate_limit_key() -> str:
    header = request.headers.get("Authorization", "")
    digest = hashlib.sha256(header.encode()).hexdigest()[:32]
    return "api:" + digest if header else "api-anonymous:" + (request.remote_addr or "")


# One counter per key across every route (not one per route), and one per address so
# that made-up keys cannot each get a counter of their own.
limiter.shared_limit(
    lambda: current_app.config["API_RATE_LIMIT"], scope="api-v1-key", key_func=_rate_limit_key
)(bp)
limiter.shared_limit(
    lambda: current_app.config["API_RATE_LIMIT_PER_ADDRESS"], scope="api-v1-address"
)(bp)


@bp.before_request
def authenticate() -> None:
    g.api_started = time.monotonic()
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    api_key = find_api_key(key.strip()) if scheme.lower() == "bearer" else None
    if api_key is None:
        raise ApiProblem(
            401,
            "Send 'Authorization: Bearer <key>' with a key made by create-api-key.",
            headers={"WWW-Authenticate": 'Bearer realm="portail-spi"'},
        )
    g.api_key = api_key
    g.organisation = api_key.organisation


@bp.after_request
def log_key_use(response: Response) -> Response:
    api_key = g.get("api_key")
    if api_key is not None:
        # The key id, never the key.
        logger.info(
            "api key=%s %s %s -> %s (%.0f ms)",
            api_key.id,
            request.method,
            request.url_rule.rule if request.url_rule else request.path,
            response.status_code,
            (time.monotonic() - g.api_started) * 1000,
        )
        db.session.commit()  # keeps last_used_at
    return response


@bp.errorhandler(ApiProblem)
def api_problem(problem: ApiProblem) -> Response:
    db.session.rollback()
    return problem_response(problem)


def _json(model: type[BaseModel], payload: Any, status: int = 200) -> Response:
    # Validating what we answer against the documented model catches a drift at once.
    body = model.model_validate(payload).model_dump(mode="json")
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _body(model: type[BaseModel]):
    raw = request.get_data(cache=True)
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        if is_malformed_json(error):
            raise ApiProblem(400, "The body is not valid JSON.") from None
        raise ApiProblem(
            422, "Some fields are missing or invalid.", validation_errors(error), "validation"
        ) from None


def _check_id(value: str, name: str = "external_id") -> str:
    import re

    if not re.fullmatch(schemas.EXTERNAL_ID, value):
        raise ApiProblem(
            422,
            f"{name} must be 1 to 64 characters among A-Z a-z 0-9 . _ : -",
            [{"field": f"/{name}", "message": "invalid identifier"}],
            "validation",
        )
    return value


def _follow_up(external_id: str) -> FollowUp:
    follow_up = beneficiaries.follow_up_for(g.organisation, _check_id(external_id))
    if follow_up is None:
        raise ApiProblem(404, "No beneficiary with this external_id.")
    return follow_up


def _field_problem(field: str | None, message: str, status: int = 422) -> ApiProblem:
    errors = [{"field": f"/{field}", "message": message}] if field else None
    return ApiProblem(status, message, errors, "validation" if status == 422 else None)


# -- Beneficiaries -----------------------------------------------------------------------


def beneficiary_payload(follow_up: FollowUp) -> dict[str, Any]:
    person = follow_up.beneficiary
    payload = {name: getattr(person, name) for name in beneficiaries.PERSONAL_FIELDS}
    payload["role"] = person.role.value
    referent = None
    if follow_up.referent_name or follow_up.referent_email:
        referent = {
            "name": follow_up.referent_name,
            "email": follow_up.referent_email,
            "phone": follow_up.referent_phone,
        }
    payload.update(
        {
            "id": person.id,
            "external_id": follow_up.external_id,
            "referent": referent,
            "activated_at": person.activated_at,
            "sms_opted_out": person.sms_opted_out,
            "followed_by": beneficiaries.followed_by(person),
            "created_at": person.created_at,
            "updated_at": person.updated_at,
        }
    )
    return payload


def _beneficiary_fields(data: schemas.BeneficiaryFields) -> dict[str, Any]:
    fields = data.model_dump(exclude={"external_id"})
    return fields


@operation(
    "/beneficiaries/<external_id>",
    "PUT",
    summary="Create or replace a beneficiary",
    body=schemas.BeneficiaryFields,
    responses={200: schemas.BeneficiaryOut, 201: schemas.BeneficiaryOut, 422: None},
)
def put_beneficiary(external_id: str):
    """Links to an existing person on CAF number + birth date or France Travail id + birth date."""
    _check_id(external_id)
    data = _body(schemas.BeneficiaryFields)
    result = beneficiaries.upsert_beneficiary(
        g.organisation, external_id, _beneficiary_fields(data)
    )
    db.session.commit()
    return _json(
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
    return _json(schemas.BeneficiaryOut, beneficiary_payload(_follow_up(external_id)))


@operation(
    "/beneficiaries/<external_id>",
    "DELETE",
    summary="End this organisation's follow-up",
    responses={204: None, 404: None},
)
def delete_beneficiary(external_id: str):
    """Cancels the organisation's future appointments, removes its steps and its link; the
    last organisation to let go erases the person."""
    beneficiaries.end_follow_up(g.organisation, _follow_up(external_id))
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
    follow_up = _follow_up(external_id)
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
    responses={200: schemas.BatchOut, 422: None},
)
def batch_beneficiaries():
    """Each item is validated and saved on its own: one bad item does not stop the others."""
    batch = _body(schemas.BatchIn)
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
    saved = iter(beneficiaries.upsert_beneficiaries(g.organisation, valid))
    for result in results:
        if "status" not in result:
            result["status"] = 201 if next(saved).created else 200
    db.session.commit()
    return _json(schemas.BatchOut, {"results": results})


# -- Pathway steps -------------------------------------------------------------------------


@operation(
    "/beneficiaries/<external_id>/steps/<step_external_id>",
    "PUT",
    summary="Create or replace one of this organisation's steps",
    body=schemas.StepIn,
    responses={200: schemas.StepOut, 201: schemas.StepOut, 404: None, 422: None},
)
def put_step(external_id: str, step_external_id: str):
    follow_up = _follow_up(external_id)
    _check_id(step_external_id, "step_external_id")
    data = _body(schemas.StepIn)
    try:
        result = pathway.upsert_step(
            g.organisation, follow_up.beneficiary, step_external_id, data.model_dump()
        )
    except pathway.StepError as error:
        raise _field_problem(error.field, str(error), 422 if error.field else 409) from None
    db.session.commit()
    return _json(schemas.StepOut, pathway.step_payload(result.step), 201 if result.created else 200)


@operation(
    "/beneficiaries/<external_id>/steps/<step_external_id>",
    "DELETE",
    summary="Delete one of this organisation's steps",
    responses={204: None, 404: None},
)
def delete_step(external_id: str, step_external_id: str):
    follow_up = _follow_up(external_id)
    step = pathway.step_by_external_id(
        g.organisation, follow_up.beneficiary, _check_id(step_external_id, "step_external_id")
    )
    if step is None:
        raise ApiProblem(404, "No step with this external_id for this beneficiary.")
    db.session.delete(step)
    db.session.commit()
    return Response(status=204)


@operation(
    "/beneficiaries/<external_id>/steps",
    "GET",
    summary="The person's whole pathway, every organisation's steps",
    responses={200: schemas.StepsOut, 404: None},
)
def list_steps(external_id: str):
    follow_up = _follow_up(external_id)
    steps = [pathway.step_payload(step) for step in pathway.steps_of(follow_up.beneficiary)]
    return _json(schemas.StepsOut, {"steps": steps})


# -- Slots and appointments ---------------------------------------------------------------


def slot_payload(slot: Slot) -> dict[str, Any]:
    reserved = None
    if slot.reserved_for_id is not None:
        reserved = db.session.scalars(
            select(FollowUp.external_id).where(
                FollowUp.beneficiary_id == slot.reserved_for_id,
                FollowUp.organisation_id == slot.organisation_id,
            )
        ).first()
    return {
        "id": slot.id,
        "external_id": slot.external_id,
        "counsellor_email": slot.counsellor.email,
        "starts_at": slot.starts_at,
        "duration_minutes": slot.duration_minutes,
        "mode": slot.mode.value,
        "location": slot.location,
        "purpose": slot.purpose.value,
        "reserved_for": reserved,
        "is_booked": appointments.live_appointment(slot) is not None,
        "created_at": slot.created_at,
        "updated_at": slot.updated_at,
    }


def _slot(external_id: str) -> Slot:
    slot = appointments.slot_by_external_id(g.organisation, _check_id(external_id))
    if slot is None or slot.withdrawn_at is not None:
        raise ApiProblem(404, "No slot with this external_id.")
    return slot


@operation(
    "/slots/<external_id>",
    "PUT",
    summary="Create or replace a slot a counsellor offers",
    body=schemas.SlotIn,
    responses={200: schemas.SlotOut, 201: schemas.SlotOut, 409: None, 422: None},
)
def put_slot(external_id: str):
    """Refused on a public holiday of the organisation's department."""
    _check_id(external_id)
    data = _body(schemas.SlotIn)
    try:
        result = appointments.upsert_slot(g.organisation, external_id, data.model_dump())
    except appointments.AppointmentError as error:
        raise _field_problem(error.field, str(error), 422 if error.field else 409) from None
    db.session.commit()
    return _json(schemas.SlotOut, slot_payload(result.slot), 201 if result.created else 200)


@operation(
    "/slots/<external_id>",
    "GET",
    summary="Read a slot",
    responses={200: schemas.SlotOut, 404: None},
)
def get_slot(external_id: str):
    return _json(schemas.SlotOut, slot_payload(_slot(external_id)))


@operation(
    "/slots/<external_id>",
    "DELETE",
    summary="Withdraw a slot",
    responses={204: None, 404: None, 409: None},
    query=[
        {
            "name": "cancel_booking",
            "schema": {"type": "boolean"},
            "description": "cancel the appointment on it, telling the person by SMS",
        }
    ],
)
def delete_slot(external_id: str):
    """A booked slot answers 409 unless ?cancel_booking=true."""
    slot = _slot(external_id)
    cancel_booking = request.args.get("cancel_booking", "false").lower()
    if cancel_booking not in ("true", "false"):
        raise _field_problem("cancel_booking", "cancel_booking must be true or false")
    try:
        appointments.withdraw_slot(slot, cancel_booking == "true")
    except appointments.AppointmentError as error:
        raise ApiProblem(409, str(error), kind="slot_booked") from None
    db.session.commit()
    return Response(status=204)


def _moment(name: str) -> datetime | None:
    """A query bound: an RFC 3339 date-time with offset, or a date (midnight, Paris)."""
    value = request.args.get(name)
    if value is None or value == "":
        return None
    problem = _field_problem(name, f"{name} must be a date or a date-time with an offset")
    try:
        if len(value) == 10:
            moment = datetime.combine(date.fromisoformat(value), day_time(0), PARIS)
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise problem from None
    if moment.tzinfo is None:
        raise _field_problem(name, f"{name} needs an offset, e.g. +01:00")
    if not 1900 <= moment.year <= 2999:  # also keeps the conversions below from overflowing
        raise _field_problem(name, f"{name} must be between the years 1900 and 2999")
    return moment.astimezone(UTC)


def _integer(name: str, default: int, low: int, high: int) -> int:
    value = request.args.get(name)
    if value is None or value == "":
        return default
    if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
        raise _field_problem(name, f"{name} must be an integer from {low} to {high}")
    return int(value)


@operation(
    "/appointments",
    "GET",
    summary="The organisation's appointments, 500 a page",
    responses={200: schemas.AppointmentsOut, 422: None},
    query=[
        {
            "name": "status",
            "schema": {"type": "string", "enum": [s.value for s in AppointmentStatus]},
        },
        {
            "name": "from",
            "schema": {"type": "string"},
            "description": "date or date-time: slots starting at or after",
        },
        {
            "name": "to",
            "schema": {"type": "string"},
            "description": "date or date-time: slots starting before",
        },
        {
            "name": "after",
            "schema": {"type": "integer", "minimum": 0},
            "description": "the cursor: next_after of the previous page",
        },
    ],
)
def list_appointments():
    status = request.args.get("status") or None
    if status is not None and status not in {s.value for s in AppointmentStatus}:
        raise _field_problem("status", "unknown status")
    page_size = 500
    rows = appointments.list_for_organisation(
        g.organisation,
        AppointmentStatus(status) if status else None,
        _moment("from"),
        _moment("to"),
        _integer("after", 0, 0, MAX_ROW_ID),
        page_size,
    )
    items = [appointments.appointment_payload(a, external_id) for a, external_id in rows]
    next_after = items[-1]["id"] if len(items) == page_size else None
    return _json(schemas.AppointmentsOut, {"appointments": items, "next_after": next_after})


@operation(
    "/appointments/<int:appointment_id>/status",
    "POST",
    summary="Confirm, decline or record the outcome of an appointment",
    body=schemas.StatusIn,
    responses={200: schemas.AppointmentOut, 404: None, 409: None, 422: None},
)
def set_appointment_status(appointment_id: int):
    """An impossible transition (attended before the start, anything after cancelled) is a 409."""
    if appointment_id > MAX_ROW_ID:
        raise ApiProblem(404, "No appointment with this id.")
    appointment = db.session.scalars(
        select(Appointment)
        .join(Slot)
        .where(Appointment.id == appointment_id, Slot.organisation_id == g.organisation.id)
    ).first()
    if appointment is None:
        raise ApiProblem(404, "No appointment with this id.")
    data = _body(schemas.StatusIn)
    try:
        appointments.set_status(
            appointment, AppointmentStatus(data.status), data.reason, by="backoffice"
        )
    except appointments.AppointmentError as error:
        raise ApiProblem(409, str(error), kind="transition") from None
    db.session.commit()
    external_id = beneficiaries.follow_up_external_id(g.organisation, appointment.beneficiary_id)
    return _json(schemas.AppointmentOut, appointments.appointment_payload(appointment, external_id))


# -- Offers ----------------------------------------------------------------------------------


def _offer(external_id: str):
    offer = offers.offer_by_external_id(g.organisation, _check_id(external_id))
    if offer is None or offer.withdrawn_at is not None:
        raise ApiProblem(404, "No offer with this external_id.")
    return offer


@operation(
    "/offers/<external_id>",
    "PUT",
    summary="Create or replace an offer",
    body=schemas.OfferIn,
    responses={200: schemas.OfferOut, 201: schemas.OfferOut, 422: None},
)
def put_offer(external_id: str):
    _check_id(external_id)
    data = _body(schemas.OfferIn)
    result = offers.upsert_offer(g.organisation, external_id, data.model_dump())
    db.session.commit()
    return _json(
        schemas.OfferOut, offers.offer_payload(result.offer), 201 if result.created else 200
    )


@operation(
    "/offers/<external_id>",
    "GET",
    summary="Read an offer",
    responses={200: schemas.OfferOut, 404: None},
)
def get_offer(external_id: str):
    return _json(schemas.OfferOut, offers.offer_payload(_offer(external_id)))


@operation(
    "/offers/<external_id>", "DELETE", summary="Withdraw an offer", responses={204: None, 404: None}
)
def delete_offer(external_id: str):
    """The offer disappears from the portal at once."""
    offers.withdraw_offer(_offer(external_id))
    db.session.commit()
    return Response(status=204)


# -- Events and webhooks --------------------------------------------------------------------


@operation(
    "/events",
    "GET",
    summary="What happened on the portal, oldest first",
    responses={200: schemas.EventsOut, 422: None},
    query=[
        {
            "name": "after",
            "schema": {"type": "integer", "minimum": 0},
            "description": "the last id read (next_after)",
        },
        {
            "name": "limit",
            "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
        },
    ],
)
def list_events():
    """Side-effect free: a consumer that crashed reads again from its last next_after."""
    after = _integer("after", 0, 0, 2**62)
    limit = _integer("limit", 100, 1, events.FEED_MAX)
    items, next_after = events.feed(g.organisation, after, limit)
    return _json(schemas.EventsOut, {"events": items, "next_after": next_after})


@operation(
    "/webhook",
    "PUT",
    summary="Register the URL that receives every event",
    body=schemas.WebhookIn,
    responses={200: schemas.WebhookOut, 201: schemas.WebhookOut, 422: None},
)
def put_webhook():
    """https only, and never a private, loopback or link-local address (unless
    WEBHOOK_ALLOW_INSECURE=1)."""
    data = _body(schemas.WebhookIn)
    try:
        endpoint, created = webhooks.register(g.organisation, data.url, data.secret)
    except webhooks.WebhookUrlError as error:
        raise _field_problem("url", str(error)) from None
    db.session.commit()
    return _json(schemas.WebhookOut, webhooks.endpoint_payload(endpoint), 201 if created else 200)


@operation(
    "/webhook",
    "GET",
    summary="Read the registered webhook",
    responses={200: schemas.WebhookOut, 404: None},
)
def get_webhook():
    endpoint = webhooks.endpoint_of(g.organisation)
    if endpoint is None:
        raise ApiProblem(404, "No webhook is registered.")
    return _json(schemas.WebhookOut, webhooks.endpoint_payload(endpoint))


@operation("/webhook", "DELETE", summary="Remove the webhook", responses={204: None, 404: None})
def delete_webhook():
    if not webhooks.unregister(g.organisation):
        raise ApiProblem(404, "No webhook is registered.")
    db.session.commit()
    return Response(status=204)


@bp.route("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document, generated from the same models that validate requests."""
    from portal.api.openapi import document

    return Response(json.dumps(document()), mimetype="application/json")


openapi.allowed_roles = None
