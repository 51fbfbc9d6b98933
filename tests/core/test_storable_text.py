"""Request bodies carrying text a database cannot store are a 400, on every database.

Found by fuzzing: PostgreSQL refuses NUL characters ("invalid byte sequence for encoding UTF8")
and lone surrogates cannot be encoded, so such a title answered 500 there (SQLite stored it).
"""

from __future__ import annotations

import httpx
import pytest

from studyhub.core.db import Database
from studyhub.users.models import UserRole
from tests.factories import make_user
from tests.helpers import auth_headers

# A raw JSON body: a lone surrogate cannot be written by httpx' json= (it encodes to UTF-8).
BODIES = {
    "nul": '{"code": "cs-101", "name": "Intro\\u0000duction"}',
    "lone surrogate": '{"code": "cs-101", "name": "Intro \\ud876"}',
    "nul in description": '{"code": "cs-101", "name": "Intro", "description": "a\\u0000b"}',
}


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
async def test_unstorable_text_is_a_validation_error(
    client: httpx.AsyncClient, database: Database, body: str
) -> None:
    admin = await make_user(database, role=UserRole.ADMIN)
    headers = {**await auth_headers(client, admin.username), "Content-Type": "application/json"}
    response = await client.post("/api/v1/courses", content=body, headers=headers)
    assert response.status_code == 400, response.text
    payload = response.json()
    assert payload["error"] == "VALIDATION_ERROR"
    field = "description" if "description" in body else "name"
    assert list(payload["details"]) == [field], payload
    listed = await client.get("/api/v1/courses", headers=headers)
    assert listed.json()["pagination"]["total"] == 0


@pytest.mark.parametrize("query", ["search=a%00b", "search=ok&x%00=1"], ids=["value", "name"])
async def test_nul_in_a_query_parameter_is_a_validation_error(
    client: httpx.AsyncClient, database: Database, query: str
) -> None:
    """A search with a NUL character reached PostgreSQL as a bound parameter: 500 there."""
    admin = await make_user(database, role=UserRole.ADMIN)
    headers = await auth_headers(client, admin.username)
    response = await client.get(f"/api/v1/courses?{query}", headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "VALIDATION_ERROR"
    assert (await client.get("/api/v1/courses?search=ok", headers=headers)).status_code == 200
