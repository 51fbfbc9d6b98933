"""API.md §5: GET /me/courses, with honest item totals and no per-course queries."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from studyhub.core.db import Database
from studyhub.courses.models import CourseStatus
from studyhub.enrollments.models import CourseRole, EnrollmentStatus
from studyhub.users.models import UserRole
from tests.courses.conftest import World
from tests.enrollments.checks import counting
from tests.factories import enroll, make_course, make_lecture, make_user, make_week
from tests.helpers import auth_headers

ME = "/api/v1/me/courses"


async def test_my_courses_with_role_status_and_progress(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    # The world's course: one published lecture in a published week, one draft lecture, and a
    # draft week; add a published lecture to the draft week, which must not count either.
    await make_lecture(database, world.draft_week, number=1)
    other = await make_course(database, world.teacher, code="ZZ-200")
    await enroll(database, other, world.student, status=EnrollmentStatus.COMPLETED)
    gone = await make_course(database, world.teacher, code="ZZ-300")
    await enroll(database, gone, world.student, status=EnrollmentStatus.DROPPED)
    draft = await make_course(database, world.teacher, code="ZZ-400", status=CourseStatus.DRAFT)
    await enroll(database, draft, world.student)

    response = await client.get(ME, headers=world.headers["student"])
    assert response.status_code == 200, response.text
    courses = response.json()["courses"]
    assert [c["id"] for c in courses] == [world.course.id, other.id]  # by code; no draft, no drop
    first = courses[0]
    assert (first["code"], first["my_role"], first["enrollment_status"]) == (
        world.course.code,
        "student",
        "active",
    )
    assert first["progress"] == {"percentage": 0.0, "completed_items": 0, "total_items": 1}
    assert first["instructor"] == {
        "id": world.teacher.id,
        "name": f"{world.teacher.first_name} {world.teacher.last_name}",
    }
    assert first["enrollment_count"] == 1 and first["status"] == "published"
    assert courses[1]["progress"]["total_items"] == 0

    dropped = await client.get(ME, params={"status": "dropped"}, headers=world.headers["student"])
    assert [c["id"] for c in dropped.json()["courses"]] == [gone.id]
    completed = await client.get(
        ME, params={"status": "completed"}, headers=world.headers["student"]
    )
    assert [c["id"] for c in completed.json()["courses"]] == [other.id]


async def test_staff_see_their_drafts_and_filter_by_role(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    draft = await make_course(database, world.teacher, code="AA-1", status=CourseStatus.DRAFT)
    teacher = world.headers["teacher"]
    everything = await client.get(ME, headers=teacher)
    assert [c["id"] for c in everything.json()["courses"]] == [draft.id, world.course.id]
    assert {c["my_role"] for c in everything.json()["courses"]} == {"teacher"}
    as_student = await client.get(ME, params={"role": "student"}, headers=teacher)
    assert as_student.json()["courses"] == []
    ta = await client.get(ME, params={"role": "ta"}, headers=world.headers["ta"])
    assert [(c["id"], c["my_role"]) for c in ta.json()["courses"]] == [(world.course.id, "ta")]


async def test_nobody_enrolled_and_anonymous(client: httpx.AsyncClient, world: World) -> None:
    for caller in ("outsider", "admin"):
        response = await client.get(ME, headers=world.headers[caller])
        assert (response.status_code, response.json()) == (200, {"courses": []})
    assert (await client.get(ME)).status_code == 401
    bad = await client.get(ME, params={"status": "paused"}, headers=world.headers["student"])
    assert bad.status_code == 400


async def test_statement_count_does_not_grow_with_courses(
    app: FastAPI, client: httpx.AsyncClient, database: Database
) -> None:
    teacher = await make_user(database, role=UserRole.TEACHER)
    few, many = await make_user(database), await make_user(database)
    for index in range(6):
        course = await make_course(database, teacher)
        week = await make_week(database, course)
        for number in range(1, index + 2):
            await make_lecture(database, week, number=number)
        await enroll(database, course, many, CourseRole.STUDENT)
        if index == 0:
            await enroll(database, course, few)
    counts = {}
    for name, user in (("few", few), ("many", many)):
        headers = await auth_headers(client, user.username)
        await client.get("/api/v1/auth/me", headers=headers)  # warm the per-user auth state
        with counting(app) as statements:
            response = await client.get(ME, headers=headers)
        assert response.status_code == 200
        counts[name] = len(statements)
    totals = [c["progress"]["total_items"] for c in response.json()["courses"]]
    assert sorted(totals) == [1, 2, 3, 4, 5, 6]
    assert counts["few"] == counts["many"], counts
