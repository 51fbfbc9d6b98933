"""Progress tables: one row per (student, lecture), the applied events (idempotency and the
manual-completion history), the days with activity (streaks), and course first completions."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from studyhub.core.db import Base, utcnow
from studyhub.progress.merge import MANUAL_TYPES, EventType, ItemState
from studyhub.users.models import str_enum


class LectureProgress(Base):
    __tablename__ = "lecture_progress"
    __table_args__ = (
        UniqueConstraint("user_id", "lecture_id"),
        # Staff views aggregate one course's rows by student: covering, so the GROUP BY never
        # visits the table. A student's views read one course.
        Index(
            "ix_lecture_progress_course_id_user_id",
            "course_id",
            "user_id",
            "lecture_id",
            "completed_at",
            "last_viewed_at",
            "active_seconds",
        ),
        Index("ix_lecture_progress_user_id_course_id", "user_id", "course_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    lecture_id: Mapped[int] = mapped_column(ForeignKey("lectures.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    state: Mapped[ItemState] = mapped_column(str_enum(ItemState))
    # The `merge.Fold` fields, merged by the upsert.
    first_viewed_at: Mapped[datetime | None]
    last_viewed_at: Mapped[datetime | None]
    position_seconds: Mapped[int | None]
    position_at: Mapped[datetime | None]
    position_event_id: Mapped[str | None] = mapped_column(String(64))
    furthest_position_seconds: Mapped[int] = mapped_column(Integer, default=0)
    active_seconds_raw: Mapped[int] = mapped_column(Integer, default=0)
    watched_at: Mapped[datetime | None]
    # Derived (merge.settle), rewritten after every merge.
    manual_completed_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    active_seconds: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


# The manual events (complete/uncomplete), with literal values: the partial index below is used
# only by a query whose WHERE repeats this term (bound parameters would not match it on SQLite,
# nor in PostgreSQL's generic plans). Sorted, so the text is the same in every process.
MANUAL_EVENT = text(
    "type IN ({})".format(", ".join(f"'{kind.value}'" for kind in sorted(MANUAL_TYPES)))
)


class ProgressEvent(Base):
    """Every applied event, keyed by (user, event id): a replay is detected by the insert."""

    __tablename__ = "progress_events"
    __table_args__ = (
        # Only manual events are read back by lecture (`ProgressRepository.manual_events`).
        # Partial, so the views, positions and heartbeats (nearly every event) do not maintain
        # it: a 500-event batch was spending about a third of its insert on this index.
        Index(
            "ix_progress_events_manual",
            "user_id",
            "lecture_id",
            sqlite_where=MANUAL_EVENT,
            postgresql_where=MANUAL_EVENT,
        ),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    lecture_id: Mapped[int] = mapped_column(ForeignKey("lectures.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    type: Mapped[EventType] = mapped_column(str_enum(EventType))
    occurred_at: Mapped[datetime]
    position_seconds: Mapped[int | None]
    active_seconds: Mapped[int | None]
    device_id: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class ActivityDay(Base):
    """The UTC days on which a user had any progress event (streaks)."""

    __tablename__ = "progress_activity_days"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(primary_key=True)


class CourseCompletion(Base):
    """When a student first reached 100 % of a course; kept when items are added later."""

    __tablename__ = "course_completions"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True
    )
    completed_at: Mapped[datetime]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProgressRollup(Base):
    """Per (course, student with any activity): published items completed, last activity and
    active time, so the staff views page and sort 2,000 students without aggregating 200,000
    rows per request. Maintained by `rollups.RollupRepository`: per student on every progress
    write, per course when the item catalog changes (publication, deletion, a move)."""

    __tablename__ = "progress_rollups"

    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    completed_items: Mapped[int] = mapped_column(Integer, default=0)
    last_activity_at: Mapped[datetime | None]
    active_seconds: Mapped[int] = mapped_column(Integer, default=0)
