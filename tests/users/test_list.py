"""GET /users: filters, search, allow-listed sort, pagination and the Link header."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from studyhub.core.db import Database
from studyhub.users.models import User, UserRole
from tests.factories import make_user
from tests.helpers import login
from tests.users.conftest import USERS, create_body


async def _list(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> Any:
    response = await client.get(USERS, headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _names(body: Any) -> list[str]:
    return [u["username"] for u in body["users"]]


@pytest.fixture
async def people(
    client: httpx.AsyncClient, admin: User, admin_headers: dict[str, str]
) -> dict[str, int]:
    """root (admin) plus a known cast, created through the API."""
    rows = [
        create_body("alice", role="teacher", first_name="Alice", last_name="Liddell"),
        create_body("bob", role="student", first_name="Bob", last_name="Builder"),
        create_body("carol", role="ta", email="carol@wonder.example.com", first_name="Carol"),
        create_body("dave_x", role="student", is_active=False, last_name="100% Sure"),
        create_body("erin", role="student", email="daveyx@example.com"),
    ]
    ids = {}
    for row in rows:
        response = await client.post(USERS, headers=admin_headers, json=row)
        assert response.status_code == 201, response.text
        ids[str(row["username"])] = response.json()["id"]
    ids["root"] = admin.id
    return ids


async def test_lists_users_with_the_user_shape(
    client: httpx.AsyncClient, admin_headers: dict[str, str], people: dict[str, int]
) -> None:
    body = await _list(client, admin_headers)
    assert body["pagination"] == {"page": 1, "per_page": 10, "total": 6, "pages": 1}
    assert _names(body) == ["alice", "bob", "carol", "dave_x", "erin", "root"]
    assert set(body["users"][0]) == {
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
    assert "password" not in str(body)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"role": "student"}, ["bob", "dave_x", "erin"]),
        ({"role": "admin"}, ["root"]),
        ({"is_active": "false"}, ["dave_x"]),
        ({"is_active": "true", "role": "student"}, ["bob", "erin"]),
        ({"search": "ALI"}, ["alice"]),  # username, case-insensitive
        ({"search": "wonder"}, ["carol"]),  # email
        ({"search": "builder"}, ["bob"]),  # last name
        ({"search": "alice liddell"}, ["alice"]),  # full name
        ({"search": "example.com"}, ["alice", "bob", "carol", "dave_x", "erin"]),
        ({"search": "zzz"}, []),
    ],
)
async def test_filters_and_search(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    people: dict[str, int],
    params: dict[str, str],
    expected: list[str],
) -> None:
    body = await _list(client, admin_headers, **params)
    assert _names(body) == expected
    assert body["pagination"]["total"] == len(expected)


@pytest.mark.parametrize(
    ("search", "expected"),
    [("%", ["dave_x"]), ("_", ["dave_x"]), ("e_x", ["dave_x"]), ("x_", []), ("\\", [])],
)
async def test_search_matches_like_wildcards_literally(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    people: dict[str, int],
    search: str,
    expected: list[str],
) -> None:
    # Unescaped, "%" would match everyone and "e_x" would also match erin's "daveyx" email.
    assert _names(await _list(client, admin_headers, search=search)) == expected


async def test_sort_fields_and_directions(
    client: httpx.AsyncClient, admin_headers: dict[str, str], people: dict[str, int]
) -> None:
    everyone = ["alice", "bob", "carol", "dave_x", "erin", "root"]
    assert _names(await _list(client, admin_headers, sort="-username")) == everyone[::-1]
    by_email = _names(await _list(client, admin_headers, sort="email"))
    assert by_email == ["alice", "bob", "carol", "dave_x", "erin", "root"]
    # root was created first (the fixture), the rest in the order above.
    created = _names(await _list(client, admin_headers, sort="created_at"))
    assert created == ["root", "alice", "bob", "carol", "dave_x", "erin"]
    assert _names(await _list(client, admin_headers, sort="-created_at")) == created[::-1]
    by_role = _names(await _list(client, admin_headers, sort="role"))
    assert by_role == ["root", "bob", "dave_x", "erin", "carol", "alice"]  # ties by id


async def test_sort_by_last_login_puts_never_logged_in_last_both_ways(
    client: httpx.AsyncClient, admin_headers: dict[str, str], people: dict[str, int]
) -> None:
    await login(client, "bob", "a fine password")
    await login(client, "carol", "a fine password")  # root logged in first, in the fixture
    ascending = _names(await _list(client, admin_headers, sort="last_login_at"))
    assert ascending[:3] == ["root", "bob", "carol"]
    descending = _names(await _list(client, admin_headers, sort="-last_login_at"))
    assert descending[:3] == ["carol", "bob", "root"]
    assert set(ascending[3:]) == set(descending[3:]) == {"alice", "dave_x", "erin"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"sort": "password_hash"}, "sort"),
        ({"sort": "-tokens_valid_after"}, "sort"),
        ({"sort": "username;drop table users"}, "sort"),
        ({"per_page": "101"}, "per_page"),
        ({"per_page": "0"}, "per_page"),
        ({"page": "0"}, "page"),
        ({"role": "superuser"}, "role"),
        ({"is_active": "maybe"}, "is_active"),
        ({"search": ""}, "search"),
        ({"search": "x" * 101}, "search"),
    ],
)
async def test_invalid_parameters_are_400(
    client: httpx.AsyncClient, admin_headers: dict[str, str], params: dict[str, str], field: str
) -> None:
    response = await client.get(USERS, headers=admin_headers, params=params)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == "VALIDATION_ERROR"
    assert set(body["details"]) == {field}


async def test_pagination_and_link_header(
    client: httpx.AsyncClient, admin_headers: dict[str, str], people: dict[str, int]
) -> None:
    seen: list[str] = []
    for page in (1, 2, 3):
        response = await client.get(
            USERS, headers=admin_headers, params={"per_page": 2, "page": page, "role": "student"}
        )
        body = response.json()
        assert body["pagination"] == {"page": page, "per_page": 2, "total": 3, "pages": 2}
        seen += _names(body)
        link = response.headers["link"]
        assert 'rel="first"' in link
        assert 'rel="last"' in link
        assert "role=student" in link
        assert ('rel="next"' in link) == (page < 2)
        assert ('rel="prev"' in link) == (page > 1)
    assert seen == ["bob", "dave_x", "erin"]  # page 3 is past the end: empty


async def test_one_count_and_one_page_query_whatever_the_page_size(
    client: httpx.AsyncClient,
    database: Database,
    admin_headers: dict[str, str],
) -> None:
    for _ in range(15):
        await make_user(database, role=UserRole.TEACHER)
    await _list(client, admin_headers)  # warm the caller's cached auth state
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(str(args[2]))

    # The app has its own engine on the same database; listen on the Engine class itself.
    event.listen(Engine, "before_cursor_execute", record)
    try:
        body = await _list(client, admin_headers, per_page=100)
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    assert body["pagination"]["total"] == 16
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2, selects
