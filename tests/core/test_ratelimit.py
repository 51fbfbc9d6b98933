"""The per-IP API limit, login lockouts and the automatic IP block, through HTTP."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from studyhub.core.db import Database
from tests.conftest import REDIS_TEST_URL
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.helpers import closed_port

PING = "/api/v1/_test/ping"
LOGIN = "/api/v1/auth/login"
PEER = ("198.51.100.7", 40000)


@asynccontextmanager
async def _running(
    make_app: Callable[..., FastAPI], **settings: Any
) -> AsyncIterator[tuple[FastAPI, list[str]]]:
    """An app with a test route that records each call it really receives."""
    app = make_app(**settings)
    calls: list[str] = []

    @app.get(PING, name="test-ping")
    async def ping() -> dict[str, str]:
        calls.append("ping")
        return {"status": "pong"}

    async with app.router.lifespan_context(app):
        yield app, calls


def _client(app: FastAPI, peer: tuple[str, int] = PEER) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=peer)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def _assert_429(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 429, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"error", "message", "details", "request_id"}
    assert body["error"] == "RATE_LIMITED"
    assert body["request_id"] == response.headers["x-request-id"]
    assert int(response.headers["retry-after"]) >= 1
    return body


async def _login(client: httpx.AsyncClient, username: str, password: str, **kw: Any) -> int:
    response = await client.post(LOGIN, json={"username": username, "password": password}, **kw)
    return response.status_code


# -- the per-IP API limit -------------------------------------------------------------------


async def test_every_api_response_carries_decreasing_quota_headers(
    make_app: Callable[..., FastAPI],
) -> None:
    async with _running(make_app, rate_limit_per_minute=5) as (app, _), _client(app) as client:
        seen = []
        for path in (PING, PING, "/api/v1/auth/me"):  # a 401 counts and is labelled too
            response = await client.get(path)
            assert response.headers["x-ratelimit-limit"] == "5"
            assert 1 <= int(response.headers["x-ratelimit-reset"]) <= 60
            seen.append(int(response.headers["x-ratelimit-remaining"]))
        assert seen == [4, 3, 2]


async def test_over_the_limit_is_429_with_retry_after_and_the_error_body(
    make_app: Callable[..., FastAPI],
) -> None:
    async with _running(make_app, rate_limit_per_minute=3) as (app, calls), _client(app) as client:
        for _ in range(3):
            assert (await client.get(PING)).status_code == 200
        response = await client.get(PING, headers={"X-Request-ID": "req-over"})
        body = _assert_429(response)
        assert body["request_id"] == "req-over"
        assert int(response.headers["retry-after"]) <= 60
        assert response.headers["x-ratelimit-remaining"] == "0"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert len(calls) == 3  # the rejected request never reached the route


async def test_health_and_docs_are_not_limited(make_app: Callable[..., FastAPI]) -> None:
    async with _running(make_app, rate_limit_per_minute=1) as (app, _), _client(app) as client:
        for _ in range(3):
            response = await client.get("/health")
            assert response.status_code == 200
            assert "x-ratelimit-limit" not in response.headers
        assert (await client.get(PING)).status_code == 200
        assert (await client.get(PING)).status_code == 429


async def test_each_ip_has_its_own_quota(make_app: Callable[..., FastAPI]) -> None:
    async with (
        _running(make_app, rate_limit_per_minute=2) as (app, _),
        _client(app, ("198.51.100.1", 1)) as first,
        _client(app, ("198.51.100.2", 1)) as second,
    ):
        assert [(await first.get(PING)).status_code for _ in range(3)] == [200, 200, 429]
        response = await second.get(PING)
        assert response.status_code == 200
        assert response.headers["x-ratelimit-remaining"] == "1"


async def test_forwarded_for_from_an_untrusted_peer_is_ignored(
    make_app: Callable[..., FastAPI],
) -> None:
    async with _running(make_app, rate_limit_per_minute=2) as (app, _), _client(app) as client:
        statuses = [
            (await client.get(PING, headers={"X-Forwarded-For": f"192.0.2.{n}"})).status_code
            for n in range(3)
        ]
        assert statuses == [200, 200, 429]


async def test_forwarded_for_from_a_trusted_proxy_names_the_client(
    make_app: Callable[..., FastAPI],
) -> None:
    settings = {"rate_limit_per_minute": 2, "trusted_proxies": ["10.0.0.0/8"]}
    async with _running(make_app, **settings) as (app, _), _client(app, ("10.0.0.2", 1)) as proxy:
        alice = {"X-Forwarded-For": "192.0.2.10"}
        assert [(await proxy.get(PING, headers=alice)).status_code for _ in range(3)] == [
            200,
            200,
            429,
        ]
        # Another client behind the same proxy is not punished for the first one.
        bob = {"X-Forwarded-For": "192.0.2.11, 10.0.0.7"}
        assert (await proxy.get(PING, headers=bob)).status_code == 200


async def test_limits_hold_in_process_when_redis_is_down(
    make_app: Callable[..., FastAPI], database: Database
) -> None:
    dead = f"redis://127.0.0.1:{closed_port()}/0"
    settings = {"redis_url": dead, "rate_limit_per_minute": 3, "login_max_failures_per_account": 2}
    user = await make_user(database)
    async with _running(make_app, **settings) as (app, _), _client(app) as client:
        assert app.state.rate_limiter.backend == "redis"
        started = time.perf_counter()
        statuses = [(await client.get(PING)).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        # Login lockouts fall back too (these count against the 3/min quota of another IP).
        async with _client(app, ("198.51.100.99", 1)) as other:
            assert [await _login(other, user.username, "wrong-password") for _ in range(2)] == [
                401,
                401,
            ]
            right = {"username": user.username, "password": DEFAULT_PASSWORD}
            _assert_429(await other.post(LOGIN, json=right))
        # Generous bound: a stalled Redis call would cost seconds per request.
        assert time.perf_counter() - started < 5


@pytest.mark.redis
async def test_workers_sharing_redis_share_one_quota(make_app: Callable[..., FastAPI]) -> None:
    settings = {"redis_url": REDIS_TEST_URL, "rate_limit_per_minute": 3}
    async with (
        _running(make_app, **settings) as (one, _),
        _running(make_app, **settings) as (two, _),
        _client(one) as first,
        _client(two) as second,
    ):
        assert (await first.get(PING)).status_code == 200
        assert (await second.get(PING)).status_code == 200
        assert (await first.get(PING)).status_code == 200
        _assert_429(await second.get(PING))


# -- login throttling -----------------------------------------------------------------------


async def test_account_locks_after_five_failures_even_for_the_right_password(
    client: httpx.AsyncClient, app: FastAPI, database: Database
) -> None:
    user = await make_user(database)
    assert [await _login(client, user.username, "wrong-password") for _ in range(5)] == [401] * 5
    response = await client.post(
        LOGIN, json={"username": user.username, "password": DEFAULT_PASSWORD}
    )
    body = _assert_429(response)
    assert DEFAULT_PASSWORD not in response.text
    assert 1 < int(response.headers["retry-after"]) <= 900
    assert "x-ratelimit-limit" in response.headers
    assert body["message"]
    # The lock is on the account, whichever address asks next; other accounts are untouched.
    async with _client(app, ("192.0.2.200", 1)) as elsewhere:
        assert await _login(elsewhere, user.username, DEFAULT_PASSWORD) == 429
        assert await _login(elsewhere, user.email, DEFAULT_PASSWORD) == 200  # email ≠ username key
        other = await make_user(database)
        assert await _login(elsewhere, other.username, DEFAULT_PASSWORD) == 200


async def test_a_successful_login_resets_the_account_counter(
    client: httpx.AsyncClient, database: Database
) -> None:
    user = await make_user(database)
    for _ in range(2):
        assert [await _login(client, user.username, "wrong-password") for _ in range(4)] == [
            401
        ] * 4
        assert await _login(client, user.username, DEFAULT_PASSWORD) == 200


async def test_rotating_forwarded_for_does_not_escape_the_account_lock(
    make_app: Callable[..., FastAPI], database: Database
) -> None:
    user = await make_user(database)
    async with _running(make_app) as (app, _), _client(app) as client:
        for n in range(5):
            spoof = {"X-Forwarded-For": f"192.0.2.{n}"}
            assert await _login(client, user.username, "nope-nope", headers=spoof) == 401
        spoof = {"X-Forwarded-For": "192.0.2.250"}
        assert await _login(client, user.username, DEFAULT_PASSWORD, headers=spoof) == 429


async def test_twenty_failures_from_one_ip_lock_it_and_block_it_from_the_api(
    client: httpx.AsyncClient, app: FastAPI, database: Database
) -> None:
    user = await make_user(database)
    # Different accounts, none failing more than its own limit.
    statuses = [await _login(client, f"nobody{n}", "wrong-password") for n in range(20)]
    assert statuses == [401] * 20
    response = await client.post(
        LOGIN, json={"username": user.username, "password": DEFAULT_PASSWORD}
    )
    _assert_429(response)
    assert 800 < int(response.headers["retry-after"]) <= 900
    # The automatic block covers the whole API, not just login, but not /health.
    blocked = await client.get("/api/v1/auth/me")
    _assert_429(blocked)
    assert (await client.get("/health")).status_code == 200
    # The account itself is not locked: from another address it logs in.
    async with _client(app, ("192.0.2.201", 1)) as elsewhere:
        assert await _login(elsewhere, user.username, DEFAULT_PASSWORD) == 200


async def test_nineteen_failures_do_not_block(client: httpx.AsyncClient) -> None:
    assert [await _login(client, f"ghost{n}", "wrong-password") for n in range(19)] == [401] * 19
    assert (await client.get("/api/v1/auth/me")).status_code == 401
