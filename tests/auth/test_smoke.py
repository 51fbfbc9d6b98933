from __future__ import annotations

import httpx

from studyhub.core.db import Database
from tests.factories import make_user
from tests.helpers import bearer, login


async def test_login_me_refresh(client: httpx.AsyncClient, database: Database) -> None:
    user = await make_user(database)
    tokens = await login(client, user.username)
    me = await client.get("/api/v1/auth/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200, me.text
    assert me.json()["username"] == user.username
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["refresh_token"] != tokens["refresh_token"]
