"""A small world for indexing and search tests: two published courses with their people."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
from sqlalchemy import select

from studyhub.core.db import Database
from studyhub.courses.models import Course, Lecture, Week
from studyhub.enrollments.models import CourseRole
from studyhub.outbox.models import OutboxEvent
from studyhub.users.models import User, UserRole
from tests.factories import enroll, make_course, make_lecture, make_user, make_week
from tests.helpers import auth_headers


@dataclass
class IndexWorld:
    admin: User
    teacher: User
    ta: User
    student: User
    outsider: User
    course: Course
    other_course: Course
    week: Week
    lecture: Lecture
    other_week: Week
    other_lecture: Lecture
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    def lecture_url(self, lecture: Lecture | None = None, suffix: str = "") -> str:
        lecture = lecture or self.lecture
        return f"/api/v1/courses/{lecture.course_id}/lectures/{lecture.id}{suffix}"


async def index_world(database: Database, client: httpx.AsyncClient) -> IndexWorld:
    admin = await make_user(database, role=UserRole.ADMIN)
    teacher = await make_user(database, role=UserRole.TEACHER)
    ta = await make_user(database, role=UserRole.TA)
    student = await make_user(database)
    outsider = await make_user(database)
    course = await make_course(database, teacher)
    await enroll(database, course, ta, CourseRole.TA)
    await enroll(database, course, student)
    other_teacher = await make_user(database, role=UserRole.TEACHER)
    other_course = await make_course(database, other_teacher)
    await enroll(database, other_course, outsider)
    week = await make_week(database, course)
    lecture = await make_lecture(database, week)
    other_week = await make_week(database, other_course)
    other_lecture = await make_lecture(database, other_week)
    world = IndexWorld(
        admin,
        teacher,
        ta,
        student,
        outsider,
        course,
        other_course,
        week,
        lecture,
        other_week,
        other_lecture,
    )
    for name in ("admin", "teacher", "ta", "student", "outsider"):
        world.headers[name] = await auth_headers(client, getattr(world, name).username)
    world.headers["other_teacher"] = await auth_headers(client, other_teacher.username)
    return world


async def upload(
    client: httpx.AsyncClient,
    world: IndexWorld,
    content: bytes,
    *,
    lecture: Lecture | None = None,
    name: str = "notes.txt",
    caller: str = "teacher",
) -> httpx.Response:
    lecture = lecture or world.lecture
    if caller == "teacher" and lecture.course_id == world.other_course.id:
        caller = "other_teacher"
    return await client.put(
        world.lecture_url(lecture, "/file"),
        files={"file": (name, content, "text/plain")},
        headers=world.headers[caller],
    )


async def outbox_rows(database: Database) -> list[OutboxEvent]:
    async with database.session(write=False) as session:
        return list(await session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)))


async def lecture_row(database: Database, lecture_id: int) -> Lecture | None:
    async with database.session(write=False) as session:
        return await session.get(Lecture, lecture_id)
