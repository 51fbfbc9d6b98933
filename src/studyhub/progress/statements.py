"""The progress statements that are built once per process (`functools.cache`): building the
merge upsert's CASE expressions or the item UNION (and their cache keys) cost more Python time per
request than running them. Ids are bound at execution (expanding parameters, `items.py`)."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, and_, case, or_, select
from sqlalchemy.dialects import sqlite

from studyhub.progress.items import item_catalog, item_status
from studyhub.progress.models import ActivityDay, CourseCompletion, LectureProgress, ProgressEvent

LECTURES: Table = LectureProgress.__table__  # type: ignore[assignment]
EVENTS: Table = ProgressEvent.__table__  # type: ignore[assignment]
DAYS: Table = ActivityDay.__table__  # type: ignore[assignment]
COMPLETIONS: Table = CourseCompletion.__table__  # type: ignore[assignment]


def upsert_insert(dialect: str, table: Table) -> Any:
    """The dialect's INSERT, which has ON CONFLICT (both backends spell it the same way)."""
    if dialect == "postgresql":
        # Imported on first use: on SQLite the PostgreSQL dialect is never needed, and importing
        # it costs ~25 ms of every process's startup. (A no-op lookup once imported.)
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    return sqlite.insert(table)


FOLD_COLUMNS = (
    "first_viewed_at",
    "last_viewed_at",
    "position_seconds",
    "position_at",
    "position_event_id",
    "furthest_position_seconds",
    "active_seconds_raw",
    "watched_at",
)


@cache
def items_statement() -> Select[Any]:
    items = item_catalog()
    return select(
        items.c.course_id,
        items.c.week_id,
        items.c.week_number,
        items.c.week_title,
        items.c.item_type,
        items.c.item_id,
        items.c.title,
    ).order_by(
        items.c.course_id, items.c.week_number, items.c.type_rank, items.c.number, items.c.item_id
    )


@cache
def statuses_statement() -> Select[Any]:
    status = item_status(by_user=True)
    return select(
        status.c.course_id,
        status.c.item_type,
        status.c.item_id,
        status.c.completed_at,
        status.c.last_activity_at,
        status.c.active_seconds,
    )


def least(a: Any, b: Any) -> ColumnElement[Any]:
    return case((a.is_(None), b), (b.is_(None), a), (b < a, b), else_=a)


def greatest(a: Any, b: Any) -> ColumnElement[Any]:
    return case((a.is_(None), b), (b.is_(None), a), (b > a, b), else_=a)


@cache
def event_insert(dialect: str) -> Any:
    return (
        upsert_insert(dialect, EVENTS)
        .on_conflict_do_nothing(index_elements=["user_id", "event_id"])
        .returning(EVENTS.c.event_id)
    )


@cache
def merge_upsert(dialect: str) -> Any:
    """The SQL mirror of `merge.combine`: built once per dialect (a large CASE expression)."""
    postgres = dialect == "postgresql"
    stmt = upsert_insert(dialect, LECTURES)
    old, new = LECTURES.c, stmt.excluded

    def event_id(column: Any) -> Any:
        # Compare ids by code point on every backend, as Python does.
        return column.collate("C") if postgres else column

    newer = or_(
        old.position_at.is_(None),
        and_(
            new.position_at.is_not(None),
            or_(
                new.position_at > old.position_at,
                and_(
                    new.position_at == old.position_at,
                    event_id(new.position_event_id) > event_id(old.position_event_id),
                ),
            ),
        ),
    )
    return stmt.on_conflict_do_update(
        index_elements=["user_id", "lecture_id"],
        set_={
            "first_viewed_at": least(old.first_viewed_at, new.first_viewed_at),
            "last_viewed_at": greatest(old.last_viewed_at, new.last_viewed_at),
            "position_seconds": case((newer, new.position_seconds), else_=old.position_seconds),
            "position_at": case((newer, new.position_at), else_=old.position_at),
            "position_event_id": case((newer, new.position_event_id), else_=old.position_event_id),
            "furthest_position_seconds": case(
                (
                    new.furthest_position_seconds > old.furthest_position_seconds,
                    new.furthest_position_seconds,
                ),
                else_=old.furthest_position_seconds,
            ),
            "active_seconds_raw": old.active_seconds_raw + new.active_seconds_raw,
            "watched_at": least(old.watched_at, new.watched_at),
            "updated_at": new.updated_at,
        },
    ).returning(old.id, old.lecture_id, old.manual_completed_at, *(old[n] for n in FOLD_COLUMNS))
