"""Admin changes reach live tokens at once: demotion, deactivation, DELETE, session revocation,
and a password set by an admin."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI

from studyhub.auth.dependencies import require_roles
from studyhub.auth.service import Principal
from studyhub.core.db import Database
from studyhub.users.models import User, UserRole
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.helpers import auth_headers, bearer, login
from tests.users.conftest import USERS

ME = "/api/v1/auth/me"
REFRESH = "/api/v1/auth/refresh"
TEACHERS_ONLY = "/api/v1/_test/teachers-only"


async def _refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(REFRESH, json={"refresh_token": token})


async def _assert_signed_out(client: httpx.AsyncClient, tokens: dict[str, Any]) -> None:
    me = await client.get(ME, headers=bearer(tokens["access_token"]))
    assert me.status_code == 401
    assert me.json()["error"] == "UNAUTHORIZED"
    refused = await _refresh(client, tokens["refresh_token"])
    assert refused.status_code == 401
    assert refused.json()["error"] == "INVALID_REFRESH_TOKEN"


async def test_a_demoted_admin_loses_admin_routes_on_the_next_request(
    client: httpx.AsyncClient, database: Database, admin_headers: dict[str, str]
) -> None:
    other = await make_user(database, role=UserRole.ADMIN)
    theirs = await auth_headers(client, other.username)
    assert (await client.get(USERS, headers=theirs)).status_code == 200  # state now cached
    demoted = await client.patch(
        f"{USERS}/{other.id}", headers=admin_headers, json={"role": "teacher"}
    )
    assert demoted.status_code == 200
    refused = await client.get(USERS, headers=theirs)
    assert refused.status_code == 403
    assert refused.json()["error"] == "FORBIDDEN"
    # A demotion is not a sign-out: the same token still works where a teacher may go.
    assert (await client.get(ME, headers=theirs)).json()["role"] == "teacher"


@pytest.fixture
async def staff_client(
    make_app: Callable[..., FastAPI], client: httpx.AsyncClient
) -> AsyncIterator[httpx.AsyncClient]:
    """An app with a teachers-only route. Every request of a test goes through it (with the
    in-memory cache each app has its own). `client` is requested so Redis keys are cleaned."""
    app = make_app()

    @app.get(TEACHERS_ONLY, name="test-teachers-only")
    async def teachers_only(
        principal: Annotated[Principal, Depends(require_roles(UserRole.TEACHER))],
    ) -> dict[str, str]:
        return {"role": principal.role.value}

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def test_role_changes_apply_to_a_live_teacher_token_at_once(
    staff_client: httpx.AsyncClient, database: Database, admin: User
) -> None:
    teacher = await make_user(database, role=UserRole.TEACHER)
    admins = await auth_headers(staff_client, admin.username)
    theirs = await auth_headers(staff_client, teacher.username)
    url = f"{USERS}/{teacher.id}"
    assert (await staff_client.get(TEACHERS_ONLY, headers=theirs)).status_code == 200
    await staff_client.patch(url, headers=admins, json={"role": "student"})
    assert (await staff_client.get(TEACHERS_ONLY, headers=theirs)).status_code == 403
    await staff_client.patch(url, headers=admins, json={"role": "teacher"})
    assert (await staff_client.get(TEACHERS_ONLY, headers=theirs)).status_code == 200


async def test_deactivation_kills_access_and_refresh_tokens_at_once(
    client: httpx.AsyncClient, database: Database, admin_headers: dict[str, str]
) -> None:
    user = await make_user(database)
    tokens = await login(client, user.username)
    other_session = await login(client, user.username)
    assert (await client.get(ME, headers=bearer(tokens["access_token"]))).status_code == 200
    response = await client.patch(
        f"{USERS}/{user.id}", headers=admin_headers, json={"is_active": False}
    )
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    await _assert_signed_out(client, tokens)
    await _assert_signed_out(client, other_session)
    disabled = await client.post(
        "/api/v1/auth/login", json={"username": user.username, "password": DEFAULT_PASSWORD}
    )
    assert disabled.status_code == 403
    # Reactivation lets them log in again, but the old tokens stay dead.
    await client.patch(f"{USERS}/{user.id}", headers=admin_headers, json={"is_active": True})
    await _assert_signed_out(client, tokens)
    fresh = await login(client, user.username)
    assert (await client.get(ME, headers=bearer(fresh["access_token"]))).status_code == 200


async def test_delete_kills_access_and_refresh_tokens_at_once(
    client: httpx.AsyncClient, database: Database, admin_headers: dict[str, str]
) -> None:
    user = await make_user(database, role=UserRole.TEACHER)
    tokens = await login(client, user.username)
    assert (await client.get(ME, headers=bearer(tokens["access_token"]))).status_code == 200
    assert (await client.delete(f"{USERS}/{user.id}", headers=admin_headers)).status_code == 204
    await _assert_signed_out(client, tokens)


async def test_revoking_sessions_signs_the_user_out_everywhere(
    client: httpx.AsyncClient, database: Database, admin_headers: dict[str, str]
) -> None:
    user = await make_user(database)
    first = await login(client, user.username)
    second = await login(client, user.username)
    for tokens in (first, second):
        assert (await client.get(ME, headers=bearer(tokens["access_token"]))).status_code == 200
    response = await client.delete(f"{USERS}/{user.id}/sessions", headers=admin_headers)
    assert response.status_code == 204
    await _assert_signed_out(client, first)
    await _assert_signed_out(client, second)
    # The account itself is untouched: a new login works.
    assert (await client.get(f"{USERS}/{user.id}", headers=admin_headers)).json()["is_active"]
    fresh = await login(client, user.username)
    assert (await client.get(ME, headers=bearer(fresh["access_token"]))).status_code == 200


async def test_password_set_by_an_admin_signs_the_user_out(
    client: httpx.AsyncClient, database: Database, admin_headers: dict[str, str]
) -> None:
    user = await make_user(database)
    tokens = await login(client, user.username)
    new_password = "brand new passphrase"
    response = await client.patch(
        f"{USERS}/{user.id}", headers=admin_headers, json={"password": new_password}
    )
    assert response.status_code == 200
    assert new_password not in response.text
    assert "password" not in response.json()
    await _assert_signed_out(client, tokens)
    old = await client.post(
        "/api/v1/auth/login", json={"username": user.username, "password": DEFAULT_PASSWORD}
    )
    assert old.status_code == 401
    assert (await login(client, user.username, new_password))["user"]["id"] == user.id


async def test_an_admin_setting_their_own_password_keeps_only_this_session(
    client: httpx.AsyncClient, admin: User
) -> None:
    current = await login(client, admin.username)
    elsewhere = await login(client, admin.username)
    response = await client.patch(
        f"{USERS}/{admin.id}",
        headers=bearer(current["access_token"]),
        json={"password": "another fine password"},
    )
    assert response.status_code == 200
    await _assert_signed_out(client, elsewhere)
    # Like a password change: this session's access token is spent, its refresh token is not.
    assert (await client.get(ME, headers=bearer(current["access_token"]))).status_code == 401
    assert (await _refresh(client, current["refresh_token"])).status_code == 200
