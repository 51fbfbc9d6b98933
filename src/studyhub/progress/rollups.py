"""Maintained per-student rollups (`ProgressRollup`): the staff views read them instead of
aggregating every progress row of a course per request.

A rollup row is the aggregate of one student's item statuses in one course, counting only the
published items (`items.item_catalog`). It changes when the student's statuses change (progress
events, a first submission: `refresh_students`) or when the catalog changes for everyone (an
item or week published, unpublished, deleted or moved: `refresh_course`). Both recompute from the
source rows in the writer's transaction, so a rollup is never ahead of or behind what committed.
"""

from __future__ import annotations

from collections.abc import Collection
from functools import cache
from typing import Any

from sqlalchemy import Select, Table, and_, case, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from studyhub.progress.items import item_catalog, item_status
from studyhub.progress.models import ProgressRollup
from studyhub.progress.statements import upsert_insert

ROLLUPS: Table = ProgressRollup.__table__  # type: ignore[assignment]
COLUMNS = ("course_id", "user_id", "completed_items", "last_activity_at", "active_seconds")


@cache
def rollup_select(*, by_user: bool) -> Select[Any]:
    """Rows for `progress_rollups`: one per student with any activity in the courses bound to
    `course_ids` (and of the students bound to `user_ids` if `by_user`)."""
    items, status = item_catalog(), item_status(by_user=by_user)
    counted = and_(status.c.completed_at.is_not(None), items.c.item_id.is_not(None))
    return (
        select(
            status.c.course_id,
            status.c.user_id,
            func.count(case((counted, 1))),
            func.max(status.c.last_activity_at),
            func.coalesce(func.sum(status.c.active_seconds), 0),
        )
        .select_from(status)
        .outerjoin(
            items,
            and_(items.c.item_type == status.c.item_type, items.c.item_id == status.c.item_id),
        )
        .group_by(status.c.course_id, status.c.user_id)
    )


@cache
def _upsert_students(dialect: str) -> Any:
    stmt = upsert_insert(dialect, ROLLUPS).from_select(COLUMNS, rollup_select(by_user=True))
    return stmt.on_conflict_do_update(
        index_elements=["course_id", "user_id"],
        set_={name: stmt.excluded[name] for name in COLUMNS[2:]},
    )


class RollupRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def refresh_students(self, course_id: int, user_ids: Collection[int]) -> None:
        """After a student's statuses changed: statuses only grow here (events, submissions),
        so an upsert of their aggregate is enough."""
        if not user_ids:
            return
        dialect = self.session.get_bind().dialect.name
        await self.session.execute(
            _upsert_students(dialect), {"course_ids": [course_id], "user_ids": list(user_ids)}
        )

    async def refresh_course(self, course_id: int) -> None:
        """After the item catalog changed: every student's row, recomputed in two statements
        (one aggregate over the course's statuses; a staff write, not a hot path)."""
        await self.session.execute(delete(ROLLUPS).where(ROLLUPS.c.course_id == course_id))
        await self.session.execute(
            ROLLUPS.insert().from_select(COLUMNS, rollup_select(by_user=False)),
            {"course_ids": [course_id]},
        )
