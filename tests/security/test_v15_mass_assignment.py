"""ASVS 5.0 V15.3.3 (mass assignment) and V2.2 (input validation against a positive schema).

Every operation with a JSON request body is found in the app's OpenAPI document, so a new
endpoint is covered without editing this file (beyond giving it a valid body in `bodies.py`,
which the test demands). Privileged fields that are not part of an operation's schema must be
refused with 400 `VALIDATION_ERROR` naming the field, and the object must be unchanged.

Covered elsewhere:
- tests/auth/test_login.py::test_register (a `role` on self-registration is a 400)
- tests/auth/test_login.py::test_verify_token_and_profile_update
  (`role`/`is_active` on PATCH /auth/me)
- tests/users/test_batch.py (per-row validation of user batches)
- tests/core/test_errors.py::test_bad_body_is_a_400_with_field_details_and_no_echoed_secret
"""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from studyhub.core.config import Settings
from studyhub.core.db import Database
from studyhub.users.models import UserRole
from tests.factories import make_user
from tests.helpers import auth_headers
from tests.security.bodies import CALLER, valid_body
from tests.security.world import API, Operation, build_side, fill, operations

# Fields a client must never set by adding them to a body (values chosen to be type-valid for
# whatever column they might reach).
PRIVILEGED: dict[str, Any] = {
    "role": "admin",
    "is_active": False,
    "is_admin": True,
    "owner_id": 1,
    "instructor_id": 1,
    "user_id": 1,
    "course_id": 1,
    "id": 999_999,
    "created_at": "2000-01-01T00:00:00Z",
    "updated_at": "2000-01-01T00:00:00Z",
    "enrolled_count": 999,
    "enrollment_count": 999,
    "status": "published",
    "score": 100,
    "max_score": 100,
    "grade": "A",
    "password_hash": "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
    "tokens_valid_after": "2000-01-01T00:00:00Z",
}

# Object schemas reachable from a request body that may take arbitrary keys, and why.
OPEN_OBJECTS = {
    # {"<question_id>": answer}: a map, not a record; unknown ids score 0.
    ("submissions-create", "answers"),
    # Batch rows: validated one by one by the service against a StrictModel (see the row test).
    ("users-batch", "users[]"),
    ("questions-batch", "questions[]"),
    ("progress-batch", "events[]"),
}
# The component a batch row is validated against (rows are raw objects in the schema).
ROW_SCHEMAS = {"users": "UserCreate", "questions": "QuestionCreate", "enrollments": None}


def _json_operations(app: FastAPI) -> list[Operation]:
    ops = [op for op in operations(app) if op.json_schema is not None]
    assert len(ops) >= 30, "the OpenAPI walk found too few JSON operations"
    return ops


def test_every_request_object_forbids_unknown_keys(app: FastAPI) -> None:
    """Static half: in the published schema, each object with properties says
    `additionalProperties: false`; the only open objects are the listed maps and batch rows."""
    components = app.openapi()["components"]["schemas"]
    problems: list[str] = []
    open_found: set[tuple[str, str]] = set()

    def walk(op_id: str, schema: dict[str, Any], where: str, seen: frozenset[str]) -> None:
        if not schema:  # `Any`: whatever JSON value
            open_found.add((op_id, where))
            return
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                walk(op_id, components[name], where, seen | {name})
            return
        for key in ("anyOf", "oneOf", "allOf"):
            for sub in schema.get(key, []):
                walk(op_id, sub, where, seen)
        if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
            walk(op_id, schema["items"], f"{where}[]", seen)
        if schema.get("type") == "object" or "properties" in schema:
            if "properties" in schema:
                if schema.get("additionalProperties") is not False:
                    problems.append(f"{op_id}: {where or '<body>'} accepts unknown keys")
                for prop, sub in schema["properties"].items():
                    walk(op_id, sub, f"{where}.{prop}".lstrip("."), seen)
            elif schema.get("additionalProperties", True) is not False:
                open_found.add((op_id, where))

    for op in _json_operations(app):
        assert op.json_schema is not None
        walk(op.operation_id, op.json_schema, "", frozenset())
    assert not problems, "\n".join(problems)
    assert open_found == OPEN_OBJECTS, "update OPEN_OBJECTS (and justify) or close the schema"


async def test_privileged_fields_are_refused_everywhere(
    app: FastAPI, client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    side = await build_side(database, settings, client, "ma")
    admin = await make_user(database, role=UserRole.ADMIN, username="ma_admin")
    admin_headers = await auth_headers(client, admin.username)
    folder = await client.post(f"{API}/personal/folders", json={"name": "F"}, headers=admin_headers)
    item = await client.post(
        f"{API}/personal/folders/{folder.json()['id']}/items",
        json={"title": "N", "content": "x"},
        headers=admin_headers,
    )
    ids = {**side.ids, "folder_id": folder.json()["id"], "item_id": item.json()["id"]}
    components = app.openapi()["components"]["schemas"]
    failures: list[str] = []
    probed = 0
    for op in _json_operations(app):
        assert op.json_schema is not None
        caller = CALLER.get(op.operation_id)
        if caller is not None:
            headers = side.headers[caller]
        else:  # a fresh session each time: logout and password changes must not end the run
            headers = await auth_headers(client, admin.username)
        url = fill(op.path, ids)
        before = await _snapshot(client, op, url, headers)
        base = valid_body(op.operation_id, side)
        allowed = set(op.json_schema.get("properties", {}))
        for name, value in PRIVILEGED.items():
            if name in allowed:
                continue
            probed += 1
            response = await client.request(
                op.method, url, json={**base, name: value}, headers=headers
            )
            if not _refused(response, name):
                failures.append(
                    f"{op.method} {op.path} +{name}: {response.status_code} {response.text[:200]}"
                )
        # Batch rows: the extra field inside a row must be refused for that row (or the request).
        for key, rows in base.items():
            if not (isinstance(rows, list) and rows and isinstance(rows[0], dict)):
                continue
            row_schema = ROW_SCHEMAS.get(key)
            row_allowed = set(rows[0]) | (
                set(components[row_schema]["properties"]) if row_schema else set()
            )
            for name, value in PRIVILEGED.items():
                if name in row_allowed:
                    continue
                probed += 1
                body = {**base, key: [{**rows[0], name: value}]}
                response = await client.request(op.method, url, json=body, headers=headers)
                if not _row_refused(response, name):
                    failures.append(
                        f"{op.method} {op.path} {key}[0]+{name}: {response.status_code} "
                        f"{response.text[:200]}"
                    )
        if before is not None:
            after = await _snapshot(client, op, url, headers)
            if after != before:
                failures.append(f"{op.method} {op.path}: the object changed")
        # The base body itself passes validation, so the 400s above are the extra fields' doing.
        plain = await client.request(op.method, url, json=base, headers=headers)
        if plain.status_code == 400 and plain.json()["error"] == "VALIDATION_ERROR":
            failures.append(f"{op.method} {op.path}: the valid body is refused: {plain.text}")
    assert probed > 300
    assert not failures, "\n".join(failures)


def _refused(response: httpx.Response, name: str) -> bool:
    if response.status_code != 400:
        return False
    body = response.json()
    return body["error"] == "VALIDATION_ERROR" and any(
        key == name or key.endswith(f".{name}") for key in (body["details"] or {})
    )


def _row_refused(response: httpx.Response, name: str) -> bool:
    if response.status_code == 400:
        return _refused(response, name)
    if response.status_code != 200:
        return False
    results = response.json()["results"]
    return len(results) == 1 and results[0]["status"] in {"error", "rejected"}


async def _snapshot(
    client: httpx.AsyncClient, op: Operation, url: str, headers: dict[str, str]
) -> Any:
    """The object a PATCH/PUT addresses, as its GET sibling returns it."""
    if op.method not in {"PATCH", "PUT"} or not op.path_params:
        return None
    response = await client.get(url, headers=headers)
    if response.status_code != 200:
        return None
    return response.json()
