"""DESIGN.md §9 when Redis goes away mid-test: refresh and sessions never depend on it; the
denylist fails open for non-admin tokens and closed (503) for admins; nothing stalls."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from studyhub.core.cache import RedisCache
from studyhub.core.db import Database
from studyhub.users.models import User, UserRole
from tests.factories import make_user
from tests.helpers import bearer, login

pytestmark = pytest.mark.redis


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def redis_app(
    make_app: Callable[..., FastAPI], redis_url: str, cache_prefix: str
) -> AsyncIterator[FastAPI]:
    app = make_app(redis_url=redis_url, cache_prefix=cache_prefix + "down:")
    async with app.router.lifespan_context(app):
        yield app


def _kill_redis(app: FastAPI) -> None:
    """Point the app at a port nobody listens on: what a crashed Redis looks like to a client."""
    app.state.cache = RedisCache(f"redis://127.0.0.1:{_closed_port()}/0", timeout_seconds=0.25)


async def test_users_keep_working_and_admins_get_503(
    redis_app: FastAPI, database: Database
) -> None:
    student = await make_user(database, role=UserRole.STUDENT)
    admin = await make_user(database, role=UserRole.ADMIN)
    transport = httpx.ASGITransport(app=redis_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        student_tokens = await login(client, student.username)
        admin_tokens = await login(client, admin.username)
        _kill_redis(redis_app)

        started = time.monotonic()
        me = await client.get("/api/v1/auth/me", headers=bearer(student_tokens["access_token"]))
        assert me.status_code == 200
        admin_me = await client.get("/api/v1/auth/me", headers=bearer(admin_tokens["access_token"]))
        assert admin_me.status_code == 503
        assert admin_me.json()["error"] == "SERVICE_UNAVAILABLE"
        assert "retry-after" in admin_me.headers

        # Sessions live in the database: login, refresh and logout still work.
        fresh = await login(client, student.username)
        refreshed = await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": fresh["refresh_token"]}
        )
        assert refreshed.status_code == 200
        logout = await client.post(
            "/api/v1/auth/logout", headers=bearer(refreshed.json()["access_token"])
        )
        assert logout.status_code == 204
        assert time.monotonic() - started < 10  # generous: the breaker keeps each call short

        ready = await client.get("/health/ready")
        assert ready.status_code == 200
        assert ready.json()["status"] == "degraded"


async def test_a_demotion_applies_at_once_even_without_redis(
    redis_app: FastAPI, database: Database
) -> None:
    """With Redis down the user's state comes from the database on every request."""
    admin = await make_user(database, role=UserRole.ADMIN)
    transport = httpx.ASGITransport(app=redis_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        tokens = await login(client, admin.username)
        _kill_redis(redis_app)
        async with database.session() as session:
            await session.execute(
                update(User).where(User.id == admin.id).values(role=UserRole.STUDENT)
            )
            await session.commit()
        me = await client.get("/api/v1/auth/me", headers=bearer(tokens["access_token"]))
        assert me.status_code == 200
        assert me.json()["role"] == "student"
