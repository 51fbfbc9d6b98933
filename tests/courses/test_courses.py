"""API.md §3 courses: catalog, create, detail, update, archive, with the access rules."""

from __future__ import annotations

import httpx
import pytest

from studyhub.core.db import Database
from studyhub.courses.models import CourseStatus
from studyhub.users.models import UserRole
from tests.courses.conftest import World
from tests.factories import make_course, make_user
from tests.helpers import auth_headers

COURSES = "/api/v1/courses"


async def test_create_course_makes_the_creator_its_teacher(
    client: httpx.AsyncClient, world: World
) -> None:
    body = {
        "code": "cs-101",
        "name": "Intro",
        "description": "<b>Hi</b><script>x()</script>",
        "start_date": "2026-01-10",
        "end_date": "2026-05-01",
        "max_students": 30,
    }
    response = await client.post(COURSES, json=body, headers=world.headers["teacher"])
    assert response.status_code == 201, response.text
    course = response.json()
    assert response.headers["location"] == f"{COURSES}/{course['id']}"
    assert course["code"] == "CS-101"
    assert course["status"] == "draft"
    assert course["my_role"] == "teacher"
    assert course["instructor"]["id"] == world.teacher.id
    assert course["description"] == "<b>Hi</b>"
    assert course["enrollment_count"] == 0
    assert course["weeks"] == []

    again = await client.post(COURSES, json=body, headers=world.headers["admin"])
    assert (again.status_code, again.json()["error"]) == (409, "COURSE_CODE_TAKEN")


@pytest.mark.parametrize(
    "body",
    [
        {"code": "x", "name": "n"},
        {"code": "BAD CODE", "name": "n"},
        {"code": "A" * 21, "name": "n"},
        {"code": "OK1", "name": ""},
        {"code": "OK1", "name": "n", "start_date": "2026-05-01", "end_date": "2026-01-01"},
        {"code": "OK1", "name": "n", "max_students": 0},
        {"code": "OK1", "name": "n", "status": "deleted"},
        {"code": "OK1", "name": "n", "instructor_id": 1},
        {"code": "OK1", "name": "n", "enrollment_count": 5},
    ],
)
async def test_create_course_validation(
    client: httpx.AsyncClient, world: World, body: dict[str, object]
) -> None:
    response = await client.post(COURSES, json=body, headers=world.headers["teacher"])
    assert response.status_code == 400
    assert response.json()["error"] == "VALIDATION_ERROR"


@pytest.mark.parametrize("caller", ["student", "ta", "anonymous"])
async def test_only_teachers_and_admins_create(
    client: httpx.AsyncClient, world: World, caller: str
) -> None:
    response = await client.post(
        COURSES, json={"code": "NEW1", "name": "n"}, headers=world.headers[caller]
    )
    assert response.status_code == (401 if caller == "anonymous" else 403)


async def test_catalog_visibility_by_role(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    other_teacher = await make_user(database, role=UserRole.TEACHER)
    await make_course(database, other_teacher, code="DRAFT1", status=CourseStatus.DRAFT)
    await make_course(database, world.teacher, code="MYDRAFT", status=CourseStatus.DRAFT)
    await make_course(database, world.teacher, code="OLD1", status=CourseStatus.ARCHIVED)

    async def codes(caller: str, query: str = "") -> list[str]:
        response = await client.get(f"{COURSES}{query}", headers=world.headers[caller])
        assert response.status_code == 200, response.text
        return [c["code"] for c in response.json()["courses"]]

    published = world.course.code
    assert await codes("student") == [published]
    assert await codes("outsider") == [published]
    assert sorted(await codes("teacher")) == sorted([published, "MYDRAFT"])
    assert sorted(await codes("admin")) == sorted([published, "DRAFT1", "MYDRAFT"])
    assert await codes("admin", "?status=archived") == ["OLD1"]
    assert await codes("student", "?status=archived") == []
    assert await codes("outsider", "?mine=true") == []
    assert await codes("student", "?mine=true") == [published]
    assert sorted(await codes("teacher", "?mine=true")) == sorted([published, "MYDRAFT", "OLD1"])


async def test_catalog_search_sort_and_pagination(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    for code in ("ALPHA", "BETA", "GAMMA_1"):
        await make_course(database, world.teacher, code=code)
    headers = world.headers["student"]
    found = await client.get(f"{COURSES}?search=gamma_", headers=headers)
    assert [c["code"] for c in found.json()["courses"]] == ["GAMMA_1"]
    wildcard = await client.get(f"{COURSES}?search=%25", headers=headers)
    assert wildcard.json()["courses"] == []
    page = await client.get(f"{COURSES}?sort=-code&per_page=2&page=1", headers=headers)
    body = page.json()
    assert [c["code"] for c in body["courses"]] == sorted(
        ["ALPHA", "BETA", "GAMMA_1", world.course.code], reverse=True
    )[:2]
    assert body["pagination"] == {"page": 1, "per_page": 2, "total": 4, "pages": 2}
    assert 'rel="next"' in page.headers["link"]
    for bad in ("?sort=password", "?per_page=101", "?status=gone", "?page=0"):
        response = await client.get(f"{COURSES}{bad}", headers=headers)
        assert response.status_code == 400, bad


async def test_detail_hides_drafts_from_students(client: httpx.AsyncClient, world: World) -> None:
    student = (await client.get(world.url(), headers=world.headers["student"])).json()
    assert [w["id"] for w in student["weeks"]] == [world.week.id]
    assert [lec["id"] for lec in student["weeks"][0]["lectures"]] == [world.lecture.id]
    outsider = (await client.get(world.url(), headers=world.headers["outsider"])).json()
    assert outsider["my_role"] is None
    assert [w["id"] for w in outsider["weeks"]] == [world.week.id]
    ta = (await client.get(world.url(), headers=world.headers["ta"])).json()
    assert ta["my_role"] == "ta"
    assert len(ta["weeks"]) == 2
    for text in (str(student), str(outsider)):
        assert "body" not in text and "transcript" not in text


async def test_drafts_and_unknown_courses_are_404(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    draft = await make_course(database, world.teacher, status=CourseStatus.DRAFT)
    for caller in ("student", "outsider", "ta"):
        response = await client.get(f"{COURSES}/{draft.id}", headers=world.headers[caller])
        assert response.status_code == 404
    assert (await client.get(f"{COURSES}/{draft.id}", headers=world.headers["teacher"])).is_success
    assert (await client.get(f"{COURSES}/{draft.id}", headers=world.headers["admin"])).is_success
    assert (
        await client.get(f"{COURSES}/999999", headers=world.headers["admin"])
    ).status_code == 404
    assert (await client.get(f"{COURSES}/0", headers=world.headers["admin"])).status_code == 400


async def test_update_course(client: httpx.AsyncClient, world: World) -> None:
    response = await client.patch(
        world.url(), json={"name": "Renamed", "max_students": 50}, headers=world.headers["teacher"]
    )
    assert response.status_code == 200, response.text
    assert (response.json()["name"], response.json()["max_students"]) == ("Renamed", 50)
    again = await client.get(world.url(), headers=world.headers["student"])
    assert again.json()["name"] == "Renamed"

    for caller, expected in (("ta", 403), ("student", 403), ("outsider", 403), ("anonymous", 401)):
        response = await client.patch(
            world.url(), json={"name": "x"}, headers=world.headers[caller]
        )
        assert response.status_code == expected, caller
    too_small = await client.patch(
        world.url(), json={"max_students": 0}, headers=world.headers["teacher"]
    )
    assert too_small.status_code == 400
    nulls = await client.patch(world.url(), json={"name": None}, headers=world.headers["teacher"])
    assert nulls.status_code == 400
    dates = await client.patch(
        world.url(),
        json={"start_date": "2026-05-01", "end_date": "2026-01-01"},
        headers=world.headers["teacher"],
    )
    assert dates.status_code == 400


async def test_capacity_cannot_drop_below_enrollment(
    client: httpx.AsyncClient, world: World
) -> None:
    response = await client.patch(
        world.url(), json={"max_students": 1}, headers=world.headers["teacher"]
    )
    assert response.status_code == 200  # exactly the one enrolled student
    # Two students would not fit into a limit of one; the check is against the live count.
    assert response.json()["enrollment_count"] == 1


async def test_code_change_conflict(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    await make_course(database, world.teacher, code="TAKEN")
    response = await client.patch(
        world.url(), json={"code": "taken"}, headers=world.headers["teacher"]
    )
    assert (response.status_code, response.json()["error"]) == (409, "COURSE_CODE_TAKEN")


async def test_archive_hides_from_catalog_but_keeps_data(
    client: httpx.AsyncClient, world: World
) -> None:
    assert (await client.delete(world.url(), headers=world.headers["ta"])).status_code == 403
    response = await client.delete(world.url(), headers=world.headers["teacher"])
    assert response.status_code == 204
    catalog = await client.get(COURSES, headers=world.headers["outsider"])
    assert catalog.json()["courses"] == []
    # Enrolled students keep read access to what they took; outsiders lose the page.
    assert (await client.get(world.url(), headers=world.headers["student"])).status_code == 200
    assert (await client.get(world.url(), headers=world.headers["outsider"])).status_code == 404
    detail = await client.get(world.url(), headers=world.headers["teacher"])
    assert detail.json()["status"] == "archived"


async def test_teacher_of_another_course_cannot_manage_this_one(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    other = await make_user(database, role=UserRole.TEACHER)
    headers = await auth_headers(client, other.username)
    assert (await client.patch(world.url(), json={"name": "x"}, headers=headers)).status_code == 403
    assert (await client.delete(world.url(), headers=headers)).status_code == 403
