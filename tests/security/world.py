"""Two courses side by side, and the OpenAPI view of the app, for the security suite.

Course A and course B each have a teacher, a TA, two students, a published week with a lecture
(with a file), a question, an assignment with one submission by the first student. Nobody is in
both courses, so any object of B reached through A's path (or the other way round) is an IDOR.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI

from studyhub.core.config import Settings
from studyhub.core.db import Database
from studyhub.courses.models import Course, Lecture, Week
from studyhub.enrollments.models import CourseRole
from studyhub.users.models import User, UserRole
from tests.factories import (
    attach_text_file,
    enroll,
    make_assignment,
    make_course,
    make_lecture,
    make_question,
    make_user,
    make_week,
)
from tests.helpers import auth_headers

API = "/api/v1"


@dataclass
class Side:
    name: str
    course: Course
    week: Week
    lecture: Lecture
    question_id: int
    assignment_id: int
    users: dict[str, User]
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def ids(self) -> dict[str, int]:
        """Path parameter name -> this side's object id (user_id: a student of this side only)."""
        return {
            "course_id": self.course.id,
            "week_id": self.week.id,
            "lecture_id": self.lecture.id,
            "qid": self.question_id,
            "aid": self.assignment_id,
            "user_id": self.users["student"].id,
        }


async def build_side(
    database: Database, settings: Settings, client: httpx.AsyncClient, name: str
) -> Side:
    users = {
        "teacher": await make_user(database, role=UserRole.TEACHER, username=f"{name}_teacher"),
        "ta": await make_user(database, role=UserRole.TA, username=f"{name}_ta"),
        "student": await make_user(database, username=f"{name}_student"),
        "student2": await make_user(database, username=f"{name}_student2"),
    }
    course = await make_course(database, users["teacher"], code=f"SEC-{name.upper()}")
    await enroll(database, course, users["ta"], CourseRole.TA)
    await enroll(database, course, users["student"])
    await enroll(database, course, users["student2"])
    week = await make_week(database, course)
    lecture = await make_lecture(database, week)
    await attach_text_file(database, lecture, settings.upload_dir / "files")
    question = await make_question(database, course)
    assignment = await make_assignment(database, week, [question])
    side = Side(name, course, week, lecture, question.id, assignment.id, users)
    for role, user in users.items():
        side.headers[role] = await auth_headers(client, user.username)
    submitted = await client.post(
        f"{API}/courses/{course.id}/assignments/{assignment.id}/submissions",
        json={"answers": {str(question.id): 1}},
        headers=side.headers["student"],
    )
    assert submitted.status_code == 201, submitted.text
    return side


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str
    path_params: tuple[str, ...]
    json_schema: dict[str, Any] | None  # the JSON request body's schema, dereferenced once
    media_types: tuple[str, ...]


def operations(app: FastAPI) -> Iterator[Operation]:
    """Every documented operation, as clients see it (the OpenAPI document is the flat view)."""
    document = app.openapi()
    components = document["components"]["schemas"]
    for path, item in document["paths"].items():
        for method, op in item.items():
            params = tuple(p["name"] for p in op.get("parameters", []) if p["in"] == "path")
            content = op.get("requestBody", {}).get("content", {})
            schema = None
            if "application/json" in content:
                schema = resolve(components, content["application/json"]["schema"])
            yield Operation(op["operationId"], method.upper(), path, params, schema, tuple(content))


def resolve(components: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """A `$ref` (or an optional `anyOf: [$ref, null]` body) followed to its component."""
    if "anyOf" in schema:
        refs = [s for s in schema["anyOf"] if "$ref" in s]
        if len(refs) == 1:
            schema = refs[0]
    if "$ref" in schema:
        resolved: dict[str, Any] = components[schema["$ref"].rsplit("/", 1)[-1]]
        return resolved
    return schema


def fill(path: str, ids: dict[str, int]) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: str(ids[m.group(1)]), path)
