"""Refresh rotation, reuse detection, concurrency, lifetimes and cookie mode."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from studyhub.auth.models import AuthSession, RefreshToken
from studyhub.core.db import Database, utcnow
from studyhub.users.models import User
from tests.factories import make_user
from tests.helpers import bearer, login

REFRESH = "/api/v1/auth/refresh"


@pytest.fixture
async def user(database: Database) -> User:
    return await make_user(database)


async def _refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    response = await client.post(REFRESH, json={"refresh_token": token})
    assert response.status_code in {200, 401}, response.text
    return response


def _client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.fixture
async def no_grace(make_app: Callable[..., FastAPI]) -> AsyncIterator[httpx.AsyncClient]:
    """An app where any replay of a spent refresh token counts as theft."""
    app = make_app(refresh_reuse_grace_seconds=0)
    async with app.router.lifespan_context(app), _client_for(app) as client:
        yield client


async def test_rotation_issues_a_new_working_pair(client: httpx.AsyncClient, user: User) -> None:
    first = await login(client, user.username)
    second = (await _refresh(client, first["refresh_token"])).json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["user"]["id"] == user.id
    me = await client.get("/api/v1/auth/me", headers=bearer(second["access_token"]))
    assert me.status_code == 200
    third = await _refresh(client, second["refresh_token"])
    assert third.status_code == 200


async def test_replay_within_grace_is_refused_but_keeps_the_session(
    client: httpx.AsyncClient, user: User
) -> None:
    first = await login(client, user.username)
    second = (await _refresh(client, first["refresh_token"])).json()
    replay = await _refresh(client, first["refresh_token"])
    assert replay.status_code == 401
    assert replay.json()["error"] == "INVALID_REFRESH_TOKEN"
    assert (await _refresh(client, second["refresh_token"])).status_code == 200


async def test_replay_after_grace_revokes_the_whole_session(
    no_grace: httpx.AsyncClient, database: Database, user: User
) -> None:
    first = await login(no_grace, user.username)
    second = (await _refresh(no_grace, first["refresh_token"])).json()
    replay = await _refresh(no_grace, first["refresh_token"])
    assert replay.json()["error"] == "INVALID_REFRESH_TOKEN"
    # The thief's replay killed the legitimate successor and its access token too.
    assert (await _refresh(no_grace, second["refresh_token"])).status_code == 401
    me = await no_grace.get("/api/v1/auth/me", headers=bearer(second["access_token"]))
    assert me.status_code == 401
    async with database.session(write=False) as session:
        reason = await session.scalar(select(AuthSession.revoked_reason))
    assert reason == "refresh_reuse"


async def test_replay_of_an_older_token_is_detected(client: httpx.AsyncClient, user: User) -> None:
    """Not only the previous token: any spent token of the family, even inside the grace."""
    first = await login(client, user.username)
    second = (await _refresh(client, first["refresh_token"])).json()
    third = (await _refresh(client, second["refresh_token"])).json()
    assert (await _refresh(client, first["refresh_token"])).status_code == 401
    assert (await _refresh(client, third["refresh_token"])).status_code == 401


async def test_concurrent_refreshes_leave_one_live_successor(
    client: httpx.AsyncClient, database: Database, user: User
) -> None:
    tokens = await login(client, user.username)
    responses = await asyncio.gather(*(_refresh(client, tokens["refresh_token"]) for _ in range(5)))
    winners = [r for r in responses if r.status_code == 200]
    assert len(winners) == 1
    async with database.session(write=False) as session:
        live = await session.scalar(
            select(func.count()).select_from(RefreshToken).where(RefreshToken.used_at.is_(None))
        )
    assert live == 1
    assert (await _refresh(client, winners[0].json()["refresh_token"])).status_code == 200


async def test_unknown_and_malformed_tokens(client: httpx.AsyncClient) -> None:
    assert (await _refresh(client, "not-a-token")).json()["error"] == "INVALID_REFRESH_TOKEN"
    for body in ({}, {"refresh_token": ""}, {"refresh_token": "x" * 600}, {"other": 1}):
        response = await client.post(REFRESH, json=body)
        assert response.status_code in {400, 401}
    assert (await client.post(REFRESH)).status_code == 401


async def test_idle_and_absolute_lifetimes(
    client: httpx.AsyncClient, database: Database, user: User
) -> None:
    idle = await login(client, user.username)
    absolute = await login(client, user.username)
    long_ago = utcnow() - timedelta(days=8)
    async with database.session() as session:
        rows = (await session.execute(select(AuthSession).order_by(AuthSession.id))).scalars()
        first, second = list(rows)
        await session.execute(
            update(AuthSession).where(AuthSession.id == first.id).values(last_used_at=long_ago)
        )
        await session.execute(
            update(AuthSession).where(AuthSession.id == second.id).values(expires_at=utcnow())
        )
        await session.commit()
    assert (await _refresh(client, idle["refresh_token"])).status_code == 401
    assert (await _refresh(client, absolute["refresh_token"])).status_code == 401


async def test_deactivated_user_cannot_refresh(
    client: httpx.AsyncClient, database: Database, user: User
) -> None:
    tokens = await login(client, user.username)
    async with database.session() as session:
        await session.execute(update(User).where(User.id == user.id).values(is_active=False))
        await session.commit()
    assert (await _refresh(client, tokens["refresh_token"])).status_code == 401


async def test_cookie_mode_needs_the_csrf_header(client: httpx.AsyncClient, user: User) -> None:
    tokens = await login(client, user.username, refresh_cookie=True)
    assert tokens["refresh_token"] is None
    refresh_cookie = client.cookies.get("studyhub_refresh")
    csrf = client.cookies.get("studyhub_csrf")
    assert refresh_cookie
    assert csrf
    # The cookie is scoped to the auth endpoints and unreadable by scripts.
    set_cookie = next(c for c in client.cookies.jar if c.name == "studyhub_refresh")
    assert set_cookie.path == "/api/v1/auth"
    assert set_cookie.has_nonstandard_attr("HttpOnly")

    missing = await client.post(REFRESH)
    assert missing.status_code == 403
    assert missing.json()["error"] == "CSRF_FAILED"
    wrong = await client.post(REFRESH, headers={"X-CSRF-Token": "nope"})
    assert wrong.status_code == 403

    ok = await client.post(REFRESH, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 200, ok.text
    assert ok.json()["refresh_token"] is None
    assert client.cookies.get("studyhub_refresh") != refresh_cookie
