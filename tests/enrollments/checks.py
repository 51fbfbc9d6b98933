"""Database checks for enrollment tests: the seat counter against the rows themselves, and
the statements a request runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import event, select

from studyhub.core.db import Database
from studyhub.courses.models import Course
from studyhub.enrollments.models import Enrollment


async def seat_count(database: Database, course_id: int) -> int:
    async with database.session(write=False) as session:
        count = await session.scalar(select(Course.enrollment_count).where(Course.id == course_id))
    return int(count or 0)


async def active_students(database: Database, course_id: int) -> int:
    """What `enrollment_count` must equal: counted from the rows themselves."""
    async with database.session(write=False) as session:
        rows = await session.execute(
            select(Enrollment.id).where(
                Enrollment.course_id == course_id,
                Enrollment.role == "student",
                Enrollment.status == "active",
            )
        )
        return len(rows.all())


async def enrollment_row(database: Database, course_id: int, user_id: int) -> Enrollment | None:
    async with database.session(write=False) as session:
        return (
            await session.execute(
                select(Enrollment).where(
                    Enrollment.course_id == course_id, Enrollment.user_id == user_id
                )
            )
        ).scalar_one_or_none()


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
