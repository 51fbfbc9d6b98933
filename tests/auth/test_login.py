"""Login, the OAuth2 form, profile, registration; no user enumeration through any of them."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from studyhub.core.db import Database
from studyhub.users.models import User, UserRole
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.helpers import bearer, login

LOGIN = "/api/v1/auth/login"


@pytest.fixture
async def user(database: Database) -> User:
    return await make_user(database, role=UserRole.TEACHER)


async def test_login_by_username_or_email(client: httpx.AsyncClient, user: User) -> None:
    by_name = await login(client, user.username)
    assert by_name["token_type"] == "bearer"
    assert 0 < by_name["expires_in"] <= 900
    assert by_name["refresh_expires_in"] > 0
    assert set(by_name["user"]) == {
        "id",
        "username",
        "email",
        "role",
        "first_name",
        "last_name",
        "is_active",
        "created_at",
        "last_login_at",
    }
    assert by_name["user"]["role"] == "teacher"
    assert by_name["user"]["last_login_at"] is not None
    assert "password" not in str(by_name["user"])
    by_email = await client.post(LOGIN, json={"email": user.email, "password": DEFAULT_PASSWORD})
    assert by_email.status_code == 200
    upper = await client.post(
        LOGIN, json={"username": user.username.upper(), "password": DEFAULT_PASSWORD}
    )
    assert upper.status_code == 200


async def test_auth_responses_are_not_cached(client: httpx.AsyncClient, user: User) -> None:
    response = await client.post(
        LOGIN, json={"username": user.username, "password": DEFAULT_PASSWORD}
    )
    assert response.headers["cache-control"] == "no-store"


def _comparable(response: httpx.Response) -> tuple[int, dict[str, object], dict[str, str]]:
    body = response.json()
    body.pop("request_id")
    headers = {
        k: v
        for k, v in response.headers.items()
        if k not in {"x-request-id", "content-length", "x-ratelimit-remaining"}
    }
    return response.status_code, body, headers


async def test_unknown_user_and_wrong_password_look_identical(
    client: httpx.AsyncClient, user: User
) -> None:
    wrong = await client.post(LOGIN, json={"username": user.username, "password": "wrong-password"})
    unknown = await client.post(
        LOGIN, json={"username": "nobody-here", "password": "wrong-password"}
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "INVALID_CREDENTIALS"
    assert _comparable(wrong) == _comparable(unknown)
    assert "wrong-password" not in wrong.text


async def test_disabled_account_is_told_only_after_the_right_password(
    client: httpx.AsyncClient, user: User, database: Database
) -> None:
    async with database.session() as session:
        await session.execute(update(User).where(User.id == user.id).values(is_active=False))
        await session.commit()
    wrong = await client.post(LOGIN, json={"username": user.username, "password": "wrong-password"})
    assert wrong.status_code == 401
    right = await client.post(LOGIN, json={"username": user.username, "password": DEFAULT_PASSWORD})
    assert right.status_code == 403
    assert right.json()["error"] == "ACCOUNT_DISABLED"


@pytest.mark.parametrize("stored", ["", "plaintext", "$2b$12$invalidbcrypthash", "$argon2id$bad"])
async def test_a_legacy_or_corrupt_hash_is_a_401(
    client: httpx.AsyncClient, user: User, database: Database, stored: str
) -> None:
    async with database.session() as session:
        await session.execute(update(User).where(User.id == user.id).values(password_hash=stored))
        await session.commit()
    response = await client.post(LOGIN, json={"username": user.username, "password": "anything1"})
    assert response.status_code == 401


async def test_weaker_hashes_are_upgraded_on_login(
    client: httpx.AsyncClient, user: User, database: Database
) -> None:
    from passlib.hash import argon2

    weak = argon2.using(memory_cost=512, rounds=1, parallelism=1).hash(DEFAULT_PASSWORD)
    async with database.session() as session:
        await session.execute(update(User).where(User.id == user.id).values(password_hash=weak))
        await session.commit()
    await login(client, user.username)
    async with database.session(write=False) as session:
        stored = await session.get(User, user.id)
    assert stored is not None
    assert stored.password_hash != weak
    assert "m=1024" in stored.password_hash


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"password": "x"},
        {"username": "a"},
        {"username": "a", "password": "b", "role": "admin"},
        {"username": ["a"], "password": "b"},
        {"username": "a", "password": "p" * 2000},
    ],
)
async def test_malformed_logins_are_400(client: httpx.AsyncClient, body: dict[str, object]) -> None:
    response = await client.post(LOGIN, json=body)
    assert response.status_code == 400
    assert response.json()["error"] == "VALIDATION_ERROR"


async def test_passwords_are_never_truncated(client: httpx.AsyncClient, database: Database) -> None:
    long_password = "p" * 100 + "A"
    user = await make_user(database, password=long_password)
    response = await client.post(
        LOGIN, json={"username": user.username, "password": "p" * 100 + "B"}
    )
    assert response.status_code == 401
    await login(client, user.username, long_password)


async def test_oauth2_form_login_for_docs(client: httpx.AsyncClient, user: User) -> None:
    response = await client.post(
        "/api/v1/auth/token", data={"username": user.username, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200
    token = response.json()["access_token"]
    assert (await client.get("/api/v1/auth/me", headers=bearer(token))).status_code == 200
    bad = await client.post(
        "/api/v1/auth/token", data={"username": user.username, "password": "no"}
    )
    assert bad.status_code == 401


async def test_verify_token_and_profile_update(
    client: httpx.AsyncClient, user: User, database: Database
) -> None:
    headers = bearer((await login(client, user.username))["access_token"])
    verified = await client.get("/api/v1/auth/verify-token", headers=headers)
    assert verified.json() == {"valid": True, "user": verified.json()["user"]}
    updated = await client.patch(
        "/api/v1/auth/me",
        headers=headers,
        json={"first_name": "Grace", "last_name": "Hopper", "email": "Grace@Example.org"},
    )
    assert updated.status_code == 200
    assert (updated.json()["first_name"], updated.json()["email"]) == ("Grace", "grace@example.org")
    for forbidden in ({"role": "admin"}, {"is_active": False}, {"username": "x"}, {"id": 1}):
        response = await client.patch("/api/v1/auth/me", headers=headers, json=forbidden)
        assert response.status_code == 400, forbidden
    other = await make_user(database)
    taken = await client.patch("/api/v1/auth/me", headers=headers, json={"email": other.email})
    assert taken.status_code == 409
    assert taken.json()["error"] == "EMAIL_TAKEN"
    bad_email = await client.patch("/api/v1/auth/me", headers=headers, json={"email": "nope"})
    assert bad_email.status_code == 400


async def test_register(client: httpx.AsyncClient, database: Database) -> None:
    body = {"username": "newbie", "email": "newbie@example.org", "password": "long-enough-1"}
    created = await client.post("/api/v1/auth/register", json=body)
    assert created.status_code == 201
    assert created.json()["role"] == "student"
    assert created.headers["location"] == f"/api/v1/users/{created.json()['id']}"
    await login(client, "newbie", "long-enough-1")

    with_role = await client.post(
        "/api/v1/auth/register", json={**body, "username": "sneaky", "role": "admin"}
    )
    assert with_role.status_code == 400
    again = await client.post("/api/v1/auth/register", json={**body, "email": "x@example.org"})
    assert (again.status_code, again.json()["error"]) == (409, "USERNAME_TAKEN")
    same_email = await client.post(
        "/api/v1/auth/register", json={**body, "username": "other", "email": "NEWBIE@example.org"}
    )
    assert (same_email.status_code, same_email.json()["error"]) == (409, "EMAIL_TAKEN")
    for bad in (
        {**body, "username": "a b"},
        {**body, "password": "short"},
        {**body, "password": "x" * 129},
        {**body, "email": "not-email"},
    ):
        assert (await client.post("/api/v1/auth/register", json=bad)).status_code == 400


async def test_registration_can_be_closed(make_app: Callable[..., FastAPI]) -> None:
    app = make_app(allow_registration=False)
    body = {"username": "newbie", "email": "newbie@example.org", "password": "long-enough-1"}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.post("/api/v1/auth/register", json=body)
    assert (response.status_code, response.json()["error"]) == (403, "REGISTRATION_CLOSED")
