"""A small world for course tests: a teacher's published course with a TA and a student."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from studyhub.core.db import Database
from studyhub.courses.models import Course, Lecture, Week
from studyhub.enrollments.models import CourseRole
from studyhub.users.models import User, UserRole
from tests.factories import enroll, make_course, make_lecture, make_user, make_week
from tests.helpers import auth_headers


@dataclass
class World:
    admin: User
    teacher: User
    ta: User
    student: User
    outsider: User
    course: Course
    week: Week
    draft_week: Week
    lecture: Lecture
    draft_lecture: Lecture
    headers: dict[str, dict[str, str]]

    def url(self, path: str = "") -> str:
        return f"/api/v1/courses/{self.course.id}{path}"


@pytest.fixture
async def world(client: httpx.AsyncClient, database: Database) -> World:
    admin = await make_user(database, role=UserRole.ADMIN)
    teacher = await make_user(database, role=UserRole.TEACHER)
    ta = await make_user(database, role=UserRole.TA)
    student = await make_user(database, role=UserRole.STUDENT)
    outsider = await make_user(database, role=UserRole.STUDENT)
    course = await make_course(database, teacher)
    await enroll(database, course, ta, CourseRole.TA)
    await enroll(database, course, student)
    week = await make_week(database, course, number=1)
    draft_week = await make_week(database, course, number=2, published=False)
    lecture = await make_lecture(database, week, number=1)
    draft_lecture = await make_lecture(database, week, number=2, published=False)
    headers = {
        name: await auth_headers(client, user.username)
        for name, user in {
            "admin": admin,
            "teacher": teacher,
            "ta": ta,
            "student": student,
            "outsider": outsider,
        }.items()
    }
    headers["anonymous"] = {}
    return World(
        admin,
        teacher,
        ta,
        student,
        outsider,
        course,
        week,
        draft_week,
        lecture,
        draft_lecture,
        headers,
    )
