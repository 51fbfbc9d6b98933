"""API.md §5: batch enrollment, row by row, never past capacity."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import update

from studyhub.core.db import Database
from studyhub.courses.models import Course
from studyhub.enrollments.models import EnrollmentStatus
from studyhub.users.models import UserRole
from tests.courses.conftest import World
from tests.enrollments.checks import active_students, enrollment_row, seat_count
from tests.factories import enroll, make_user


async def test_mixed_rows_each_get_their_result(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    fresh = [await make_user(database) for _ in range(3)]
    returning = await make_user(database)
    await enroll(database, world.course, returning, status=EnrollmentStatus.DROPPED)
    helper = await make_user(database, role=UserRole.TA)
    rows: list[Any] = [
        {"user_id": fresh[0].id},  # 0 created
        {"username": fresh[1].username},  # 1 created
        {"email": fresh[2].email.upper(), "role": "student"},  # 2 created
        {"user_id": world.student.id},  # 3 already enrolled
        {"username": "nobody-here"},  # 4 unknown user
        {"user_id": 1, "email": "a@b.c"},  # 5 two keys
        {"username": "x", "role": "owner"},  # 6 bad role
        "not an object",  # 7 not a row at all
        {"user_id": returning.id},  # 8 rejoins (same row)
        {"user_id": helper.id, "role": "ta"},  # 9 created as TA
        {"user_id": fresh[0].id},  # 10 repeated within the batch
    ]
    response = await client.post(
        world.url("/enrollments/batch"),
        json={"enrollments": rows},
        headers=world.headers["teacher"],
    )
    assert response.status_code == 200, response.text
    body = response.json()
    results = body["results"]
    assert [r["index"] for r in results] == list(range(len(rows)))
    created = [r["index"] for r in results if r["status"] == "created"]
    assert created == [0, 1, 2, 8, 9]
    assert (body["created"], body["failed"]) == (5, 6)
    assert results[0]["user_id"] == fresh[0].id and results[0]["error"] is None
    errors = {r["index"]: r["error"]["error"] for r in results if r["status"] == "error"}
    assert errors == {
        3: "ALREADY_ENROLLED",
        4: "NOT_FOUND",
        5: "VALIDATION_ERROR",
        6: "VALIDATION_ERROR",
        7: "VALIDATION_ERROR",
        10: "ALREADY_ENROLLED",
    }
    assert "role" in results[6]["error"]["details"]
    assert results[3]["user_id"] == world.student.id
    row = await enrollment_row(database, world.course.id, returning.id)
    assert row is not None and row.status == "active"
    assert await seat_count(database, world.course.id) == 5  # world's student + 4 new students
    assert await active_students(database, world.course.id) == 5


async def test_batch_never_exceeds_capacity(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    async with database.session() as session:
        await session.execute(
            update(Course).where(Course.id == world.course.id).values(max_students=3)
        )
        await session.commit()
    people = [await make_user(database) for _ in range(4)]
    helper = await make_user(database, role=UserRole.TA)
    rows = [{"user_id": p.id} for p in people] + [{"user_id": helper.id, "role": "ta"}]
    response = await client.post(
        world.url("/enrollments/batch"), json={"enrollments": rows}, headers=world.headers["admin"]
    )
    assert response.status_code == 200
    statuses = [(r["status"], (r["error"] or {}).get("error")) for r in response.json()["results"]]
    # One seat was taken by the world's student: two more fit, the rest are full; TAs need none.
    assert statuses == [
        ("created", None),
        ("created", None),
        ("error", "COURSE_FULL"),
        ("error", "COURSE_FULL"),
        ("created", None),
    ]
    assert await seat_count(database, world.course.id) == 3
    assert await active_students(database, world.course.id) == 3


async def test_batch_limits_and_access(client: httpx.AsyncClient, world: World) -> None:
    url = world.url("/enrollments/batch")
    teacher = world.headers["teacher"]
    too_many = await client.post(
        url, json={"enrollments": [{"user_id": 1}] * 1001}, headers=teacher
    )
    assert (too_many.status_code, too_many.json()["error"]) == (400, "VALIDATION_ERROR")
    empty = await client.post(url, json={"enrollments": []}, headers=teacher)
    assert empty.status_code == 400
    body = {"enrollments": [{"user_id": world.outsider.id}]}
    for caller in ("ta", "student", "outsider"):
        assert (await client.post(url, json=body, headers=world.headers[caller])).status_code == 403
    assert (await client.post(url, json=body)).status_code == 401


async def test_a_full_batch_of_1000_rows(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    """The limit is served in one request, with the user lookups batched (not per row)."""
    rows = [{"username": f"ghost{n}"} for n in range(999)] + [{"user_id": world.outsider.id}]
    response = await client.post(
        world.url("/enrollments/batch"),
        json={"enrollments": rows},
        headers=world.headers["teacher"],
    )
    assert response.status_code == 200
    assert (response.json()["created"], response.json()["failed"]) == (1, 999)
    assert await seat_count(database, world.course.id) == 2
