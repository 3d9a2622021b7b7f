"""The API's plumbing: the blueprint, key authentication, rate limits, and the route
registry that feeds both the routing and the OpenAPI document; plus the helpers every
resource module uses to read a request and answer it."""

import hashlib
import logging
import re
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from datetime import time as day_time
from typing import Any

from flask import Blueprint, Response, current_app, g, json, request
from pydantic import BaseModel, ValidationError

from portal.api import schemas
from portal.beneficiaries import services as beneficiaries
from portal.beneficiaries.models import FollowUp
from portal.core.clock import PARIS
from portal.core.problems import ApiProblem, is_malformed_json, problem_response, validation_errors
from portal.core.web import MAX_ROW_ID  # noqa: F401 - the API modules import it from here
from portal.extensions import csrf, db, limiter
from portal.organisations.services import find_api_key

logger = logging.getLogger("portal.api")
bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

# What the OpenAPI document is generated from: one entry per operation.
OPERATIONS: list[dict[str, Any]] = []
PUBLIC_ENDPOINTS = {"api.openapi"}


def operation(
    rule: str,
    method: str,
    *,
    summary: str,
    responses: dict[int, type[BaseModel] | str | None],
    body: type[BaseModel] | None = None,
    query: list[dict[str, Any]] | None = None,
    links: dict[str, dict[str, str]] | None = None,
) -> Callable:
    """Registers a route and describes it for the OpenAPI document in one place.

    A response given as a string is a problem that the string describes. `links` names
    the operations a successful answer leads to, each with the runtime
    expressions that fill its parameters (OpenAPI links: clients and stateful test
    tools follow them)."""

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
                "links": links or {},
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


@bp.before_request
def refuse_repeated_query_parameters() -> None:
    # Which of two values to use would be a guess (Flask takes the first, a proxy may keep
    # the last): a connector that sends both has a bug to hear about.
    for name in request.args:
        if len(request.args.getlist(name)) > 1:
            raise field_problem(name, f"{name} is given more than once: give it once")


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


def respond(model: type[BaseModel], payload: Any, status: int = 200) -> Response:
    # Validating what we answer against the documented model catches a drift at once.
    body = model.model_validate(payload).model_dump(mode="json")
    return Response(json.dumps(body), status=status, mimetype="application/json")


def read_body(model: type[BaseModel]):
    raw = request.get_data(cache=True)
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        if is_malformed_json(error):
            raise ApiProblem(400, "The body is not valid JSON.") from None
        raise ApiProblem(
            422, "Some fields are missing or invalid.", validation_errors(error), "validation"
        ) from None


def check_id(value: str, name: str = "external_id") -> str:
    if not re.fullmatch(schemas.EXTERNAL_ID, value):
        raise ApiProblem(
            422,
            f"{name} must be 1 to 64 characters among A-Z a-z 0-9 . _ : -",
            [{"field": f"/{name}", "message": "invalid identifier"}],
            "validation",
        )
    return value


def follow_up_or_404(external_id: str) -> FollowUp:
    follow_up = beneficiaries.follow_up_for(g.organisation, check_id(external_id))
    if follow_up is None:
        raise ApiProblem(404, "No beneficiary with this external_id.")
    return follow_up


def field_problem(field: str | None, message: str, status: int = 422) -> ApiProblem:
    errors = [{"field": f"/{field}", "message": message}] if field else None
    return ApiProblem(status, message, errors, "validation" if status == 422 else None)


def query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    """An optional query parameter as the OpenAPI document shows it; empty means absent."""
    return {"name": name, "schema": schema, "allowEmptyValue": True, "description": description}


def moment_arg(name: str) -> datetime | None:
    """A query bound: an RFC 3339 date-time with offset, or a date (midnight, Paris)."""
    value = request.args.get(name)
    if value is None or value == "":
        return None
    # The pattern also keeps the years where the conversions below cannot overflow.
    if not re.fullmatch(schemas.MOMENT, value):
        raise field_problem(
            name,
            f"{name} must be a date (2026-03-02) or a date-time with its offset "
            "(2026-03-02T09:30:00+01:00), between the years 1900 and 2999",
        )
    if len(value) == 10:
        moment = datetime.combine(date.fromisoformat(value), day_time(0), PARIS)
    else:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.astimezone(UTC)


def date_arg(name: str) -> date | None:
    """A query date, YYYY-MM-DD; None when absent or empty, a 422 when malformed."""
    value = request.args.get(name)
    if value is None or value == "":
        return None
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise field_problem(name, f"{name} must be a date, YYYY-MM-DD") from None


def integer_arg(name: str, default: int, low: int, high: int) -> int:
    value = request.args.get(name)
    if value is None or value == "":
        return default
    # 90.0 is the integer 90 for JSON Schema, as in a body.
    whole = re.fullmatch(r"([0-9]+)(?:\.0+)?", value)
    if whole is None or not low <= int(whole[1]) <= high:
        raise field_problem(name, f"{name} must be an integer from {low} to {high}")
    return int(whole[1])
