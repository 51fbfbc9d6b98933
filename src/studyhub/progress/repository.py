"""SQL for recording events and reading one student's progress. Constant statements per call."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import (
    Table,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from studyhub.core.db import utc_text, utcnow
from studyhub.courses.models import Course, CourseStatus
from studyhub.enrollments.models import CourseRole, Enrollment, EnrollmentStatus
from studyhub.progress.merge import Event, EventLike, Fold, Outcome
from studyhub.progress.models import (
    ActivityDay,
    LectureProgress,
)
from studyhub.progress.statements import (
    COMPLETIONS,
    DAYS,
    FOLD_COLUMNS,
    catalog_statement,
    completions_statement,
    destinations_statement,
    event_insert,
    items_statement,
    least,
    manual_events_statement,
    merge_upsert,
    outcomes_update,
    statuses_statement,
    upsert_insert,
)


@dataclass(frozen=True, slots=True)
class Target:
    """A lecture an event names: its course, whether students may see it, its duration."""

    lecture_id: int
    course_id: int
    published: bool
    duration_seconds: int | None


class NewEvent(EventLike, Protocol):
    """An event to record: a validated `BatchEvent` (recorded as it is, without a copy)."""

    @property
    def course_id(self) -> int: ...
    @property
    def lecture_id(self) -> int: ...


@dataclass(frozen=True, slots=True)
class StoredFold:
    row_id: int
    lecture_id: int
    fold: Fold
    manual_completed_at: datetime | None


@dataclass(frozen=True, slots=True)
class ItemRow:
    course_id: int
    week_id: int
    week_number: int
    week_title: str
    item_type: str
    item_id: int
    title: str


@dataclass(frozen=True, slots=True)
class StatusRow:
    course_id: int
    item_type: str
    item_id: int
    completed_at: datetime | None
    last_activity_at: datetime | None
    active_seconds: int
    position_seconds: int | None  # a lecture's resume point


@dataclass(frozen=True, slots=True)
class WeekRow:
    course_id: int
    week_id: int
    number: int
    title: str


def _json_value(value: object) -> object:
    """A value as a field of a JSON document row (`statements.document_rows`)."""
    return utc_text(value) if isinstance(value, datetime) else value


class ProgressRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _insert(self, table: Table) -> Any:
        return upsert_insert(self.session.get_bind().dialect.name, table)

    # ---- writing ---------------------------------------------------------------------------

    async def destinations(
        self, user_id: int, course_ids: Collection[int], lecture_ids: Collection[int]
    ) -> tuple[set[int], dict[int, Target]]:
        """Of the courses named, those the user studies (an active student enrollment in a
        course that is not a draft); and the lectures named that belong to one of the courses
        named (another course's lecture is not found, as a missing one)."""
        if not course_ids:
            return set(), {}
        rows = await self.session.execute(
            destinations_statement(),
            {"user_id": user_id, "course_ids": list(course_ids), "lecture_ids": list(lecture_ids)},
        )
        studied: set[int] = set()
        targets: dict[int, Target] = {}
        for course_id, studies, lecture_id, published, duration in rows:
            if studies:
                studied.add(course_id)
            if lecture_id is not None:
                targets[lecture_id] = Target(lecture_id, course_id, bool(published), duration)
        return studied, targets

    async def record_events(
        self, user_id: int, events: Sequence[NewEvent], device_id: str | None
    ) -> set[str]:
        """Insert the events; those already recorded are skipped. Returns the ids inserted."""
        if not events:
            return set()
        document = json.dumps(
            [
                [
                    event.event_id,
                    event.lecture_id,
                    event.course_id,
                    event.type,
                    utc_text(event.occurred_at),
                    event.position_seconds,
                    event.active_seconds,
                ]
                for event in events
            ]
        )
        result = await self.session.execute(
            event_insert(self.session.get_bind().dialect.name),
            {
                "user_id": user_id,
                "device_id": device_id,
                "received_at": utcnow(),
                "events": document,
            },
        )
        return set(result.scalars())

    async def merge_folds(
        self, user_id: int, deltas: Mapping[int, tuple[int, Fold]]
    ) -> list[StoredFold]:
        """Merge each lecture's new events into its row in one upsert: the SQL mirror of
        `merge.combine`, so concurrent batches cannot lose each other's events."""
        if not deltas:
            return []
        document = json.dumps(
            [
                [lecture_id, course_id, *(_json_value(getattr(fold, n)) for n in FOLD_COLUMNS)]
                for lecture_id, (course_id, fold) in deltas.items()
            ]
        )
        dialect = self.session.get_bind().dialect.name
        result = await self.session.execute(
            merge_upsert(dialect),
            {"user_id": user_id, "updated_at": utcnow(), "folds": document},
        )
        return [
            StoredFold(
                row.id,
                row.lecture_id,
                Fold(**{name: getattr(row, name) for name in FOLD_COLUMNS}),
                row.manual_completed_at,
            )
            for row in result
        ]

    async def manual_events(
        self, user_id: int, lecture_ids: Collection[int]
    ) -> dict[int, list[Event]]:
        found: dict[int, list[Event]] = {lecture_id: [] for lecture_id in lecture_ids}
        if not lecture_ids:
            return found
        rows = await self.session.execute(
            manual_events_statement(), {"user_id": user_id, "lecture_ids": list(lecture_ids)}
        )
        for lecture_id, event_id, kind, occurred_at in rows:
            found[lecture_id].append(Event(event_id, kind, occurred_at))
        return found

    async def store_outcomes(
        self, outcomes: Iterable[tuple[int, datetime | None, Outcome]]
    ) -> None:
        rows = [
            [
                row_id,
                _json_value(manual),
                outcome.state,
                _json_value(outcome.completed_at),
                outcome.active_seconds,
            ]
            for row_id, manual, outcome in outcomes
        ]
        if rows:
            await self.session.execute(
                outcomes_update(self.session.get_bind().dialect.name),
                {"outcomes": json.dumps(rows)},
            )

    async def add_activity_days(self, user_id: int, days: Collection[date]) -> None:
        if days:
            await self.session.execute(
                self._insert(DAYS).on_conflict_do_nothing(),
                [{"user_id": user_id, "day": day} for day in days],
            )

    async def record_course_completions(
        self, user_id: int, completed: Mapping[int, datetime]
    ) -> None:
        """Record when courses reached 100 %: the earliest such time is kept (late offline events
        can move it earlier, never later)."""
        if completed:
            now = utcnow()
            stmt = self._insert(COMPLETIONS)
            stmt = stmt.on_conflict_do_update(
                index_elements=["user_id", "course_id"],
                set_={
                    "completed_at": least(COMPLETIONS.c.completed_at, stmt.excluded.completed_at)
                },
            )
            await self.session.execute(
                stmt,
                [
                    {"user_id": user_id, "course_id": cid, "completed_at": at, "recorded_at": now}
                    for cid, at in completed.items()
                ],
            )

    # ---- reading one student ----------------------------------------------------------------

    async def items(self, course_ids: Collection[int]) -> list[ItemRow]:
        if not course_ids:
            return []
        rows = await self.session.execute(items_statement(), {"course_ids": list(course_ids)})
        return [ItemRow(*row) for row in rows]

    async def catalog(self, course_ids: Collection[int]) -> tuple[list[ItemRow], list[WeekRow]]:
        """The published items and weeks of the courses, each in order (`catalog_statement`)."""
        if not course_ids:
            return [], []
        rows = await self.session.execute(catalog_statement(), {"course_ids": list(course_ids)})
        items: list[ItemRow] = []
        weeks: list[WeekRow] = []
        for course_id, week_id, number, week_title, item_type, item_id, title in rows:
            if not weeks or weeks[-1].week_id != week_id:
                weeks.append(WeekRow(course_id, week_id, number, week_title))
            if item_id is not None:
                items.append(
                    ItemRow(course_id, week_id, number, week_title, item_type, item_id, title)
                )
        return items, weeks

    async def statuses(self, user_id: int, course_ids: Collection[int]) -> list[StatusRow]:
        if not course_ids:
            return []
        rows = await self.session.execute(
            statuses_statement(), {"course_ids": list(course_ids), "user_ids": [user_id]}
        )
        return [StatusRow(*row) for row in rows]

    async def lecture_row(self, user_id: int, lecture_id: int) -> LectureProgress | None:
        return await self.session.scalar(
            select(LectureProgress)
            .where(LectureProgress.user_id == user_id, LectureProgress.lecture_id == lecture_id)
            .execution_options(populate_existing=True)
        )

    async def course_completions(
        self, user_id: int, course_ids: Collection[int]
    ) -> dict[int, datetime]:
        if not course_ids:
            return {}
        rows = await self.session.execute(
            completions_statement(), {"user_id": user_id, "course_ids": list(course_ids)}
        )
        return {row[0]: row[1] for row in rows}

    async def studied_courses(self, user_id: int) -> list[int]:
        """Courses the user takes as a student (active or completed enrollment, not a draft)."""
        rows = await self.session.scalars(
            select(Enrollment.course_id)
            .join(Course, Course.id == Enrollment.course_id)
            .where(
                Enrollment.user_id == user_id,
                Enrollment.role == CourseRole.STUDENT,
                Enrollment.status != EnrollmentStatus.DROPPED,
                Course.status != CourseStatus.DRAFT,
            )
            .order_by(Enrollment.course_id)
        )
        return list(rows)

    async def activity_days(self, user_id: int) -> list[date]:
        rows = await self.session.scalars(
            select(ActivityDay.day).where(ActivityDay.user_id == user_id).order_by(ActivityDay.day)
        )
        return list(rows)
