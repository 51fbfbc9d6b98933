"""A small world for the fault tests: one published course with a teacher, an admin and a
student, seeded straight into the database before the server starts."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from studyhub.core.db import Database
from studyhub.courses.models import Course, Lecture
from studyhub.users.models import User, UserRole
from tests.factories import enroll, make_course, make_lecture, make_user, make_week
from tests.helpers import auth_headers
from tests.support.fake_indexer import API_KEY, FakeIndexer


@dataclass
class World:
    admin: User
    teacher: User
    student: User
    course: Course
    lectures: list[Lecture]

    @property
    def course_url(self) -> str:
        return f"/api/v1/courses/{self.course.id}"

    def lecture_url(self, index: int = 0, suffix: str = "") -> str:
        return f"{self.course_url}/lectures/{self.lectures[index].id}{suffix}"


async def seed_world(database: Database, *, lectures: int = 1) -> World:
    admin = await make_user(database, role=UserRole.ADMIN)
    teacher = await make_user(database, role=UserRole.TEACHER)
    student = await make_user(database)
    course = await make_course(database, teacher)
    week = await make_week(database, course)
    rows = [await make_lecture(database, week, number=n + 1) for n in range(lectures)]
    await enroll(database, course, student)
    return World(admin, teacher, student, course, rows)


async def headers_for(client: httpx.AsyncClient, *users: User) -> list[dict[str, str]]:
    return [await auth_headers(client, user.username) for user in users]


def indexer_env(fake: FakeIndexer, **extra: str) -> dict[str, str]:
    """The service wired to the fake StudyIndexer with short deadlines and a quick relay."""
    return {
        "INDEXER_URL": fake.url,
        "INDEXER_API_KEY": API_KEY,
        "INDEXER_TIMEOUT_SECONDS": "1",
        "INDEXER_READ_TIMEOUT_SECONDS": "0.5",
        "INDEXER_CONNECT_TIMEOUT_SECONDS": "0.5",
        "INDEXER_UPLOAD_TIMEOUT_SECONDS": "5",
        "INDEXER_BREAKER_COOLDOWN_SECONDS": "1",
        "OUTBOX_POLL_SECONDS": "0.2",
        **extra,
    }


async def upload_file(
    client: httpx.AsyncClient, world: World, headers: dict[str, str], content: bytes, index: int = 0
) -> httpx.Response:
    return await client.put(
        world.lecture_url(index, "/file"),
        files={"file": ("notes.txt", content, "text/plain")},
        headers=headers,
    )


async def index_status(
    client: httpx.AsyncClient, world: World, headers: dict[str, str], index: int = 0
) -> str:
    response = await client.get(world.lecture_url(index), headers=headers)
    assert response.status_code == 200, response.text
    return str(response.json()["index_status"])
