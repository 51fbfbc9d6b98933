"""The progress statements that are built once per process (`functools.cache`): building the
merge upsert's CASE expressions or the item UNION (and their cache keys) cost more Python time per
request than running them. Ids are bound at execution (expanding parameters, `items.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import (
    TIMESTAMP,
    Column,
    ColumnElement,
    Integer,
    Select,
    String,
    Table,
    and_,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    true,
    type_coerce,
    update,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.sql.expression import BindParameter

from studyhub.core.db import UTCDateTime
from studyhub.courses.models import Course, CourseStatus, Lecture, Week
from studyhub.enrollments.models import CourseRole, Enrollment, EnrollmentStatus
from studyhub.progress.items import COURSE_IDS, item_catalog, item_status
from studyhub.progress.merge import ItemState
from studyhub.progress.models import (
    MANUAL_EVENT,
    ActivityDay,
    CourseCompletion,
    LectureProgress,
    ProgressEvent,
)

LECTURES: Table = LectureProgress.__table__  # type: ignore[assignment]
EVENTS: Table = ProgressEvent.__table__  # type: ignore[assignment]
DAYS: Table = ActivityDay.__table__  # type: ignore[assignment]
COMPLETIONS: Table = CourseCompletion.__table__  # type: ignore[assignment]
# The statements below select plain columns, so they are written on the tables, as the others.
_COURSES: Table = Course.__table__  # type: ignore[assignment]
_WEEKS: Table = Week.__table__  # type: ignore[assignment]
_LECTURE_ITEMS: Table = Lecture.__table__  # type: ignore[assignment]
_ENROLLMENTS: Table = Enrollment.__table__  # type: ignore[assignment]
USER_ID: BindParameter[int] = bindparam("user_id")
LECTURE_IDS: BindParameter[list[int]] = bindparam("lecture_ids", expanding=True)


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
def catalog_statement() -> Select[Any]:
    """The published weeks of `course_ids`, each with its items in `items_statement`'s order (a
    week without items once, with NULL item columns): a student's course progress reads weeks
    and items in one statement. Week numbers are unique per course, so ordering by week number
    then id orders the items exactly as `items_statement` does."""
    items, weeks = item_catalog(), _WEEKS.c
    return (
        select(
            weeks.course_id,
            weeks.id,
            weeks.number,
            weeks.title,
            items.c.item_type,
            items.c.item_id,
            items.c.title,
        )
        .select_from(_WEEKS)
        .outerjoin(items, items.c.week_id == weeks.id)
        .where(weeks.course_id.in_(COURSE_IDS), weeks.is_published.is_(True))
        .order_by(
            weeks.course_id,
            weeks.number,
            weeks.id,
            items.c.type_rank,
            items.c.number,
            items.c.item_id,
        )
    )


@cache
def statuses_statement() -> Select[Any]:
    status = item_status(by_user=True, with_position=True)
    return select(
        status.c.course_id,
        status.c.item_type,
        status.c.item_id,
        status.c.completed_at,
        status.c.last_activity_at,
        status.c.active_seconds,
        status.c.position_seconds,
    )


@cache
def destinations_statement() -> Select[Any]:
    """Where a batch's events may go, in one read: each course named (`course_ids`), whether
    `user_id` studies it (an active student enrollment in a course that is not a draft), and
    the lectures named (`lecture_ids`) that belong to it: visible to students, duration. A
    course with none of them comes once, with NULL lecture columns."""
    courses, lectures, weeks, enrollments = _COURSES.c, _LECTURE_ITEMS.c, _WEEKS.c, _ENROLLMENTS.c
    studies = (
        exists()
        .where(
            enrollments.course_id == courses.id,
            enrollments.user_id == USER_ID,
            enrollments.role == CourseRole.STUDENT,
            enrollments.status == EnrollmentStatus.ACTIVE,
        )
        .correlate(_COURSES)
    )
    named = _LECTURE_ITEMS.join(_WEEKS, weeks.id == lectures.week_id)
    return (
        select(
            courses.id,
            and_(studies, courses.status != CourseStatus.DRAFT),
            lectures.id,
            and_(lectures.is_published, weeks.is_published),
            lectures.duration_seconds,
        )
        .select_from(
            _COURSES.outerjoin(
                named, and_(lectures.course_id == courses.id, lectures.id.in_(LECTURE_IDS))
            )
        )
        .where(courses.id.in_(COURSE_IDS))
    )


@cache
def manual_events_statement() -> Select[Any]:
    return select(
        EVENTS.c.lecture_id, EVENTS.c.event_id, EVENTS.c.type, EVENTS.c.occurred_at
    ).where(
        EVENTS.c.user_id == USER_ID,
        EVENTS.c.lecture_id.in_(LECTURE_IDS),
        MANUAL_EVENT,  # the partial index's own term, so that it is used
    )


@cache
def completions_statement() -> Select[Any]:
    return select(COMPLETIONS.c.course_id, COMPLETIONS.c.completed_at).where(
        COMPLETIONS.c.user_id == USER_ID, COMPLETIONS.c.course_id.in_(COURSE_IDS)
    )


def least(a: Any, b: Any) -> ColumnElement[Any]:
    return case((a.is_(None), b), (b.is_(None), a), (b < a, b), else_=a)


def greatest(a: Any, b: Any) -> ColumnElement[Any]:
    return case((a.is_(None), b), (b.is_(None), a), (b > a, b), else_=a)


def document_rows(
    dialect: str, name: str, table: Table, fields: Sequence[str]
) -> tuple[Any, list[ColumnElement[Any]]]:
    """Rows passed in ONE parameter, `name`: a JSON array of arrays, `fields` of `table` in
    order (timestamps as `core.db.utc_text`), unpacked by the database's JSON functions. Returns
    the FROM clause and one column per field, typed as `table`'s.

    For the batch's bulk writes: as an executemany, SQLAlchemy builds and type-processes a
    parameter dict per row (for 500 events, most of the Python time of their insert), and on
    PostgreSQL every row count is another statement to prepare; this text is always the same."""
    postgres = dialect == "postgresql"
    document = bindparam(name, type_=String)
    if postgres:
        from sqlalchemy.dialects.postgresql import JSONB  # see upsert_insert: startup time

        rows = func.jsonb_array_elements(cast(document, JSONB)).table_valued("value")
    else:
        rows = func.json_each(document).table_valued("value")
    rows = rows.alias(f"{name}_rows")

    def field(index: int, column: Column[Any]) -> ColumnElement[Any]:
        # `->>` extracts an array element as an SQL value on both backends: as text on
        # PostgreSQL (cast to the column's type), typed by the JSON on SQLite, where a CAST to
        # DATETIME would turn the timestamp text into a number.
        value: ColumnElement[Any] = rows.c.value.op("->>")(literal_column(str(index)))
        if not postgres:
            value = type_coerce(value, column.type)
        elif isinstance(column.type, UTCDateTime):  # naive UTC text
            value = func.timezone(literal_column("'UTC'"), cast(value, TIMESTAMP()))
            value = type_coerce(value, column.type)
        else:
            value = cast(value, column.type)
        return value.label(column.name)

    return rows, [field(index, table.c[field_name]) for index, field_name in enumerate(fields)]


def _from_document(dialect: str, source: Select[Any]) -> Select[Any]:
    # SQLite reads `ON CONFLICT` after `INSERT ... SELECT ... FROM f(...)` as a join constraint
    # unless the SELECT has a WHERE clause (its documented workaround).
    return source if dialect == "postgresql" else source.where(true())


# The fields of each row of `event_insert`'s `events` document, in order.
EVENT_FIELDS = (
    "event_id",
    "lecture_id",
    "course_id",
    "type",
    "occurred_at",
    "position_seconds",
    "active_seconds",
)


@cache
def event_insert(dialect: str) -> Any:
    """Record a batch's events (`events`: a `document_rows` of `EVENT_FIELDS`; `user_id`,
    `device_id` and `received_at` bound once), skipping those already recorded; RETURNING the
    ids inserted."""
    rows, fields = document_rows(dialect, "events", EVENTS, EVENT_FIELDS)
    source = select(
        bindparam("user_id", type_=EVENTS.c.user_id.type),
        *fields,
        bindparam("device_id", type_=EVENTS.c.device_id.type),
        bindparam("received_at", type_=EVENTS.c.received_at.type),
    ).select_from(rows)
    columns = ["user_id", *EVENT_FIELDS, "device_id", "received_at"]
    return (
        upsert_insert(dialect, EVENTS)
        .from_select(columns, _from_document(dialect, source))
        .on_conflict_do_nothing(index_elements=["user_id", "event_id"])
        .returning(EVENTS.c.event_id)
    )


# The fields of each row of `merge_upsert`'s `folds` document, in order.
MERGE_FIELDS = ("lecture_id", "course_id", *FOLD_COLUMNS)


@cache
def merge_upsert(dialect: str) -> Any:
    """The SQL mirror of `merge.combine`: built once per dialect (a large CASE expression).

    One row per lecture in `folds` (a `document_rows` of `MERGE_FIELDS`); `user_id` and
    `updated_at` bound once. A new row starts in progress with nothing settled yet."""
    postgres = dialect == "postgresql"
    rows, fields = document_rows(dialect, "folds", LECTURES, MERGE_FIELDS)
    source = select(
        bindparam("user_id", type_=LECTURES.c.user_id.type),
        *fields,
        literal(ItemState.IN_PROGRESS, LECTURES.c.state.type),
        null(),
        null(),
        literal(0, Integer),
        bindparam("updated_at", type_=LECTURES.c.updated_at.type),
    ).select_from(rows)
    columns = [
        "user_id",
        *MERGE_FIELDS,
        "state",
        "manual_completed_at",
        "completed_at",
        "active_seconds",
        "updated_at",
    ]
    stmt = upsert_insert(dialect, LECTURES).from_select(columns, _from_document(dialect, source))
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


# The fields of each row of `outcomes_update`'s `outcomes` document, in order.
OUTCOME_FIELDS = ("id", "manual_completed_at", "state", "completed_at", "active_seconds")


@cache
def outcomes_update(dialect: str) -> Any:
    """Store what each merged row shows (`merge.settle`), by row id: `outcomes` is a
    `document_rows` of `OUTCOME_FIELDS`."""
    _, fields = document_rows(dialect, "outcomes", LECTURES, OUTCOME_FIELDS)
    by_name = {field.name: field for field in fields}
    return (
        update(LECTURES)
        .where(LECTURES.c.id == by_name.pop("id"))
        .values(by_name)
        .execution_options(synchronize_session=False)
    )
