"""The progress statements that are built once per process (`functools.cache`): building the
merge upsert's CASE expressions or the item UNION (and their cache keys) cost more Python time per
request than running them. Ids are bound at execution (expanding parameters, `items.py`)."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import (
    TIMESTAMP,
    ColumnElement,
    Select,
    String,
    Table,
    and_,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal_column,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.expression import BindParameter

from studyhub.courses.models import Course, CourseStatus, Lecture, Week
from studyhub.enrollments.models import CourseRole, Enrollment, EnrollmentStatus
from studyhub.progress.items import COURSE_IDS, item_catalog, item_status
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
# Core tables, not ORM entities, in the statements below: `Session.execute` of an ORM-enabled
# select goes through the ORM's compile and result layers even for plain columns.
_COURSES: Table = Course.__table__  # type: ignore[assignment]
_WEEKS: Table = Week.__table__  # type: ignore[assignment]
_LECTURE_ITEMS: Table = Lecture.__table__  # type: ignore[assignment]
_ENROLLMENTS: Table = Enrollment.__table__  # type: ignore[assignment]
USER_ID: BindParameter[int] = bindparam("user_id")
LECTURE_IDS: BindParameter[list[int]] = bindparam("lecture_ids", expanding=True)


def upsert_insert(dialect: str, table: Table) -> Any:
    """The dialect's INSERT, which has ON CONFLICT (both backends spell it the same way)."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


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


# The fields of each row of `event_insert`'s `events` document, in order.
EVENT_FIELDS = (
    "event_id",
    "lecture_id",
    "course_id",
    "type",
    "occurred_at",  # as `core.db.utc_text`
    "position_seconds",
    "active_seconds",
)


@cache
def event_insert(dialect: str) -> Any:
    """Record a batch's events, skipping those already recorded; RETURNING the ids inserted.

    The rows come in ONE parameter, `events`: a JSON array of arrays (`EVENT_FIELDS`), unpacked by
    the database's JSON functions; `user_id`, `device_id` and `received_at` are bound once. As an
    executemany of 500 rows, SQLAlchemy built and type-processed a parameter dict per row and
    the driver bound 5,000 parameters (most of `record_events`' time, and on PostgreSQL a
    prepared statement per row count); this text is the same for every batch."""
    postgres = dialect == "postgresql"
    document = bindparam("events", type_=String)
    if postgres:
        rows = func.jsonb_array_elements(cast(document, JSONB)).table_valued("value").alias("e")
    else:
        rows = func.json_each(document).table_valued("value").alias("e")

    def field(name: str) -> ColumnElement[Any]:
        # `->>` extracts an array element as an SQL value on both backends: as text on
        # PostgreSQL (cast to the column's type), typed by the JSON on SQLite, where a CAST to
        # DATETIME would turn the timestamp text into a number.
        value: ColumnElement[Any] = literal_column(f"e.value ->> {EVENT_FIELDS.index(name)}")
        column = EVENTS.c[name]
        if not postgres:
            value = type_coerce(value, column.type)
        elif name == "occurred_at":  # naive UTC text
            value = func.timezone("UTC", cast(value, TIMESTAMP()), type_=column.type)
        else:
            value = cast(value, column.type)
        return value.label(name)

    source = select(
        bindparam("user_id", type_=EVENTS.c.user_id.type),
        *(field(name) for name in EVENT_FIELDS),
        bindparam("device_id", type_=EVENTS.c.device_id.type),
        bindparam("received_at", type_=EVENTS.c.received_at.type),
    ).select_from(rows)
    if not postgres:
        # SQLite reads `ON CONFLICT` after `INSERT ... SELECT ... FROM f(...)` as a join
        # constraint unless the SELECT has a WHERE clause (its documented workaround).
        source = source.where(true())
    columns = ["user_id", *EVENT_FIELDS, "device_id", "received_at"]
    return (
        upsert_insert(dialect, EVENTS)
        .from_select(columns, source)
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
