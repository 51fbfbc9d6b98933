"""POST /users/batch: each row stands alone; the request only fails as a whole when its outer
shape is wrong."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from studyhub.users.repository import UserRepository
from tests.helpers import login
from tests.users.conftest import USERS, create_body

BATCH = f"{USERS}/batch"
SECRET = "batch-secret-9"


async def _batch(
    client: httpx.AsyncClient, headers: dict[str, str], rows: list[Any]
) -> dict[str, Any]:
    response = await client.post(BATCH, headers=headers, json={"users": rows})
    assert response.status_code == 200, response.text
    assert SECRET not in response.text
    body: dict[str, Any] = response.json()
    return body


async def test_mixed_batch_creates_the_good_rows_and_reports_the_bad(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    existing = await client.post(USERS, headers=admin_headers, json=create_body("existing"))
    assert existing.status_code == 201
    rows: list[Any] = [
        create_body("good1", password=SECRET, role="teacher", first_name="One"),  # 0
        create_body("bad", password="short"),  # 1 invalid field
        create_body("EXISTING"),  # 2 username in the database
        create_body("fresh", email="Existing@Example.com"),  # 3 email in the database
        create_body("GOOD1", email="other@example.com"),  # 4 username earlier in batch
        create_body("good2", email="Good1@example.com"),  # 5 email earlier in batch
        {**create_body("sneaky"), "id": 1, "password_hash": "x"},  # 6 mass assignment
        {"username": "partial"},  # 7 missing fields
        create_body("good3", password=SECRET, is_active=False),  # 8
    ]
    body = await _batch(client, admin_headers, rows)
    assert (body["created"], body["failed"]) == (2, 7)
    results = body["results"]
    assert [r["index"] for r in results] == list(range(len(rows)))
    assert [r["status"] for r in results] == ["created"] + ["error"] * 7 + ["created"]
    codes = [r["error"]["error"] if r["error"] else None for r in results]
    assert codes == [
        None,
        "VALIDATION_ERROR",
        "USERNAME_TAKEN",
        "EMAIL_TAKEN",
        "USERNAME_TAKEN",
        "EMAIL_TAKEN",
        "VALIDATION_ERROR",
        "VALIDATION_ERROR",
        None,
    ]
    assert set(results[1]["error"]["details"]) == {"password"}
    assert set(results[6]["error"]["details"]) == {"id", "password_hash"}
    assert set(results[7]["error"]["details"]) == {"email", "password", "role"}
    assert results[4]["error"]["details"] == {"username": ["repeated earlier in this batch"]}
    assert all(set(r["error"]) == {"error", "message", "details"} for r in results if r["error"])
    assert all(r["id"] is None for r in results if r["status"] == "error")

    for index, expected in ((0, ("good1", "teacher", True)), (8, ("good3", "student", False))):
        user = (await client.get(f"{USERS}/{results[index]['id']}", headers=admin_headers)).json()
        assert (user["username"], user["role"], user["is_active"]) == expected
    listed = await client.get(USERS, headers=admin_headers, params={"per_page": 100})
    assert listed.json()["pagination"]["total"] == 4  # root, existing, good1, good3
    assert (await login(client, "good1", SECRET))["user"]["first_name"] == "One"


async def test_a_row_that_fails_earlier_does_not_claim_its_email(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await client.post(USERS, headers=admin_headers, json=create_body("taken"))
    rows = [
        create_body("taken", email="shared@example.com"),  # fails: username exists
        create_body("newcomer", email="shared@example.com"),  # so this one may have the email
    ]
    body = await _batch(client, admin_headers, rows)
    assert [r["status"] for r in body["results"]] == ["error", "created"]


async def test_a_row_that_loses_a_race_fails_alone(
    client: httpx.AsyncClient, admin_headers: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the up-front check misses a concurrent insert, the unique constraint still decides,
    inside that row's savepoint, and the rest of the batch is kept."""
    await client.post(USERS, headers=admin_headers, json=create_body("racer"))

    async def sees_nothing(
        self: UserRepository, usernames: Any, emails: Any
    ) -> tuple[set[str], set[str]]:
        return set(), set()

    monkeypatch.setattr(UserRepository, "taken", sees_nothing)
    rows = [
        create_body("before"),
        create_body("racer", email="r2@example.com"),
        create_body("after"),
    ]
    body = await _batch(client, admin_headers, rows)
    assert [r["status"] for r in body["results"]] == ["created", "error", "created"]
    assert body["results"][1]["error"]["error"] == "USERNAME_TAKEN"
    listed = (await client.get(USERS, headers=admin_headers, params={"search": "e"})).json()
    assert {"before", "after", "racer"} <= {u["username"] for u in listed["users"]}


async def test_five_hundred_rows_are_accepted(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    rows = [create_body(f"bulk{i:03d}") for i in range(500)]
    body = await _batch(client, admin_headers, rows)
    assert (body["created"], body["failed"]) == (500, 0)
    assert len({r["id"] for r in body["results"]}) == 500


@pytest.mark.parametrize(
    "payload",
    [
        {"users": [create_body(f"u{i:03d}") for i in range(501)]},
        {"users": []},
        {"users": [create_body("fine")], "dry_run": True},
        {"users": ["not an object"]},
        {"users": create_body("not_a_list")},
        {},
    ],
    ids=["501-rows", "empty", "unknown-key", "row-not-object", "not-a-list", "missing"],
)
async def test_a_malformed_envelope_is_a_400(
    client: httpx.AsyncClient, admin_headers: dict[str, str], payload: dict[str, Any]
) -> None:
    response = await client.post(BATCH, headers=admin_headers, json=payload)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "VALIDATION_ERROR"
    assert "a fine password" not in response.text
    listed = await client.get(USERS, headers=admin_headers)
    assert listed.json()["pagination"]["total"] == 1
