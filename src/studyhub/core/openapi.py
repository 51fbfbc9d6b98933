"""OpenAPI shaping: 400 `VALIDATION_ERROR` in place of FastAPI's 422, documented error bodies,
stable operation ids, named enums.

Everything here is generic post-processing of the schema FastAPI builds, so it applies to routes
added later without touching their routers:

- every `/api/v1` operation documents the errors any of them can return: 403 `IP_BLOCKED` and
  429 `RATE_LIMITED` (the rate-limit middleware), 500 `INTERNAL_ERROR`, 503
  `SERVICE_UNAVAILABLE` (database busy), 401 when the operation needs a token, 413 when it takes
  a body. A route's own description of the same status is kept and extended;
- `X-RateLimit-*`, `Retry-After` and `WWW-Authenticate` headers are documented where they are sent;
- inline enums (a `Literal[...]` field or query parameter) become named schemas, so generated
  clients get a named enum type instead of an anonymous string union.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel

from studyhub.core.errors import ErrorBody

_ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}

_HEADERS: dict[str, dict[str, Any]] = {
    "X-RateLimit-Limit": {
        "description": "Requests allowed per window (per client IP)",
        "schema": {"type": "integer"},
    },
    "X-RateLimit-Remaining": {
        "description": "Requests left in the current window",
        "schema": {"type": "integer"},
    },
    "X-RateLimit-Reset": {
        "description": "Seconds until the current window ends",
        "schema": {"type": "integer"},
    },
    "Retry-After": {
        "description": "Seconds to wait before retrying",
        "schema": {"type": "integer"},
    },
    "WWW-Authenticate": {
        "description": "Always `Bearer`",
        "schema": {"type": "string"},
    },
}
_RATE_LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")

# (status, explanation, headers): 401 only where a token is needed, 413 only where a body is.
_GENERIC_ERRORS: list[tuple[int, str, tuple[str, ...]]] = [
    (401, "`UNAUTHORIZED`: the access token is missing, invalid, expired or revoked", ()),
    (403, "`IP_BLOCKED`: requests from this address are blocked by an administrator", ()),
    (
        413,
        "`PAYLOAD_TOO_LARGE`: the request body is over `MAX_REQUEST_BYTES` "
        "(`MAX_UPLOAD_BYTES` for uploads)",
        (),
    ),
    (
        429,
        "`RATE_LIMITED`: over the per-IP quota (`RATE_LIMIT_PER_MINUTE`), or this address is "
        "temporarily blocked after repeated failed logins; wait `Retry-After` seconds",
        ("Retry-After",),
    ),
    (500, "`INTERNAL_ERROR`: an unexpected error; quote the `request_id` when reporting it", ()),
    (
        503,
        "`SERVICE_UNAVAILABLE`: the database is busy or unavailable; retry after `Retry-After`",
        ("Retry-After",),
    ),
]


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries for a route: each status documented with the one error body."""
    return {
        status: {"model": ErrorBody, "description": HTTPStatus(status).phrase}
        for status in statuses
    }


def operation_id(route: APIRoute) -> str:
    """Routes name themselves `<tag>-<action>` (`courses-list`); that name is the operationId."""
    return route.name


def install_openapi(app: FastAPI, *, api_prefix: str = "/api/v1") -> None:
    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
        )
        app.openapi_schema = shape_schema(schema, api_prefix=api_prefix)
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]


# Schemas that routes reference by hand (request bodies declared through `openapi_extra`, such as
# an endpoint taking JSON or multipart): added to the components when the document is built.
_EXTRA_SCHEMAS: dict[str, dict[str, Any]] = {}


def schema_ref(name: str, schema: dict[str, Any] | type[BaseModel]) -> dict[str, str]:
    """Register a named component schema and return a `$ref` to it."""
    if isinstance(schema, type):
        schema = schema.model_json_schema(ref_template="#/components/schemas/{model}")
    _EXTRA_SCHEMAS[name] = schema
    return {"$ref": f"#/components/schemas/{name}"}


# The access token is one header whichever way a client got it (see `AccessTokenAuth`): every
# operation that takes it as an OAuth2 password-flow token takes it as a plain bearer token too.
_OAUTH_SCHEME = "OAuth2Password"
_BEARER_SCHEME = "BearerToken"


def shape_schema(schema: dict[str, Any], *, api_prefix: str) -> dict[str, Any]:
    """Apply the conventions of API.md §0 to a schema built by FastAPI (in place; returned)."""
    components = schema.setdefault("components", {})
    if _OAUTH_SCHEME in components.get("securitySchemes", {}):
        components["securitySchemes"][_BEARER_SCHEME] = {"type": "http", "scheme": "bearer"}
    schemas = components.setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["ErrorBody"] = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, extra in _EXTRA_SCHEMAS.items():
        schemas.setdefault(name, extra)
    components.setdefault("headers", {}).update(_HEADERS)

    for path, path_item in schema.get("paths", {}).items():
        for method, operation in path_item.items():
            if method not in _METHODS:
                continue
            security = operation.get("security", [])
            if {_OAUTH_SCHEME: []} in security and {_BEARER_SCHEME: []} not in security:
                security.append({_BEARER_SCHEME: []})
            responses: dict[str, Any] = operation.setdefault("responses", {})
            if responses.pop("422", None) is not None or operation.get("parameters"):
                _add_error(responses, 400, "`VALIDATION_ERROR`: the request is not valid")
            if path.startswith(api_prefix + "/"):
                _add_api_errors(operation, responses)
            operation["responses"] = dict(sorted(responses.items()))
            _hoist_operation_enums(operation, schemas)

    for name in list(schemas):
        _hoist_component_enums(name, schemas)
    components["schemas"] = dict(sorted(schemas.items()))
    return schema


def _add_api_errors(operation: dict[str, Any], responses: dict[str, Any]) -> None:
    authenticated = bool(operation.get("security"))
    has_body = "requestBody" in operation
    for status, text, headers in _GENERIC_ERRORS:
        if (status == 401 and not authenticated) or (status == 413 and not has_body):
            continue
        _add_error(responses, status, text, headers)
    for code, response in responses.items():
        if code.startswith("2") or code == "429":
            refs = response.setdefault("headers", {})
            for header in _RATE_LIMIT_HEADERS:
                refs.setdefault(header, {"$ref": f"#/components/headers/{header}"})
    if authenticated:
        responses["401"].setdefault("headers", {}).setdefault(
            "WWW-Authenticate", {"$ref": "#/components/headers/WWW-Authenticate"}
        )


def _add_error(
    responses: dict[str, Any], status: int, text: str, headers: tuple[str, ...] = ()
) -> None:
    """Document `status` with the error body; a route's own description is kept and extended."""
    response = responses.setdefault(str(status), {})
    description = response.get("description", "")
    phrase = HTTPStatus(status).phrase
    if not description:
        response["description"] = f"{phrase}. {text}"
    elif text not in description:
        separator = ". " if description == phrase else "\n\n"
        response["description"] = f"{description}{separator}{text}"
    response["content"] = {"application/json": {"schema": dict(_ERROR_REF)}}
    for header in headers:
        response.setdefault("headers", {}).setdefault(
            header, {"$ref": f"#/components/headers/{header}"}
        )


# -- named enums ----------------------------------------------------------------------------


def _pascal(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", text))


def _hoist_operation_enums(operation: dict[str, Any], schemas: dict[str, Any]) -> None:
    prefix = _pascal(operation.get("operationId", ""))
    for parameter in operation.get("parameters", []):
        if "schema" in parameter:
            parameter["schema"] = _hoist(
                parameter["schema"], prefix + _pascal(parameter["name"]), schemas
            )


def _hoist_component_enums(name: str, schemas: dict[str, Any]) -> None:
    component = schemas[name]
    for prop, prop_schema in list(component.get("properties", {}).items()):
        component["properties"][prop] = _hoist(prop_schema, name + _pascal(prop), schemas)


def _hoist(node: Any, name: str, schemas: dict[str, Any]) -> Any:
    """Replace an inline multi-value enum in `node` by a `$ref` to a component named `name`."""
    if not isinstance(node, dict):
        return node
    if "enum" in node and len(node["enum"]) > 1 and "$ref" not in node:
        definition = {"type": node.get("type", "string"), "enum": node["enum"], "title": name}
        final, counter = name, 2
        while final in schemas and schemas[final].get("enum") != node["enum"]:
            final, counter = f"{name}{counter}", counter + 1
        schemas.setdefault(final, {**definition, "title": final})
        site = {"$ref": f"#/components/schemas/{final}"}
        site.update({k: node[k] for k in ("default", "description") if k in node})
        return site
    for key in ("anyOf", "oneOf", "allOf"):
        if key in node:
            node[key] = [_hoist(item, name, schemas) for item in node[key]]
    if "items" in node:
        node["items"] = _hoist(node["items"], name + "Item", schemas)
    return node
