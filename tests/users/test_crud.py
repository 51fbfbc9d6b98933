"""POST/GET/PATCH/DELETE /users[/{id}]: shapes, conflicts, strict bodies, ETag and If-Match."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from studyhub.core.db import Database
from studyhub.users.models import User, UserRole
from studyhub.users.repository import UserRepository
from tests.factories import make_user
from tests.helpers import login
from tests.users.conftest import USERS, create_body

SECRET = "s3cret-Passw0rd!"


async def test_create_returns_201_with_location_and_the_user(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    body = create_body(
        " NewTeacher ",
        email="New.Teacher@Example.COM",
        password=SECRET,
        role="teacher",
        first_name=" Ada ",
        last_name="Lovelace",
    )
    response = await client.post(USERS, headers=admin_headers, json=body)
    assert response.status_code == 201, response.text
    user = response.json()
    assert user["username"] == "newteacher"
    assert user["email"] == "new.teacher@example.com"
    assert (user["role"], user["first_name"], user["last_name"]) == ("teacher", "Ada", "Lovelace")
    assert user["is_active"] is True
    assert user["last_login_at"] is None
    assert response.headers["location"] == f"{USERS}/{user['id']}"
    assert SECRET not in response.text
    fetched = await client.get(response.headers["location"], headers=admin_headers)
    assert fetched.json() == user
    assert fetched.headers["etag"] == response.headers["etag"]
    # The new account works with the password the admin chose.
    assert (await login(client, "newteacher", SECRET))["user"]["id"] == user["id"]


async def test_create_inactive_user_cannot_log_in(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    body = create_body("sleeper", is_active=False, password=SECRET)
    response = await client.post(USERS, headers=admin_headers, json=body)
    assert response.json()["is_active"] is False
    refused = await client.post(
        "/api/v1/auth/login", json={"username": "sleeper", "password": SECRET}
    )
    assert refused.status_code == 403


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"username": "TAKEN"}, "USERNAME_TAKEN", "username"),
        ({"email": "Taken@Example.COM"}, "EMAIL_TAKEN", "email"),
    ],
)
async def test_create_conflicts_are_409(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    overrides: dict[str, str],
    code: str,
    field: str,
) -> None:
    first = await client.post(USERS, headers=admin_headers, json=create_body("taken"))
    assert first.status_code == 201
    body = {**create_body("someone", password=SECRET), **overrides}
    response = await client.post(USERS, headers=admin_headers, json=body)
    assert response.status_code == 409, response.text
    assert response.json()["error"] == code
    assert set(response.json()["details"]) == {field}
    assert SECRET not in response.text


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"id": 99}, "id"),
        ({"created_at": "2020-01-01T00:00:00Z"}, "created_at"),
        ({"password_hash": "$argon2id$v=19$m=1,t=1,p=1$x$y"}, "password_hash"),
        ({"tokens_valid_after": None}, "tokens_valid_after"),
        ({"is_admin": True}, "is_admin"),
    ],
)
async def test_create_refuses_mass_assignment(
    client: httpx.AsyncClient, admin_headers: dict[str, str], extra: dict[str, Any], field: str
) -> None:
    response = await client.post(USERS, headers=admin_headers, json={**create_body("m"), **extra})
    assert response.status_code == 400
    assert field in response.json()["details"]


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"password": "short"}, {"password"}),
        ({"password": "x" * 129}, {"password"}),
        ({"username": "no spaces"}, {"username"}),
        ({"username": "ab"}, {"username"}),
        ({"email": "not-an-email"}, {"email"}),
        ({"role": "superuser"}, {"role"}),
        ({"first_name": "x" * 101}, {"first_name"}),
        ({"is_active": "perhaps"}, {"is_active"}),
    ],
)
async def test_create_validation_errors_never_echo_the_password(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    overrides: dict[str, Any],
    fields: set[str],
) -> None:
    password = str(overrides.get("password", SECRET))
    body = {**create_body("valid_name", password=SECRET), **overrides}
    response = await client.post(USERS, headers=admin_headers, json=body)
    assert response.status_code == 400
    assert response.json()["error"] == "VALIDATION_ERROR"
    assert set(response.json()["details"]) == fields
    assert password[:8] not in response.text


async def test_missing_fields_are_400(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await client.post(USERS, headers=admin_headers, json={"username": "lonely"})
    assert set(response.json()["details"]) == {"email", "password", "role"}


async def test_get_sends_an_etag_and_if_none_match_gives_304(
    client: httpx.AsyncClient, database: Database, admin_headers: dict[str, str]
) -> None:
    target = await make_user(database)
    url = f"{USERS}/{target.id}"
    first = await client.get(url, headers=admin_headers)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert etag.startswith('"')
    assert first.headers["cache-control"] == "private, no-cache"
    assert first.json()["username"] == target.username

    for header in (etag, f'"nope", {etag}', f"W/{etag}", "*"):
        cached = await client.get(url, headers={**admin_headers, "If-None-Match": header})
        assert cached.status_code == 304, header
        assert cached.content == b""
        assert cached.headers["etag"] == etag

    stale = await client.get(url, headers={**admin_headers, "If-None-Match": '"nope"'})
    assert stale.status_code == 200
    assert stale.json() == first.json()

    changed = await client.patch(url, headers=admin_headers, json={"first_name": "Changed"})
    assert changed.headers["etag"] != etag
    after = await client.get(url, headers={**admin_headers, "If-None-Match": etag})
    assert after.status_code == 200
    assert after.headers["etag"] == changed.headers["etag"]


async def test_patch_changes_only_the_fields_sent(
    client: httpx.AsyncClient, database: Database, admin_headers: dict[str, str]
) -> None:
    target = await make_user(database, role=UserRole.STUDENT)
    url = f"{USERS}/{target.id}"
    before = (await client.get(url, headers=admin_headers)).json()
    response = await client.patch(
        url,
        headers=admin_headers,
        json={"email": "Fresh@Example.com", "role": "ta", "last_name": " Hopper "},
    )
    assert response.status_code == 200, response.text
    after = response.json()
    assert after == {**before, "email": "fresh@example.com", "role": "ta", "last_name": "Hopper"}
    assert (await client.get(url, headers=admin_headers)).json() == after
    # An empty PATCH is a no-op with the same representation.
    same = await client.patch(url, headers=admin_headers, json={})
    assert same.status_code == 200
    assert same.json() == after


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "renamed"}, "username"),
        ({"id": 1}, "id"),
        ({"created_at": "2020-01-01T00:00:00Z"}, "created_at"),
        ({"password_hash": "x"}, "password_hash"),
        ({"role": None}, "role"),
        ({"is_active": None}, "is_active"),
        ({"email": None}, "email"),
        ({"role": "owner"}, "role"),
        ({"password": "short"}, "password"),
    ],
)
async def test_patch_refuses_unknown_immutable_and_null_fields(
    client: httpx.AsyncClient,
    database: Database,
    admin_headers: dict[str, str],
    body: dict[str, Any],
    field: str,
) -> None:
    target = await make_user(database)
    response = await client.patch(f"{USERS}/{target.id}", headers=admin_headers, json=body)
    assert response.status_code == 400, response.text
    assert set(response.json()["details"]) == {field}
    assert "short" not in response.text


async def test_patch_email_taken_is_409(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    for name in ("holder", "target"):
        await client.post(USERS, headers=admin_headers, json=create_body(name))
    users = (await client.get(USERS, headers=admin_headers, params={"search": "target"})).json()
    url = f"{USERS}/{users['users'][0]['id']}"
    response = await client.patch(url, headers=admin_headers, json={"email": "HOLDER@example.com"})
    assert response.status_code == 409
    assert response.json()["error"] == "EMAIL_TAKEN"
    assert (await client.get(url, headers=admin_headers)).json()["email"] == "target@example.com"
    # Keeping one's own email (any case) is not a conflict.
    own = await client.patch(url, headers=admin_headers, json={"email": "Target@Example.com"})
    assert own.status_code == 200


async def test_patch_with_a_stale_if_match_is_412_and_changes_nothing(
    client: httpx.AsyncClient, database: Database, admin_headers: dict[str, str]
) -> None:
    target = await make_user(database)
    url = f"{USERS}/{target.id}"
    etag = (await client.get(url, headers=admin_headers)).headers["etag"]
    ok = await client.patch(
        url, headers={**admin_headers, "If-Match": etag}, json={"first_name": "One"}
    )
    assert ok.status_code == 200
    new_etag = ok.headers["etag"]
    stale = await client.patch(
        url, headers={**admin_headers, "If-Match": etag}, json={"first_name": "Two"}
    )
    assert stale.status_code == 412
    assert stale.json()["error"] == "PRECONDITION_FAILED"
    assert stale.headers["etag"] == new_etag
    assert (await client.get(url, headers=admin_headers)).json()["first_name"] == "One"
    fresh = await client.patch(
        url, headers={**admin_headers, "If-Match": new_etag}, json={"first_name": "Two"}
    )
    assert fresh.status_code == 200


async def test_two_concurrent_patches_with_the_same_if_match_one_wins(
    client: httpx.AsyncClient,
    database: Database,
    admin_headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = await make_user(database)
    url = f"{USERS}/{target.id}"
    etag = (await client.get(url, headers=admin_headers)).headers["etag"]

    # Force the dangerous interleaving: both requests wait for each other just before their
    # locked read of the row, then both read at once. Without the lock both would pass the
    # If-Match check on the same old version and both would answer 200. Each request's auth
    # check is served from the warm cache, so neither holds a transaction while it waits; on
    # PostgreSQL each opens its transaction first, so neither read is delayed by a connect (on
    # SQLite that first statement takes the database lock: the serialisation under test).
    original = UserRepository.get_for_update
    arrived: list[int] = []
    both_here = asyncio.Event()
    postgres = database.engine.dialect.name == "postgresql"

    async def rendezvous(self: UserRepository, user_id: int) -> User | None:
        if postgres:
            await self.session.execute(text("SELECT 1"))
        arrived.append(user_id)
        if len(arrived) == 2:
            both_here.set()
        await asyncio.wait_for(both_here.wait(), timeout=10)
        return await original(self, user_id)

    monkeypatch.setattr(UserRepository, "get_for_update", rendezvous)
    headers = {**admin_headers, "If-Match": etag}
    first, second = await asyncio.gather(
        client.patch(url, headers=headers, json={"first_name": "Alpha", "role": "ta"}),
        client.patch(url, headers=headers, json={"first_name": "Beta", "role": "teacher"}),
    )
    assert len(arrived) == 2
    assert sorted([first.status_code, second.status_code]) == [200, 412], (first, second)
    winner = first if first.status_code == 200 else second
    stored = (await client.get(url, headers=admin_headers)).json()
    assert stored == winner.json()
    assert (stored["first_name"], stored["role"]) in {("Alpha", "ta"), ("Beta", "teacher")}


async def test_delete_deactivates_and_keeps_the_data(
    client: httpx.AsyncClient, database: Database, admin_headers: dict[str, str]
) -> None:
    target = await make_user(database)
    url = f"{USERS}/{target.id}"
    response = await client.delete(url, headers=admin_headers)
    assert response.status_code == 204
    assert response.content == b""
    kept = await client.get(url, headers=admin_headers)
    assert kept.status_code == 200
    assert kept.json()["is_active"] is False
    assert kept.json()["username"] == target.username
    # Deleting again is harmless; reactivating is a PATCH.
    assert (await client.delete(url, headers=admin_headers)).status_code == 204
    back = await client.patch(url, headers=admin_headers, json={"is_active": True})
    assert back.json()["is_active"] is True


async def test_an_admin_cannot_lock_themselves_out(
    client: httpx.AsyncClient, admin: User, admin_headers: dict[str, str]
) -> None:
    url = f"{USERS}/{admin.id}"
    for method, body in (
        ("PATCH", {"is_active": False}),
        ("PATCH", {"role": "teacher"}),
        ("PATCH", {"first_name": "Me", "role": "student"}),
        ("DELETE", None),
    ):
        response = await client.request(method, url, headers=admin_headers, json=body)
        assert response.status_code == 409, (method, body)
        assert response.json()["error"] == "SELF_LOCKOUT"
    me = (await client.get(url, headers=admin_headers)).json()
    assert (me["role"], me["is_active"], me["first_name"]) == ("admin", True, "Admin")
    # Harmless changes to oneself are fine, including re-stating the current role.
    fine = await client.patch(
        url, headers=admin_headers, json={"role": "admin", "is_active": True, "last_name": "Root"}
    )
    assert fine.status_code == 200
