"""HTTP helpers shared by the tests."""

from __future__ import annotations

import socket
from typing import Any

import httpx

from tests.factories import DEFAULT_PASSWORD


async def login(
    client: httpx.AsyncClient, username: str, password: str = DEFAULT_PASSWORD, **extra: Any
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": password, **extra}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def auth_headers(
    client: httpx.AsyncClient, username: str, password: str = DEFAULT_PASSWORD
) -> dict[str, str]:
    return bearer((await login(client, username, password))["access_token"])


def closed_port() -> int:
    """A local TCP port nobody listens on (for a dead Redis or database)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
