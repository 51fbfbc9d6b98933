"""SQL for the staff views: the course's students joined to their maintained rollups
(`rollups.py`), so a page costs the same whatever the number of progress rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Select, Subquery, and_, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from studyhub.assignments.models import Assignment, Submission
from studyhub.core.pagination import PageParams
from studyhub.enrollments.models import CourseRole, Enrollment, EnrollmentStatus
from studyhub.progress.items import completion_counts, item_catalog
from studyhub.progress.merge import ItemState
from studyhub.progress.models import ProgressRollup
from studyhub.users.models import User


@dataclass(frozen=True, slots=True)
class StudentFigures:
    user: User | None
    user_id: int
    completed: int
    last_activity_at: datetime | None
    active_seconds: int
    active: bool


@dataclass(frozen=True, slots=True)
class StudentQuery:
    sort: str
    state: ItemState | None
    search: str | None


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _rollup(course_id: int) -> Subquery:
    """The course's maintained rollups (`rollups.py`): a row per student with any activity."""
    return (
        select(
            ProgressRollup.user_id.label("user_id"),
            ProgressRollup.completed_items.label("completed"),
            ProgressRollup.last_activity_at.label("last_activity_at"),
            ProgressRollup.active_seconds.label("active_seconds"),
        )
        .where(ProgressRollup.course_id == course_id)
        .subquery("rollup")
    )


@cache
def _item_count() -> Select[Any]:
    return select(func.count()).select_from(item_catalog())


def _active_students(course_id: int) -> ColumnElement[bool]:
    return and_(
        Enrollment.course_id == course_id,
        Enrollment.role == CourseRole.STUDENT,
        Enrollment.status == EnrollmentStatus.ACTIVE,
    )


class StaffProgressRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def total_items(self, course_id: int) -> int:
        return int(await self.session.scalar(_item_count(), {"course_ids": [course_id]}) or 0)

    async def is_student(self, course_id: int, user_id: int) -> bool:
        found = await self.session.scalar(
            select(Enrollment.id).where(
                Enrollment.course_id == course_id,
                Enrollment.user_id == user_id,
                Enrollment.role == CourseRole.STUDENT,
            )
        )
        return found is not None

    def _filters(
        self, course_id: int, rollup: Subquery, query: StudentQuery, total: int
    ) -> list[ColumnElement[bool]]:
        completed = func.coalesce(rollup.c.completed, 0)
        conditions = [_active_students(course_id)]
        is_complete = completed >= total if total else false()
        if query.state is ItemState.COMPLETED:
            conditions.append(is_complete)
        elif query.state is ItemState.NOT_STARTED:
            conditions.append(rollup.c.user_id.is_(None))
        elif query.state is ItemState.IN_PROGRESS:
            conditions.extend([rollup.c.user_id.is_not(None), ~is_complete])
        if query.search:
            pattern = f"%{_escape_like(query.search.lower())}%"
            conditions.append(
                or_(
                    *(
                        func.lower(column).like(pattern, escape="\\")
                        for column in (User.username, User.email, User.first_name, User.last_name)
                    )
                )
            )
        return conditions

    async def students(
        self, course_id: int, query: StudentQuery, total: int, page: PageParams
    ) -> tuple[list[StudentFigures], int]:
        rollup = _rollup(course_id)
        conditions = self._filters(course_id, rollup, query, total)
        base = (
            select(Enrollment.user_id)
            .join(User, User.id == Enrollment.user_id)
            .outerjoin(rollup, rollup.c.user_id == Enrollment.user_id)
            .where(*conditions)
        )
        count = int(
            await self.session.scalar(select(func.count()).select_from(base.subquery())) or 0
        )
        descending = query.sort.startswith("-")
        field = query.sort.lstrip("-")
        order: list[Any]
        if field == "percentage":
            column: Any = func.coalesce(rollup.c.completed, 0)
            order = [column.desc() if descending else column.asc()]
        elif field == "last_activity_at":
            column = rollup.c.last_activity_at
            order = [column.is_(None), column.desc() if descending else column.asc()]
        else:
            names = [func.lower(User.last_name), func.lower(User.first_name), User.username]
            order = [n.desc() if descending else n.asc() for n in names]
        stmt = (
            select(
                User,
                func.coalesce(rollup.c.completed, 0),
                rollup.c.last_activity_at,
                func.coalesce(rollup.c.active_seconds, 0),
                rollup.c.user_id.is_not(None),
            )
            .select_from(Enrollment)
            .join(User, User.id == Enrollment.user_id)
            .outerjoin(rollup, rollup.c.user_id == Enrollment.user_id)
            .where(*conditions)
            .order_by(*order, User.id)
            .offset(page.offset)
            .limit(page.limit)
        )
        rows = await self.session.execute(stmt)
        return [
            StudentFigures(user, user.id, int(done), last, int(active), bool(seen))
            for user, done, last, active, seen in rows
        ], count

    async def average_scores(self, course_id: int, user_ids: Sequence[int]) -> dict[int, float]:
        """Per student: the mean, over the course's assignments they submitted, of their best
        submission's score as a percentage of its maximum. Students without one are absent."""
        if not user_ids:
            return {}
        best = (
            select(
                Submission.user_id.label("user_id"),
                func.max(Submission.score * 100.0 / Submission.max_score).label("best"),
            )
            .join(Assignment, Assignment.id == Submission.assignment_id)
            .where(
                Assignment.course_id == course_id,
                Submission.user_id.in_(user_ids),
                Submission.max_score > 0,
            )
            .group_by(Submission.user_id, Submission.assignment_id)
            .subquery()
        )
        rows = await self.session.execute(
            select(best.c.user_id, func.avg(best.c.best)).group_by(best.c.user_id)
        )
        return {user_id: round(float(mean), 2) for user_id, mean in rows}

    async def all_students(self, course_id: int) -> list[StudentFigures]:
        rollup = _rollup(course_id)
        rows = await self.session.execute(
            select(
                Enrollment.user_id,
                func.coalesce(rollup.c.completed, 0),
                rollup.c.last_activity_at,
                func.coalesce(rollup.c.active_seconds, 0),
                rollup.c.user_id.is_not(None),
            )
            .outerjoin(rollup, rollup.c.user_id == Enrollment.user_id)
            .where(_active_students(course_id))
        )
        return [
            StudentFigures(None, user_id, int(done), last, int(active), bool(seen))
            for user_id, done, last, active, seen in rows
        ]

    async def item_completions(self, course_id: int) -> dict[tuple[str, int], int]:
        """How many active students completed each item (published or not)."""
        students = select(Enrollment.user_id).where(_active_students(course_id))
        rows = await self.session.execute(completion_counts(course_id, students))
        return {(kind, item_id): int(n) for kind, item_id, n in rows}
