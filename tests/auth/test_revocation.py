"""Logout, logout-all, password change and session revocation bite on the very next request."""

from __future__ import annotations

import httpx
import pytest

from studyhub.core.db import Database
from studyhub.users.models import User
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.helpers import bearer, login

ME = "/api/v1/auth/me"


@pytest.fixture
async def user(database: Database) -> User:
    return await make_user(database)


async def _me(client: httpx.AsyncClient, token: str) -> int:
    return (await client.get(ME, headers=bearer(token))).status_code


async def _refresh(client: httpx.AsyncClient, token: str) -> int:
    return (await client.post("/api/v1/auth/refresh", json={"refresh_token": token})).status_code


async def test_logout_ends_this_session_only(client: httpx.AsyncClient, user: User) -> None:
    here = await login(client, user.username)
    there = await login(client, user.username)
    response = await client.post("/api/v1/auth/logout", headers=bearer(here["access_token"]))
    assert response.status_code == 204
    assert await _me(client, here["access_token"]) == 401
    assert await _refresh(client, here["refresh_token"]) == 401
    assert await _me(client, there["access_token"]) == 200
    assert await _refresh(client, there["refresh_token"]) == 200


async def test_logout_with_another_own_refresh_token_ends_it_too(
    client: httpx.AsyncClient, user: User, database: Database
) -> None:
    here = await login(client, user.username)
    there = await login(client, user.username)
    other_user = await make_user(database)
    foreign = await login(client, other_user.username)
    response = await client.post(
        "/api/v1/auth/logout",
        headers=bearer(here["access_token"]),
        json={"refresh_token": there["refresh_token"]},
    )
    assert response.status_code == 204
    assert await _refresh(client, there["refresh_token"]) == 401
    # Someone else's refresh token is not ours to end.
    await client.post(
        "/api/v1/auth/logout",
        headers=bearer((await login(client, user.username))["access_token"]),
        json={"refresh_token": foreign["refresh_token"]},
    )
    assert await _refresh(client, foreign["refresh_token"]) == 200


async def test_logout_all_ends_every_session(client: httpx.AsyncClient, user: User) -> None:
    sessions = [await login(client, user.username) for _ in range(3)]
    response = await client.post(
        "/api/v1/auth/logout-all", headers=bearer(sessions[0]["access_token"])
    )
    assert response.status_code == 204
    for tokens in sessions:
        assert await _me(client, tokens["access_token"]) == 401
        assert await _refresh(client, tokens["refresh_token"]) == 401
    # A new login right away works (same second as the logout-all).
    assert await _me(client, (await login(client, user.username))["access_token"]) == 200


async def test_change_password(client: httpx.AsyncClient, user: User) -> None:
    here = await login(client, user.username)
    there = await login(client, user.username)
    wrong = await client.post(
        "/api/v1/auth/change-password",
        headers=bearer(here["access_token"]),
        json={"current_password": "not-the-password", "new_password": "a-new-password-1"},
    )
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "INVALID_PASSWORD"
    assert "not-the-password" not in wrong.text

    short = await client.post(
        "/api/v1/auth/change-password",
        headers=bearer(here["access_token"]),
        json={"current_password": DEFAULT_PASSWORD, "new_password": "short"},
    )
    assert short.status_code == 400
    assert "short" not in str(short.json()["details"])

    ok = await client.post(
        "/api/v1/auth/change-password",
        headers=bearer(here["access_token"]),
        json={"current_password": DEFAULT_PASSWORD, "new_password": "a-new-password-1"},
    )
    assert ok.status_code == 204
    # Every access token issued before dies; the other session is gone; this one can refresh.
    assert await _me(client, here["access_token"]) == 401
    assert await _me(client, there["access_token"]) == 401
    assert await _refresh(client, there["refresh_token"]) == 401
    assert await _refresh(client, here["refresh_token"]) == 200
    old = await client.post(
        "/api/v1/auth/login", json={"username": user.username, "password": DEFAULT_PASSWORD}
    )
    assert old.status_code == 401
    await login(client, user.username, "a-new-password-1")


async def test_sessions_list_and_revoke(
    client: httpx.AsyncClient, user: User, database: Database
) -> None:
    here = await login(client, user.username)
    there = await login(client, user.username)
    listed = await client.get("/api/v1/auth/sessions", headers=bearer(here["access_token"]))
    assert listed.status_code == 200
    sessions = listed.json()["sessions"]
    assert len(sessions) == 2
    assert sum(s["current"] for s in sessions) == 1
    assert "refresh" not in listed.text.lower().replace("studyhub", "")
    other_id = next(s["id"] for s in sessions if not s["current"])

    stranger = await login(client, (await make_user(database)).username)
    foreign = await client.delete(
        f"/api/v1/auth/sessions/{other_id}", headers=bearer(stranger["access_token"])
    )
    assert foreign.status_code == 404

    revoked = await client.delete(
        f"/api/v1/auth/sessions/{other_id}", headers=bearer(here["access_token"])
    )
    assert revoked.status_code == 204
    assert await _me(client, there["access_token"]) == 401
    assert await _refresh(client, there["refresh_token"]) == 401
    assert await _me(client, here["access_token"]) == 200
    missing = await client.delete(
        "/api/v1/auth/sessions/999999", headers=bearer(here["access_token"])
    )
    assert missing.status_code == 404
