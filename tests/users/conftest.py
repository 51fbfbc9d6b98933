"""Fixtures for the users admin API: an admin and their headers."""

from __future__ import annotations

import httpx
import pytest

from studyhub.core.db import Database
from studyhub.users.models import User, UserRole
from tests.factories import make_user
from tests.helpers import auth_headers

USERS = "/api/v1/users"


@pytest.fixture
async def admin(database: Database) -> User:
    return await make_user(database, role=UserRole.ADMIN, username="root")


@pytest.fixture
async def admin_headers(client: httpx.AsyncClient, admin: User) -> dict[str, str]:
    return await auth_headers(client, admin.username)


def create_body(username: str, **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "username": username,
        "email": f"{username}@example.com",
        "password": "a fine password",
        "role": "student",
    }
    body.update(overrides)
    return body
