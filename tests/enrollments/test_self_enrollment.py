"""API.md §5: a student enrolls and drops themselves."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from sqlalchemy import update

from studyhub.core.db import Database
from studyhub.courses.models import Course, CourseStatus, EnrollmentType
from studyhub.users.models import UserRole
from tests.courses.conftest import World
from tests.enrollments.checks import active_students, enrollment_row, seat_count
from tests.factories import make_course, make_user
from tests.helpers import auth_headers


def enroll_url(course_id: int) -> str:
    return f"/api/v1/courses/{course_id}/enroll"


async def test_a_student_enrolls(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    assert await seat_count(database, world.course.id) == 1
    response = await client.post(world.url("/enroll"), headers=world.headers["outsider"])
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["course_id"] == world.course.id
    assert body["user"] == {
        "id": world.outsider.id,
        "username": world.outsider.username,
        "first_name": world.outsider.first_name,
        "last_name": world.outsider.last_name,
        "email": world.outsider.email,
    }
    assert (body["role"], body["status"]) == ("student", "active")
    assert body["enrolled_at"].endswith("Z") or "+00:00" in body["enrolled_at"]
    assert response.headers["location"].endswith(
        f"/courses/{world.course.id}/enrollments/{world.outsider.id}"
    )
    assert await seat_count(database, world.course.id) == 2

    # Enrolled now: the content opens up.
    weeks = await client.get(world.url("/weeks"), headers=world.headers["outsider"])
    assert weeks.status_code == 200

    again = await client.post(world.url("/enroll"), headers=world.headers["outsider"])
    assert (again.status_code, again.json()["error"]) == (409, "ALREADY_ENROLLED")
    assert await seat_count(database, world.course.id) == 2


async def test_drop_keeps_history_and_reenrolling_reuses_the_row(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    student = world.headers["student"]
    before = await enrollment_row(database, world.course.id, world.student.id)
    assert before is not None

    dropped = await client.delete(world.url("/enroll"), headers=student)
    assert dropped.status_code == 204
    row = await enrollment_row(database, world.course.id, world.student.id)
    assert row is not None and row.status == "dropped"
    assert await seat_count(database, world.course.id) == 0
    content = await client.get(world.url("/weeks"), headers=student)
    assert (content.status_code, content.json()["error"]) == (403, "NOT_ENROLLED")

    twice = await client.delete(world.url("/enroll"), headers=student)
    assert twice.status_code == 404

    back = await client.post(world.url("/enroll"), headers=student)
    assert back.status_code == 201, back.text
    row = await enrollment_row(database, world.course.id, world.student.id)
    assert row is not None and (row.id, row.status) == (before.id, "active")
    assert await seat_count(database, world.course.id) == 1


async def test_drop_when_not_enrolled_is_404(client: httpx.AsyncClient, world: World) -> None:
    for caller in ("outsider", "admin"):
        response = await client.delete(world.url("/enroll"), headers=world.headers[caller])
        assert response.status_code == 404, caller
    missing = await client.delete(enroll_url(999_999), headers=world.headers["student"])
    assert missing.status_code == 404


@pytest.mark.parametrize("caller", ["teacher", "ta"])
async def test_staff_cannot_drop_themselves(
    client: httpx.AsyncClient, world: World, caller: str
) -> None:
    response = await client.delete(world.url("/enroll"), headers=world.headers[caller])
    assert (response.status_code, response.json()["error"]) == (403, "FORBIDDEN")


@pytest.mark.parametrize("role", [UserRole.ADMIN, UserRole.TEACHER, UserRole.TA])
async def test_only_students_self_enroll(
    client: httpx.AsyncClient, world: World, database: Database, role: UserRole
) -> None:
    user = await make_user(database, role=role)
    headers = await auth_headers(client, user.username)
    response = await client.post(world.url("/enroll"), headers=headers)
    assert (response.status_code, response.json()["error"]) == (403, "FORBIDDEN")
    assert await seat_count(database, world.course.id) == 1


async def test_anonymous_is_401(client: httpx.AsyncClient, world: World) -> None:
    assert (await client.post(world.url("/enroll"))).status_code == 401
    assert (await client.delete(world.url("/enroll"))).status_code == 401


async def test_draft_and_unknown_courses_are_404(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    draft = await make_course(database, world.teacher, status=CourseStatus.DRAFT)
    outsider = world.headers["outsider"]
    for course_id in (draft.id, 999_999):
        response = await client.post(enroll_url(course_id), headers=outsider)
        assert (response.status_code, response.json()["error"]) == (404, "NOT_FOUND")


async def _set(database: Database, course_id: int, **values: object) -> None:
    async with database.session() as session:
        await session.execute(update(Course).where(Course.id == course_id).values(**values))
        await session.commit()


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"enrollment_type": EnrollmentType.CLOSED}, "closed"),
        ({"status": CourseStatus.ARCHIVED}, "archived"),
        ({"end_date": date.today() - timedelta(days=2)}, "ended"),
    ],
)
async def test_closed_archived_or_ended_courses_refuse(
    client: httpx.AsyncClient,
    world: World,
    database: Database,
    values: dict[str, object],
    reason: str,
) -> None:
    await _set(database, world.course.id, **values)
    response = await client.post(world.url("/enroll"), headers=world.headers["outsider"])
    assert (response.status_code, response.json()["error"]) == (403, "ENROLLMENT_CLOSED")
    assert response.json()["details"] == {"reason": reason}
    assert await enrollment_row(database, world.course.id, world.outsider.id) is None
    assert await seat_count(database, world.course.id) == 1


async def test_a_course_ending_today_is_still_open(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    # "Ended" means an end_date before today (UTC): the last day still takes enrollments.
    await _set(database, world.course.id, end_date=datetime.now(UTC).date())
    response = await client.post(world.url("/enroll"), headers=world.headers["outsider"])
    assert response.status_code == 201


async def test_a_full_course_refuses_and_a_drop_frees_the_seat(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    await _set(database, world.course.id, max_students=1)  # the world's student holds it
    outsider = world.headers["outsider"]
    full = await client.post(world.url("/enroll"), headers=outsider)
    assert (full.status_code, full.json()["error"]) == (409, "COURSE_FULL")
    assert await enrollment_row(database, world.course.id, world.outsider.id) is None

    assert (await client.delete(world.url("/enroll"), headers=world.headers["student"])).is_success
    assert (await client.post(world.url("/enroll"), headers=outsider)).status_code == 201
    # The dropped student finds the seat taken when coming back.
    back = await client.post(world.url("/enroll"), headers=world.headers["student"])
    assert (back.status_code, back.json()["error"]) == (409, "COURSE_FULL")
    assert await seat_count(database, world.course.id) == 1
    assert await active_students(database, world.course.id) == 1
