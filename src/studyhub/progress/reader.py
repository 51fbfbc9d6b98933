"""`ProgressReader`: what other domains (the course outline, `/me/courses`) read of progress.

One SQL statement per call, whatever the number of courses or items (no N+1)."""

from __future__ import annotations

from collections.abc import Collection
from functools import cache
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from studyhub.progress.items import item_catalog, item_status
from studyhub.progress.models import LectureProgress
from studyhub.progress.rollup import percentage

Summary = tuple[int, int, float]  # (completed_items, total_items, percentage)


@cache
def _completed_items() -> Select[Any]:
    status = item_status(by_user=True)
    return select(status.c.item_type, status.c.item_id).where(status.c.completed_at.is_not(None))


@cache
def _summaries() -> Select[Any]:
    items, status = item_catalog(), item_status(by_user=True)
    return (
        select(items.c.course_id, func.count(), func.count(status.c.completed_at))
        .select_from(items)
        .outerjoin(
            status,
            and_(status.c.item_type == items.c.item_type, status.c.item_id == items.c.item_id),
        )
        .group_by(items.c.course_id)
    )


class ProgressReader:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def completed_lecture_ids(self, user_id: int, course_id: int) -> set[int]:
        """Lectures of the course the user completed (for the outline's `completed` flags)."""
        rows = await self.session.scalars(
            select(LectureProgress.lecture_id).where(
                LectureProgress.user_id == user_id,
                LectureProgress.course_id == course_id,
                LectureProgress.completed_at.is_not(None),
            )
        )
        return set(rows)

    async def completed_item_ids(self, user_id: int, course_id: int) -> set[tuple[str, int]]:
        """(item_type, item_id) of every completed item: lectures and assignments."""
        rows = await self.session.execute(
            _completed_items(), {"course_ids": [course_id], "user_ids": [user_id]}
        )
        return {(kind, item_id) for kind, item_id in rows}

    async def course_summaries(
        self, user_id: int, course_ids: Collection[int]
    ) -> dict[int, Summary]:
        """`{course_id: (completed, total, percentage)}`; courses with no items get (0, 0, 0.0)."""
        found: dict[int, Summary] = dict.fromkeys(course_ids, (0, 0, 0.0))
        if not course_ids:
            return found
        rows = await self.session.execute(
            _summaries(), {"course_ids": list(course_ids), "user_ids": [user_id]}
        )
        for course_id, total, completed in rows:
            found[course_id] = (int(completed), int(total), percentage(int(completed), int(total)))
        return found
