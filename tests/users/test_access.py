"""Only admins reach the users API: anonymous 401, every other role 403, on every endpoint."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from studyhub.core.db import Database
from studyhub.users.models import User, UserRole
from tests.factories import make_user
from tests.helpers import auth_headers
from tests.users.conftest import USERS, create_body


def _endpoints(target: int) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [
        ("GET", USERS, None),
        ("POST", USERS, create_body("newbie")),
        ("POST", f"{USERS}/batch", {"users": [create_body("newbie")]}),
        ("GET", f"{USERS}/{target}", None),
        ("PATCH", f"{USERS}/{target}", {"first_name": "X"}),
        ("DELETE", f"{USERS}/{target}", None),
        ("DELETE", f"{USERS}/{target}/sessions", None),
    ]


async def _call(
    client: httpx.AsyncClient, method: str, url: str, body: Any, headers: dict[str, str]
) -> httpx.Response:
    return await client.request(method, url, json=body, headers=headers)


async def test_anonymous_gets_401_everywhere(client: httpx.AsyncClient, admin: User) -> None:
    for method, url, body in _endpoints(admin.id):
        response = await _call(client, method, url, body, {})
        assert response.status_code == 401, (method, url)
        assert response.json()["error"] == "UNAUTHORIZED"
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("role", [UserRole.STUDENT, UserRole.TA, UserRole.TEACHER])
async def test_other_roles_get_403_everywhere_and_change_nothing(
    client: httpx.AsyncClient, database: Database, admin: User, role: UserRole
) -> None:
    caller = await make_user(database, role=role)
    headers = await auth_headers(client, caller.username)
    for target in (admin.id, caller.id):
        for method, url, body in _endpoints(target):
            response = await _call(client, method, url, body, headers)
            assert response.status_code == 403, (role, method, url, response.text)
            assert response.json()["error"] == "FORBIDDEN"
    # Nothing was created, changed or revoked along the way.
    admin_headers = await auth_headers(client, admin.username)
    listed = (await client.get(USERS, headers=admin_headers)).json()
    assert {u["username"] for u in listed["users"]} == {admin.username, caller.username}
    assert all(u["is_active"] for u in listed["users"])
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 200


async def test_admin_reaches_every_endpoint(
    client: httpx.AsyncClient, database: Database, admin_headers: dict[str, str]
) -> None:
    target = await make_user(database)
    expected = {"GET": 200, "POST": 201, "PATCH": 200, "DELETE": 204}
    for method, url, body in _endpoints(target.id):
        response = await _call(client, method, url, body, admin_headers)
        wanted = 200 if url.endswith("/batch") else expected[method]
        assert response.status_code == wanted, (method, url, response.text)


async def test_unknown_id_is_404_everywhere(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    # 999999 is free; 2**31 and 10**20 are out of the column's range: still a plain 404.
    for missing in (999_999, 2**31, 10**20, 0, -1):
        for method, url, body in _endpoints(missing)[3:]:
            response = await _call(client, method, url, body, admin_headers)
            assert response.status_code == 404, (method, url, response.text)
            assert response.json() == {
                "error": "NOT_FOUND",
                "message": "User not found",
                "details": None,
                "request_id": response.headers["x-request-id"],
            }


async def test_non_integer_id_is_400(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await client.get(f"{USERS}/abc", headers=admin_headers)
    assert response.status_code == 400
    assert set(response.json()["details"]) == {"user_id"}
