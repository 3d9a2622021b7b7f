"""RFC 9457 problem details: every API error has the same shape."""

from typing import Any

from flask import Response, json
from pydantic import ValidationError

TYPE_BASE = "urn:portail-spi:problem:"

TITLES = {
    400: "Malformed request",
    401: "Missing or invalid API key",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Validation failed",
    429: "Too many requests",
    500: "Internal error",
}


class ApiProblem(Exception):
    def __init__(
        self,
        status: int,
        detail: str,
        errors: list[dict[str, str]] | None = None,
        kind: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.kind = kind
        self.headers = headers or {}


def problem_response(problem: ApiProblem) -> Response:
    body: dict[str, Any] = {
        "type": TYPE_BASE + (problem.kind or str(problem.status)),
        "title": TITLES.get(problem.status, "Error"),
        "status": problem.status,
        "detail": problem.detail,
    }
    if problem.errors is not None:
        body["errors"] = problem.errors
    response = Response(
        json.dumps(body), status=problem.status, mimetype="application/problem+json"
    )
    for name, value in problem.headers.items():
        response.headers[name] = value
    return response


def pointer(location: tuple, prefix: str = "") -> str:
    """A JSON pointer (RFC 6901) for a pydantic error location."""
    parts = [str(part).replace("~", "~0").replace("/", "~1") for part in location]
    return prefix + "".join("/" + part for part in parts)


def validation_errors(error: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    errors = []
    for item in error.errors(include_url=False, include_input=False):
        errors.append({"field": pointer(item["loc"], prefix), "message": item["msg"]})
    return errors


def is_malformed_json(error: ValidationError) -> bool:
    return any(item["type"] == "json_invalid" for item in error.errors(include_url=False))
