"""The OpenAPI document is good enough to generate clients from (DESIGN.md §10) and the committed
`openapi.json` matches the code.

These checks walk whatever routes exist, so routers added later are held to the same rules.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel
from typer.testing import CliRunner

from studyhub.auth.dependencies import CurrentUser
from studyhub.cli import app as cli_app
from studyhub.core.config import Settings

ROOT = Path(__file__).resolve().parents[2]
ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
METHODS = {"get", "put", "post", "delete", "patch"}
# Non-API error responses with a body of their own, on purpose.
OWN_ERROR_BODIES = {("get", "/health/ready", "503")}

Operation = tuple[str, str, dict[str, Any]]


def operations(schema: dict[str, Any]) -> Iterator[Operation]:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method, path, operation


@pytest.fixture(scope="module")
def openapi(app: FastAPI) -> dict[str, Any]:
    return app.openapi()


def test_every_operation_has_a_summary_a_known_tag_and_an_id(openapi: dict[str, Any]) -> None:
    described = {t["name"] for t in openapi["tags"] if t.get("description")}
    for method, path, op in operations(openapi):
        assert op.get("summary"), f"{method.upper()} {path} has no summary"
        assert len(op.get("tags", [])) == 1 and op["tags"][0] in described, (method, path)
        assert op.get("operationId"), (method, path)


def test_every_error_response_uses_the_error_body(openapi: dict[str, Any]) -> None:
    for method, path, op in operations(openapi):
        for status, response in op["responses"].items():
            if status[0] not in "45" or (method, path, status) in OWN_ERROR_BODIES:
                continue
            assert response["content"] == {"application/json": {"schema": ERROR_REF}}, (
                f"{method.upper()} {path} {status} is not documented with ErrorBody"
            )
            assert response.get("description"), (method, path, status)


def test_generic_api_errors_are_documented_everywhere(openapi: dict[str, Any]) -> None:
    for method, path, op in operations(openapi):
        if not path.startswith("/api/v1/"):
            continue
        statuses = set(op["responses"])
        assert {"403", "429", "500", "503"} <= statuses, (method, path, statuses)
        assert "IP_BLOCKED" in op["responses"]["403"]["description"]
        assert "Retry-After" in op["responses"]["429"]["headers"]
        if op.get("security"):
            assert "401" in statuses, (method, path)
            assert "WWW-Authenticate" in op["responses"]["401"]["headers"]
        if "requestBody" in op:
            assert "413" in statuses, (method, path)
        for status, response in op["responses"].items():
            if status.startswith("2"):
                assert "X-RateLimit-Remaining" in response.get("headers", {}), (method, path)


def test_route_specific_errors_are_kept(openapi: dict[str, Any]) -> None:
    create = openapi["paths"]["/api/v1/courses"]["post"]["responses"]
    assert "409" in create and "403" in create
    assert create["403"]["description"].startswith("Forbidden")
    update = openapi["paths"]["/api/v1/courses/{course_id}"]["patch"]["responses"]
    assert {"404", "409", "412"} <= set(update)


def _is_named(node: dict[str, Any]) -> bool:
    """A `$ref`, an array of `$ref`, an optional `$ref` (`anyOf: [$ref, null]`), or a union of
    named models (a view that depends on the caller's role)."""
    if "anyOf" in node:
        kinds = [item for item in node["anyOf"] if item != {"type": "null"}]
        return bool(kinds) and all(_is_named(kind) for kind in kinds)
    return "$ref" in node or (node.get("type") == "array" and "$ref" in node.get("items", {}))


def test_success_bodies_are_named_models(openapi: dict[str, Any]) -> None:
    for method, path, op in operations(openapi):
        for status, response in op["responses"].items():
            body = response.get("content", {}).get("application/json", {}).get("schema")
            if status.startswith("2") and body is not None:
                assert _is_named(body), f"{method.upper()} {path} {status}: inline {body}"
        request = op.get("requestBody", {}).get("content", {})
        for media in request.values():
            assert _is_named(media["schema"]), f"{method.upper()} {path}: inline request body"


def _inline_enums(node: Any, where: str) -> Iterator[str]:
    if isinstance(node, dict):
        if "enum" in node and len(node["enum"]) > 1:
            yield where
        for key, value in node.items():
            yield from _inline_enums(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _inline_enums(value, f"{where}/{i}")


def test_enums_are_named_schemas(openapi: dict[str, Any]) -> None:
    inline = list(_inline_enums(openapi["paths"], "paths"))
    for name, component in openapi["components"]["schemas"].items():
        inline += [
            w
            for w in _inline_enums(component, name)
            if w != name  # the enum component itself
        ]
    assert inline == []
    assert openapi["components"]["schemas"]["CourseStatus"]["enum"] == [
        "draft",
        "published",
        "archived",
    ]
    users_sort = openapi["paths"]["/api/v1/users"]["get"]["parameters"]
    sort = next(p for p in users_sort if p["name"] == "sort")
    assert sort["schema"]["$ref"] == "#/components/schemas/UsersListSort"


def test_security_schemes_let_docs_authorize(openapi: dict[str, Any]) -> None:
    schemes = openapi["components"]["securitySchemes"]
    assert schemes["BearerToken"] == {"type": "http", "scheme": "bearer"}
    password = schemes["OAuth2Password"]["flows"]["password"]
    assert password["tokenUrl"] == "/api/v1/auth/token"
    assert "/api/v1/auth/token" in openapi["paths"]
    me = openapi["paths"]["/api/v1/auth/me"]["get"]
    assert {"OAuth2Password": []} in me["security"] and {"BearerToken": []} in me["security"]


class _Thing(BaseModel):
    id: int


async def test_routes_added_later_get_the_same_treatment(make_app: Callable[..., FastAPI]) -> None:
    """What another branch's router gets without doing anything: the generic errors."""
    application = make_app()
    router = APIRouter(prefix="/api/v1/things", tags=["courses"])

    @router.post("", name="things-create", summary="Make a thing")
    async def create(body: _Thing, principal: CurrentUser) -> _Thing:
        return body

    application.include_router(router)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application), base_url="http://t"
    ) as client:
        schema = (await client.get("/openapi.json")).json()
    responses = schema["paths"]["/api/v1/things"]["post"]["responses"]
    assert {"400", "401", "403", "413", "429", "500", "503"} <= set(responses)
    assert all(
        r["content"]["application/json"]["schema"] == ERROR_REF
        for r in responses.values()
        if r is not responses["200"]
    )


def test_committed_openapi_json_matches_the_code(app: FastAPI) -> None:
    committed = ROOT / "openapi.json"
    assert committed.exists(), "openapi.json is missing: run `make openapi` and commit it"
    current = json.dumps(app.openapi(), indent=2) + "\n"
    assert committed.read_text(encoding="utf-8") == current, (
        "openapi.json is out of date with the code: run `make openapi` and commit openapi.json"
    )


def test_openapi_check_command_reports_drift(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    monkeypatch.setenv("LOG_DIR", "")
    runner = CliRunner()
    target = tmp_path / "openapi.json"
    target.write_text("{}\n")
    drift = runner.invoke(cli_app, ["openapi", "--check", "--output", str(target)])
    assert drift.exit_code == 1
    assert "make openapi" in drift.output
    assert runner.invoke(cli_app, ["openapi", "--output", str(target)]).exit_code == 0
    ok = runner.invoke(cli_app, ["openapi", "--check", "--output", str(target)])
    assert ok.exit_code == 0, ok.output
    assert runner.invoke(cli_app, ["openapi", "--check"]).exit_code == 2


def test_schema_names_do_not_collide(openapi: dict[str, Any]) -> None:
    """Two models with one class name become `studyhub__pkg__schemas__Name`, which generated
    clients cannot handle: give each a distinct name (or share one from core.schemas)."""
    mangled = [name for name in openapi["components"]["schemas"] if "__" in name]
    assert mangled == []
