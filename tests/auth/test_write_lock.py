"""Password hashing never runs under SQLite's write lock: concurrent logins with a slow hash and a
short lock timeout all succeed (before the credential reads moved to a read session, the first
login held the lock through its argon2 check and the others failed with 503)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI

from studyhub.core.db import Database
from studyhub.core.passwords import PasswordHasher
from tests.factories import DEFAULT_PASSWORD, make_user

pytestmark = pytest.mark.skipif(
    os.environ.get("TEST_DATABASE_URL", "sqlite").startswith("postgres"),
    reason="SQLite write locking",
)


class SlowHasher(PasswordHasher):
    async def verify(self, password: str, stored: str | None) -> tuple[bool, str | None]:
        await asyncio.sleep(0.3)  # stands in for production argon2 cost; not a timing assertion
        return await super().verify(password, stored)


async def test_concurrent_logins_do_not_wait_on_each_others_hashing(
    make_app: Callable[..., FastAPI], database: Database
) -> None:
    users = [await make_user(database) for _ in range(4)]
    app = make_app(sqlite_busy_timeout_ms=100)
    async with app.router.lifespan_context(app):
        app.state.passwords = SlowHasher(fast=True)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            responses = await asyncio.gather(
                *(
                    client.post(
                        "/api/v1/auth/login",
                        json={"username": u.username, "password": DEFAULT_PASSWORD},
                    )
                    for u in users
                )
            )
    assert [r.status_code for r in responses] == [200, 200, 200, 200]
