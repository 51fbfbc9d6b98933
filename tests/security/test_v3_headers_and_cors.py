"""ASVS 5.0 V3 Web Frontend Security: security headers on every response (V3.4), CORS from an
explicit allow-list with credentials only for exact origins (V3.4.2, V3.5).

Covered elsewhere:
- tests/core/test_middleware.py::test_security_headers_on_every_response (/health, a 404,
  /openapi.json)
- tests/core/test_middleware.py::test_docs_get_a_csp_that_allows_their_own_scripts
- tests/core/test_middleware.py::test_cors_allows_only_configured_origins (one allowed and one
  denied preflight)
- tests/core/test_config.py::test_wildcard_cors_is_refused (a wildcard refuses to start)
- tests/core/test_ratelimit.py::test_over_the_limit_is_429_with_retry_after_and_the_error_body
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from studyhub.core.db import Database
from tests.factories import DEFAULT_PASSWORD, make_user

ALLOWED = "http://frontend.test"  # the conftest's CORS_ORIGINS
EXPECTED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}


def _assert_headers(response: httpx.Response, where: str) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, f"{where}: {name}"
    csp = response.headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp, f"{where}: CSP {csp!r}"
    assert response.headers.get("x-request-id"), where
    assert "server" not in response.headers and "x-powered-by" not in response.headers, where


@pytest.fixture
async def crashing(make_app: Callable[..., FastAPI]) -> AsyncIterator[httpx.AsyncClient]:
    """An app whose catalog crashes (a forced 500 in a real operation), with tight limits."""
    app = make_app(max_request_bytes=1024, rate_limit_per_minute=1000)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.40", 1))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def test_every_kind_of_response_carries_the_headers(
    crashing: httpx.AsyncClient, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from studyhub.courses.service import CourseService

    async def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(CourseService, "catalog", crash)
    user = await make_user(database)
    login = await crashing.post(
        "/api/v1/auth/login", json={"username": user.username, "password": DEFAULT_PASSWORD}
    )
    auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
    responses = {
        "200 login": (login, 200),
        "200 /docs": (await crashing.get("/docs"), 200),
        "200 /redoc": (await crashing.get("/redoc"), 200),
        "200 /metrics": (await crashing.get("/metrics"), 200),
        "200 /health/ready": (await crashing.get("/health/ready"), None),
        "401": (await crashing.get("/api/v1/auth/me"), 401),
        "403": (await crashing.get("/api/v1/users", headers=auth), 403),
        "404": (await crashing.get("/api/v1/nothing-here"), 404),
        "404 outside api": (await crashing.get("/nothing-here"), 404),
        "405": (await crashing.put("/health"), 405),
        "400": (await crashing.post("/api/v1/auth/login", json={}), 400),
        "413": (
            await crashing.post(
                "/api/v1/auth/login",
                content=b"x" * 2048,
                headers={"content-type": "application/json"},
            ),
            413,
        ),
        "500": (await crashing.get("/api/v1/courses", headers=auth), 500),
    }
    for where, (response, status) in responses.items():
        if status is not None:
            assert response.status_code == status, (where, response.text[:200])
        _assert_headers(response, where)
        if response.request.url.path.startswith("/api/"):
            assert (
                "no-store" in response.headers["cache-control"]
                or "private" in (response.headers["cache-control"])
            ), where
    assert "default-src 'none'" in responses["500"][0].headers["content-security-policy"]


async def test_production_adds_hsts(make_app: Callable[..., FastAPI]) -> None:
    app = make_app(environment="production", secret_key="s" * 48, password_hash_fast=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as c:
            for response in (await c.get("/health"), await c.get("/api/v1/nothing")):
                assert "max-age=" in response.headers["strict-transport-security"]


DISALLOWED = [
    "http://evil.test",
    "http://frontend.test.evil.test",
    "http://evilfrontend.test",
    "https://frontend.test",  # another scheme is another origin
    "http://frontend.test:8080",
    "null",
    "http://FRONTEND.test.evil.test",
]


@pytest.mark.parametrize("origin", DISALLOWED)
async def test_disallowed_origins_get_no_cors_grant(client: httpx.AsyncClient, origin: str) -> None:
    preflight = await client.options(
        "/api/v1/auth/me",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    # Starlette also sends `Access-Control-Allow-Credentials: true` on refused preflights and
    # on every simple response: harmless, since without Allow-Origin a browser grants nothing.
    assert "access-control-allow-origin" not in preflight.headers
    assert preflight.status_code == 400
    simple = await client.get("/api/v1/auth/me", headers={"Origin": origin})
    assert "access-control-allow-origin" not in simple.headers
    _assert_headers(preflight, f"preflight from {origin}")


async def test_the_allowed_origin_is_echoed_exactly_never_a_wildcard(
    client: httpx.AsyncClient, database: Database
) -> None:
    user = await make_user(database)
    origin = {"Origin": ALLOWED}
    login = await client.post(
        "/api/v1/auth/login",
        json={"username": user.username, "password": DEFAULT_PASSWORD},
        headers=origin,
    )
    auth = {**origin, "Authorization": f"Bearer {login.json()['access_token']}"}
    responses = [
        login,
        await client.get("/api/v1/auth/me", headers=auth),
        await client.get("/api/v1/auth/me", headers=origin),  # 401
        await client.get("/api/v1/nothing", headers=origin),  # 404
        await client.options(
            "/api/v1/courses",
            headers={
                **origin,
                "Access-Control-Request-Method": "PATCH",
                "Access-Control-Request-Headers": "authorization,if-match,content-type",
            },
        ),
    ]
    for response in responses:
        assert response.headers["access-control-allow-origin"] == ALLOWED, response.request.url
        assert response.headers["access-control-allow-credentials"] == "true"
        assert "origin" in response.headers.get("vary", "").lower()
    preflight = responses[-1]
    assert "*" not in preflight.headers["access-control-allow-methods"]
    assert "*" not in preflight.headers["access-control-allow-headers"]
    # A header outside the allow-list is not granted.
    odd = await client.options(
        "/api/v1/courses",
        headers={
            **origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "x-evil-header",
        },
    )
    assert odd.status_code == 400
    assert "x-evil-header" not in odd.headers.get("access-control-allow-headers", "").lower()
