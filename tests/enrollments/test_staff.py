"""API.md §5: staff manage a course's enrollments (roster, add, change, remove)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from studyhub.core.db import Database
from studyhub.courses.models import Course, EnrollmentType
from studyhub.enrollments.models import CourseRole, EnrollmentStatus
from studyhub.users.models import UserRole
from tests.courses.conftest import World
from tests.enrollments.checks import active_students, counting, enrollment_row, seat_count
from tests.factories import enroll, make_user


async def _capacity(database: Database, course_id: int, limit: int | None) -> None:
    async with database.session() as session:
        await session.execute(
            update(Course).where(Course.id == course_id).values(max_students=limit)
        )
        await session.commit()


async def _counter_is_exact(database: Database, course_id: int, expected: int) -> None:
    assert await seat_count(database, course_id) == expected
    assert await active_students(database, course_id) == expected


# -- roster -------------------------------------------------------------------------------


async def test_roster_lists_filters_and_searches(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    dropped = await make_user(database, username="dropped_dora")
    await enroll(database, world.course, dropped, status=EnrollmentStatus.DROPPED)
    staff = world.headers["ta"]

    everyone = await client.get(world.url("/enrollments"), headers=staff)
    assert everyone.status_code == 200, everyone.text
    body = everyone.json()
    assert body["pagination"] == {"page": 1, "per_page": 10, "total": 4, "pages": 1}
    assert {e["user"]["id"] for e in body["enrollments"]} == {
        world.teacher.id,
        world.ta.id,
        world.student.id,
        dropped.id,
    }
    assert 'rel="last"' in everyone.headers["link"]

    students = await client.get(
        world.url("/enrollments"), params={"role": "student", "status": "active"}, headers=staff
    )
    assert [e["user"]["id"] for e in students.json()["enrollments"]] == [world.student.id]

    by_name = await client.get(world.url("/enrollments"), params={"search": "DORA"}, headers=staff)
    assert [e["user"]["username"] for e in by_name.json()["enrollments"]] == ["dropped_dora"]
    by_mail = await client.get(
        world.url("/enrollments"), params={"search": world.ta.email}, headers=staff
    )
    assert [e["user"]["id"] for e in by_mail.json()["enrollments"]] == [world.ta.id]
    # LIKE wildcards are matched literally: "_" is not "any character".
    wildcard = await client.get(world.url("/enrollments"), params={"search": "%"}, headers=staff)
    assert wildcard.json()["pagination"]["total"] == 0
    underscore = await client.get(world.url("/enrollments"), params={"search": "_"}, headers=staff)
    assert [e["user"]["username"] for e in underscore.json()["enrollments"]] == ["dropped_dora"]

    paged = await client.get(
        world.url("/enrollments"), params={"per_page": 3, "page": 2}, headers=staff
    )
    assert paged.json()["pagination"] == {"page": 2, "per_page": 3, "total": 4, "pages": 2}
    assert len(paged.json()["enrollments"]) == 1
    assert 'rel="prev"' in paged.headers["link"]

    bad = await client.get(world.url("/enrollments"), params={"per_page": 101}, headers=staff)
    assert (bad.status_code, bad.json()["error"]) == (400, "VALIDATION_ERROR")
    bad_role = await client.get(world.url("/enrollments"), params={"role": "boss"}, headers=staff)
    assert bad_role.status_code == 400


async def test_roster_statements_do_not_grow_with_the_page(
    app: FastAPI, client: httpx.AsyncClient, world: World, database: Database
) -> None:
    for _ in range(12):
        await enroll(database, world.course, await make_user(database))
    staff = world.headers["teacher"]
    await client.get("/api/v1/auth/me", headers=staff)  # warm the per-user auth state
    counts = {}
    for per_page in (1, 15):
        with counting(app) as statements:
            response = await client.get(
                world.url("/enrollments"), params={"per_page": per_page}, headers=staff
            )
        assert len(response.json()["enrollments"]) == per_page
        counts[per_page] = len(statements)
    assert counts[1] == counts[15], counts


@pytest.mark.parametrize(("caller", "expected"), [("student", 403), ("outsider", 403)])
async def test_roster_is_for_staff(
    client: httpx.AsyncClient, world: World, caller: str, expected: int
) -> None:
    response = await client.get(world.url("/enrollments"), headers=world.headers[caller])
    assert response.status_code == expected
    assert (await client.get(world.url("/enrollments"))).status_code == 401


# -- add ----------------------------------------------------------------------------------


async def test_teacher_adds_by_username_email_or_id(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    people = [await make_user(database) for _ in range(3)]
    keys = [
        {"username": people[0].username.upper()},
        {"email": people[1].email},
        {"user_id": people[2].id, "role": "ta"},
    ]
    for person, key in zip(people, keys, strict=True):
        response = await client.post(
            world.url("/enrollments"), json=key, headers=world.headers["teacher"]
        )
        assert response.status_code == 201, response.text
        assert response.json()["user"]["id"] == person.id
        assert response.headers["location"].endswith(f"/enrollments/{person.id}")
    assert (await enrollment_row(database, world.course.id, people[2].id)).role == "ta"  # type: ignore[union-attr]
    await _counter_is_exact(database, world.course.id, 3)

    again = await client.post(
        world.url("/enrollments"), json=keys[0], headers=world.headers["admin"]
    )
    assert (again.status_code, again.json()["error"]) == (409, "ALREADY_ENROLLED")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"user_id": 1, "username": "x"},
        {"username": "x", "role": "owner"},
        {"username": "x", "extra": 1},
        {"user_id": 0},
    ],
)
async def test_add_validates_the_body(
    client: httpx.AsyncClient, world: World, body: dict[str, object]
) -> None:
    response = await client.post(
        world.url("/enrollments"), json=body, headers=world.headers["teacher"]
    )
    assert (response.status_code, response.json()["error"]) == (400, "VALIDATION_ERROR")


async def test_add_unknown_user_is_404(client: httpx.AsyncClient, world: World) -> None:
    for key in ({"user_id": 999_999}, {"username": "nobody"}, {"email": "no@body.org"}):
        response = await client.post(
            world.url("/enrollments"), json=key, headers=world.headers["teacher"]
        )
        assert (response.status_code, response.json()["message"]) == (404, "User not found")


async def test_ta_adds_students_only(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    person = await make_user(database)
    ta = world.headers["ta"]
    for role in ("ta", "teacher"):
        refused = await client.post(
            world.url("/enrollments"), json={"user_id": person.id, "role": role}, headers=ta
        )
        assert (refused.status_code, refused.json()["error"]) == (403, "FORBIDDEN")
    added = await client.post(world.url("/enrollments"), json={"user_id": person.id}, headers=ta)
    assert added.status_code == 201
    for caller in ("student", "outsider"):
        response = await client.post(
            world.url("/enrollments"), json={"user_id": person.id}, headers=world.headers[caller]
        )
        assert response.status_code == 403


async def test_capacity_applies_to_students_only(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    await _capacity(database, world.course.id, 1)
    newcomer, helper = await make_user(database), await make_user(database, role=UserRole.TA)
    headers = world.headers["teacher"]
    full = await client.post(
        world.url("/enrollments"), json={"user_id": newcomer.id}, headers=headers
    )
    assert (full.status_code, full.json()["error"]) == (409, "COURSE_FULL")
    assert await enrollment_row(database, world.course.id, newcomer.id) is None
    ta = await client.post(
        world.url("/enrollments"), json={"user_id": helper.id, "role": "ta"}, headers=headers
    )
    assert ta.status_code == 201
    await _counter_is_exact(database, world.course.id, 1)


async def test_staff_may_add_to_a_closed_course(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    async with database.session() as session:
        await session.execute(
            update(Course)
            .where(Course.id == world.course.id)
            .values(enrollment_type=EnrollmentType.CLOSED)
        )
        await session.commit()
    response = await client.post(
        world.url("/enrollments"),
        json={"user_id": world.outsider.id},
        headers=world.headers["teacher"],
    )
    assert response.status_code == 201


# -- change and remove --------------------------------------------------------------------


def member_url(world: World, user_id: int) -> str:
    return world.url(f"/enrollments/{user_id}")


async def test_counts_stay_exact_through_transitions(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    headers = world.headers["teacher"]
    url = member_url(world, world.student.id)
    steps: list[tuple[dict[str, str], int]] = [
        ({"status": "completed"}, 0),
        ({"status": "active"}, 1),
        ({"role": "ta"}, 0),
        ({"role": "student"}, 1),
        ({"status": "dropped"}, 0),
        ({"role": "ta"}, 0),  # a dropped TA takes no seat either
        ({"role": "student", "status": "active"}, 1),
        ({"role": "teacher"}, 0),
        ({"role": "student"}, 1),
        ({}, 1),
    ]
    for body, expected in steps:
        response = await client.patch(url, json=body, headers=headers)
        assert response.status_code == 200, (body, response.text)
        for key, value in body.items():
            assert response.json()[key] == value
        await _counter_is_exact(database, world.course.id, expected)

    # The TA goes from staff to active student: a seat is taken.
    ta = await client.patch(
        member_url(world, world.ta.id), json={"role": "student"}, headers=headers
    )
    assert ta.status_code == 200
    await _counter_is_exact(database, world.course.id, 2)


async def test_reactivating_a_student_rechecks_capacity(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    headers = world.headers["admin"]
    url = member_url(world, world.student.id)
    assert (await client.patch(url, json={"status": "dropped"}, headers=headers)).is_success
    await _capacity(database, world.course.id, 1)
    assert (await client.post(world.url("/enroll"), headers=world.headers["outsider"])).is_success

    full = await client.patch(url, json={"status": "active"}, headers=headers)
    assert (full.status_code, full.json()["error"]) == (409, "COURSE_FULL")
    promote_ta = await client.patch(
        member_url(world, world.ta.id), json={"role": "student"}, headers=headers
    )
    assert (promote_ta.status_code, promote_ta.json()["error"]) == (409, "COURSE_FULL")
    row = await enrollment_row(database, world.course.id, world.student.id)
    assert row is not None and row.status == "dropped"
    await _counter_is_exact(database, world.course.id, 1)


async def test_the_last_teacher_stays(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    headers = world.headers["admin"]
    teacher_url = member_url(world, world.teacher.id)
    for body in ({"role": "ta"}, {"status": "dropped"}, {"role": "student"}):
        response = await client.patch(teacher_url, json=body, headers=headers)
        assert (response.status_code, response.json()["error"]) == (409, "LAST_TEACHER"), body
    removed = await client.delete(teacher_url, headers=headers)
    assert (removed.status_code, removed.json()["error"]) == (409, "LAST_TEACHER")

    # With a second teacher the first may step down, and then the second is the last.
    promoted = await client.patch(
        member_url(world, world.ta.id), json={"role": "teacher"}, headers=headers
    )
    assert promoted.status_code == 200
    assert (await client.patch(teacher_url, json={"role": "ta"}, headers=headers)).is_success
    last = await client.delete(member_url(world, world.ta.id), headers=headers)
    assert (last.status_code, last.json()["error"]) == (409, "LAST_TEACHER")
    await _counter_is_exact(database, world.course.id, 1)


async def test_delete_drops_and_keeps_the_row(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    url = member_url(world, world.student.id)
    response = await client.delete(url, headers=world.headers["teacher"])
    assert response.status_code == 204
    row = await enrollment_row(database, world.course.id, world.student.id)
    assert row is not None and row.status == "dropped"
    await _counter_is_exact(database, world.course.id, 0)
    # Idempotent for staff: the member is already dropped.
    assert (await client.delete(url, headers=world.headers["teacher"])).status_code == 204
    await _counter_is_exact(database, world.course.id, 0)


async def test_change_unknown_member_is_404(client: httpx.AsyncClient, world: World) -> None:
    headers = world.headers["teacher"]
    for user_id in (world.outsider.id, 999_999):
        patch = await client.patch(member_url(world, user_id), json={}, headers=headers)
        assert patch.status_code == 404
        assert (await client.delete(member_url(world, user_id), headers=headers)).status_code == 404


@pytest.mark.parametrize("body", [{"status": "paused"}, {"role": None}, {"status": None}, {"x": 1}])
async def test_change_validates_the_body(
    client: httpx.AsyncClient, world: World, body: dict[str, object]
) -> None:
    response = await client.patch(
        member_url(world, world.student.id), json=body, headers=world.headers["teacher"]
    )
    assert (response.status_code, response.json()["error"]) == (400, "VALIDATION_ERROR")


@pytest.mark.parametrize("caller", ["ta", "student", "outsider"])
async def test_only_teachers_change_or_remove(
    client: httpx.AsyncClient, world: World, database: Database, caller: str
) -> None:
    url = member_url(world, world.student.id)
    headers = world.headers[caller]
    assert (await client.patch(url, json={"role": "ta"}, headers=headers)).status_code == 403
    assert (await client.delete(url, headers=headers)).status_code == 403
    assert (await client.patch(url, json={})).status_code == 401
    row = await enrollment_row(database, world.course.id, world.student.id)
    assert row is not None and (row.role, row.status) == (CourseRole.STUDENT, "active")
