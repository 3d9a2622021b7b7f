"""The OpenAPI 3.1 document, generated from the routes and the pydantic models."""

import re
from functools import lru_cache
from typing import Any

from flask import Response, json
from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from portal.api import schemas
from portal.api.routing import OPERATIONS, bp

REF = "#/components/schemas/{model}"
DESCRIPTION = """Between the portal and the department's case-management software.

- A query parameter given more than once is a 422 on that parameter; an empty one
  (`?status=`) counts as absent.
- No request string may contain U+0000.
- Some rules depend on what the portal holds (a counsellor, a beneficiary, the public
  holidays, the clock, the addresses a host name resolves to) or compare two fields
  (`ends_on` before `starts_on`): no JSON schema can state them. Each operation's 422
  lists those it applies, on top of its schemas."""
_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")


def _path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    parameters = []
    for converter, name in _CONVERTER.findall(rule):
        schema = (
            {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
            if converter == "int"
            else {"type": "string", "pattern": schemas.EXTERNAL_ID}
        )
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    return _CONVERTER.sub(r"{\2}", rule), parameters


class _Schemas(GenerateJsonSchema):
    def str_schema(self, schema):
        json_schema = super().str_schema(schema)
        if self.mode == "validation" and "pattern" not in json_schema:
            # Every request string refuses U+0000 (schemas.Strict): say so.
            json_schema["pattern"] = schemas.NO_NUL
        return json_schema


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    models = {schemas.Problem}
    for op in OPERATIONS:
        if op["body"] is not None:
            models.add(op["body"])
        models.update(model for model in op["responses"].values() if isinstance(model, type))
    keyed = [(model, "validation" if _is_input(model) else "serialization") for model in models]
    refs, definitions = models_json_schema(keyed, ref_template=REF, schema_generator=_Schemas)
    paths: dict[str, dict[str, Any]] = {}
    problem = {"application/problem+json": {"schema": {"$ref": REF.format(model="Problem")}}}
    for op in OPERATIONS:
        path, parameters = _path("/api/v1" + op["rule"])
        parameters += [{"in": "query", **q} for q in op["query"]]
        responses: dict[str, Any] = {}
        for status, model in sorted(op["responses"].items()):
            if not isinstance(model, type):
                description = model or ("No content" if status in (202, 204) else "Problem")
                responses[str(status)] = (
                    {"description": description}
                    if status < 400
                    else {"description": description, "content": problem}
                )
            else:
                mode = "serialization"
                responses[str(status)] = {
                    "description": "OK" if status == 200 else "Created",
                    "content": {"application/json": {"schema": refs[(model, mode)]}},
                }
                if op["links"]:
                    responses[str(status)]["links"] = {
                        target: {"operationId": target, "parameters": parameters}
                        for target, parameters in op["links"].items()
                    }
        # Every operation may also answer these.
        for status, description in (
            (400, "Malformed JSON"),
            (401, "Missing or invalid key"),
            (413, "Body over 1 MiB"),
            (429, "Rate limit exceeded; see Retry-After"),
        ):
            if op["operation_id"] != "openapi":
                responses.setdefault(str(status), {"description": description, "content": problem})
        operation: dict[str, Any] = {
            "operationId": op["operation_id"],
            "summary": op["summary"],
            "responses": responses,
        }
        if op["description"]:
            operation["description"] = op["description"]
        if parameters:
            operation["parameters"] = parameters
        if parameters:
            # An identifier outside the pattern, or a bad query value, is a 422.
            operation["responses"].setdefault("422", {"description": "Problem", "content": problem})
        if op["body"] is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": refs[(op["body"], "validation")]}},
            }
            operation["responses"].setdefault("422", {"description": "Problem", "content": problem})
        paths.setdefault(path, {})[op["method"]] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Portail SPI back-office sync API",
            "version": "1.1",
            "description": DESCRIPTION,
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": definitions.get("$defs", {}),
        },
        "paths": paths,
    }


def _is_input(model) -> bool:
    return issubclass(model, schemas.Strict)


@bp.route("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document, generated from the same models that validate requests."""
    return Response(json.dumps(document()), mimetype="application/json")


openapi.allowed_roles = None
