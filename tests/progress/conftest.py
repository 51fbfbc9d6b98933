"""A course for progress tests: a published week with a video, a text lecture and an
unpublished lecture, and an unpublished week whose published lecture must not count either."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from studyhub.core.db import Database
from studyhub.courses.models import ContentType, Course, Lecture
from studyhub.enrollments.models import CourseRole
from studyhub.users.models import User, UserRole
from tests.factories import enroll, make_course, make_lecture, make_user, make_week
from tests.helpers import auth_headers


@dataclass
class ProgressWorld:
    client: httpx.AsyncClient
    teacher: User
    ta: User
    student: User
    other: User
    outsider: User
    course: Course
    video: Lecture
    text: Lecture
    hidden: Lecture
    in_draft_week: Lecture
    foreign: Lecture  # a published lecture of another course
    headers: dict[str, dict[str, str]]

    def url(self, path: str = "") -> str:
        return f"/api/v1/courses/{self.course.id}{path}"

    async def batch(self, events: list[Any], who: str = "student") -> dict[str, Any]:
        response = await self.client.post(
            "/api/v1/progress/batch", json={"events": events}, headers=self.headers[who]
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def progress(self, who: str = "student") -> dict[str, Any]:
        response = await self.client.get(self.url("/progress"), headers=self.headers[who])
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def event(self, event_id: str, kind: str, at: datetime, **extra: Any) -> dict[str, Any]:
        return {
            "event_id": event_id,
            "course_id": self.course.id,
            "lecture_id": extra.pop("lecture_id", self.video.id),
            "type": kind,
            "occurred_at": at.isoformat(),
            **extra,
        }


def ago(**delta: float) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - timedelta(**delta)


@pytest.fixture
async def pw(client: httpx.AsyncClient, database: Database) -> ProgressWorld:
    teacher = await make_user(database, role=UserRole.TEACHER)
    ta = await make_user(database, role=UserRole.TA)
    student = await make_user(database)
    other = await make_user(database)
    outsider = await make_user(database)
    course = await make_course(database, teacher)
    await enroll(database, course, ta, CourseRole.TA)
    await enroll(database, course, student)
    await enroll(database, course, other)
    week = await make_week(database, course, number=1)
    draft_week = await make_week(database, course, number=2, published=False)
    video = await make_lecture(
        database, week, number=1, content_type=ContentType.YOUTUBE, duration_seconds=600
    )
    text = await make_lecture(database, week, number=2)
    hidden = await make_lecture(database, week, number=3, published=False)
    in_draft_week = await make_lecture(database, draft_week, number=1)
    elsewhere = await make_course(database, teacher)
    foreign = await make_lecture(database, await make_week(database, elsewhere), number=1)
    headers = {
        name: await auth_headers(client, user.username)
        for name, user in {
            "teacher": teacher,
            "ta": ta,
            "student": student,
            "other": other,
            "outsider": outsider,
        }.items()
    }
    return ProgressWorld(
        client,
        teacher,
        ta,
        student,
        other,
        outsider,
        course,
        video,
        text,
        hidden,
        in_draft_week,
        foreign,
        headers,
    )
