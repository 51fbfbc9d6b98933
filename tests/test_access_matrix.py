"""Role-by-endpoint matrix over every route of the app.

Each operation declares who may call it. A new route without a declaration fails the test, so the
matrix grows with the API. Disallowed callers must get 401 (anonymous) or 403/404 (a role that
is known but insufficient, or an object the caller may not see); allowed callers must get past
authorisation (no UNAUTHORIZED/FORBIDDEN; bodies here are deliberately empty, so 400 is fine).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal

import httpx
import pytest
from fastapi import FastAPI

from studyhub.core.db import Database
from studyhub.users.models import UserRole
from tests.factories import make_user
from tests.helpers import bearer, login

Caller = Literal["anonymous", "student", "ta", "teacher", "admin"]
CALLERS: tuple[Caller, ...] = ("anonymous", "student", "ta", "teacher", "admin")
ANYONE = frozenset(CALLERS)
USERS = frozenset(CALLERS) - {"anonymous"}
ADMIN = frozenset({"admin"})

# operationId -> callers allowed through authorisation.
ACCESS: dict[str, frozenset[str]] = {
    "auth-login": ANYONE,
    "auth-token": ANYONE,
    "auth-refresh": ANYONE,
    "auth-register": ANYONE,
    "auth-logout": USERS,
    "auth-logout-all": USERS,
    "auth-me": USERS,
    "auth-verify-token": USERS,
    "auth-update-me": USERS,
    "auth-change-password": USERS,
    "auth-sessions-list": USERS,
    "auth-sessions-revoke": USERS,
    "users-list": ADMIN,
    "users-create": ADMIN,
    "users-get": ADMIN,
    "users-update": ADMIN,
    "users-delete": ADMIN,
    "users-batch": ADMIN,
    "users-sessions-revoke": ADMIN,
    "admin-ip-blocks-list": ADMIN,
    "admin-ip-blocks-create": ADMIN,
    "admin-ip-blocks-delete": ADMIN,
}
# Served outside /api/v1 and open to anyone by design.
OPEN_OUTSIDE_API = {"health-live", "health-ready", "metrics-scrape"}


def _operations(app: FastAPI) -> list[tuple[str, str, str]]:
    """(operationId, METHOD, path) of every documented operation: the route table as clients
    see it (FastAPI resolves included routers lazily, so the OpenAPI document is the reliable
    flat view)."""
    return [
        (operation["operationId"], method.upper(), path)
        for path, item in app.openapi()["paths"].items()
        for method, operation in item.items()
    ]


def _api_routes(app: FastAPI) -> list[tuple[str, str, str]]:
    return [op for op in _operations(app) if op[2].startswith("/api/v1")]


def test_every_route_declares_its_access(app: FastAPI) -> None:
    names = {name for name, _, _ in _api_routes(app)}
    assert len(names) >= 10, "API routes not found"
    undeclared = names - set(ACCESS)
    assert not undeclared, f"declare access for: {sorted(undeclared)}"
    outside = {name for name, _, path in _operations(app) if not path.startswith("/api/v1")}
    assert outside == OPEN_OUTSIDE_API


@pytest.fixture
async def log_in(client: httpx.AsyncClient, database: Database) -> Callable[[Caller], object]:
    users = {
        role.value: await make_user(database, role=role, username=f"matrix_{role.value}")
        for role in UserRole
    }

    async def headers(caller: Caller) -> dict[str, str]:
        if caller == "anonymous":
            return {}
        return bearer((await login(client, users[caller].username))["access_token"])

    return headers


async def test_the_matrix(
    app: FastAPI, client: httpx.AsyncClient, log_in: Callable[[Caller], object]
) -> None:
    failures = []
    for name, method, path in _api_routes(app):
        allowed = ACCESS.get(name, frozenset())
        url = re.sub(r"\{[^}]+\}", "1", path)
        for caller in CALLERS:
            headers = await log_in(caller)  # type: ignore[misc]
            response = await client.request(method, url, headers=headers, json={})
            status = response.status_code
            assert status != 500, f"{method} {path} as {caller}: 500"
            error = response.json().get("error") if status >= 400 else None
            if caller in allowed:
                # Other 401/403 codes (INVALID_REFRESH_TOKEN for an empty body...) come from the
                # operation itself, past authorisation.
                ok = error not in {"UNAUTHORIZED", "FORBIDDEN"}
            elif caller == "anonymous":
                ok = status == 401
            else:
                ok = status in {403, 404}
            if not ok:
                failures.append(f"{method} {path} as {caller}: {status}")
    assert not failures, "\n".join(failures)
