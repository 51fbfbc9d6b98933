"""Outlines load with a constant number of SQL statements, whatever the course's size."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event

from studyhub.core.db import Database
from studyhub.courses.models import Course
from studyhub.users.models import User, UserRole
from tests.factories import enroll, make_course, make_lecture, make_user, make_week
from tests.helpers import auth_headers


@contextmanager
def counting(app: FastAPI) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = app.state.database.engine.sync_engine

    def record(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def _course(database: Database, teacher: User, student: User, weeks: int) -> Course:
    course = await make_course(database, teacher)
    await enroll(database, course, student)
    for number in range(1, weeks + 1):
        week = await make_week(database, course, number=number)
        for lecture in range(1, 4):
            await make_lecture(database, week, number=lecture)
    return course


async def test_outline_statement_count_does_not_grow(
    app: FastAPI, client: httpx.AsyncClient, database: Database
) -> None:
    teacher = await make_user(database, role=UserRole.TEACHER)
    student = await make_user(database)
    small = await _course(database, teacher, student, weeks=2)
    large = await _course(database, teacher, student, weeks=20)
    headers = await auth_headers(client, student.username)
    await client.get("/api/v1/auth/me", headers=headers)  # warm the per-user auth state

    counts = {}
    for name, course in (("small", small), ("large", large)):
        with counting(app) as statements:
            response = await client.get(f"/api/v1/courses/{course.id}", headers=headers)
        assert response.status_code == 200
        counts[name] = len(statements)
    assert len(response.json()["weeks"]) == 20
    assert sum(len(w["lectures"]) for w in response.json()["weeks"]) == 60
    assert counts["small"] == counts["large"], counts
    assert counts["large"] <= 8, counts
