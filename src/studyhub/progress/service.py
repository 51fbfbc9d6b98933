"""Progress rules: recording events (one or a batch, constant SQL per batch) and a student's
rollups. The merge itself is in `merge.py`; what counts as an item is in `items.py`."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import TypeAdapter, ValidationError

from studyhub.core.db import utcnow
from studyhub.courses.access import CourseContext
from studyhub.courses.cache import CourseCache
from studyhub.courses.exceptions import LectureNotFound
from studyhub.progress.exceptions import EventRejected, NotStudent
from studyhub.progress.merge import (
    MANUAL_TYPES,
    EventType,
    ItemState,
    fold,
    manual_completion,
    settle,
)
from studyhub.progress.models import LectureProgress
from studyhub.progress.repository import ProgressRepository, Target
from studyhub.progress.rollup import StudentData, course_progress, percentage, streak
from studyhub.progress.rollups import RollupRepository
from studyhub.progress.schemas import (
    BatchEvent,
    BatchOut,
    CourseProgress,
    CourseProgressBase,
    EventResult,
    LectureEventIn,
    LectureEventOut,
    LectureProgressOut,
    MyProgress,
    Totals,
)

MAX_FUTURE_SKEW = timedelta(minutes=5)
MAX_EVENT_AGE = timedelta(days=90)


class Reason:
    NOT_ENROLLED = "not_enrolled"
    UNKNOWN_LECTURE = "unknown_lecture"
    UNPUBLISHED_ITEM = "unpublished_item"
    MALFORMED = "malformed"
    IN_FUTURE = "occurred_at_in_future"
    TOO_OLD = "occurred_at_too_old"


@dataclass(frozen=True, slots=True)
class Ingested:
    results: list[EventResult]
    course_ids: list[int]  # courses named by events that were not rejected


def _raw_event_id(raw: object) -> str | None:
    if isinstance(raw, Mapping):
        value = raw.get("event_id")
        if isinstance(value, str) and len(value) <= 64:
            return value
    return None


_EVENTS = TypeAdapter(list[BatchEvent])
# Results are built as dicts and validated into `EventResult`s in one call (see `ingest`).
_RESULTS = TypeAdapter(list[EventResult])


def _result(
    index: int, event_id: str | None, status: str, reason: str | None = None
) -> dict[str, object]:
    return {"index": index, "event_id": event_id, "status": status, "reason": reason}


def _validate(raws: Sequence[object]) -> list[object]:
    """Each raw event as a `BatchEvent`, or left as it was if it is malformed. The whole list is
    validated in one call first (the common case: nothing malformed), then one by one."""
    try:
        return list(_EVENTS.validate_python(raws))
    except ValidationError:
        pass
    checked: list[object] = []
    for raw in raws:
        try:
            checked.append(BatchEvent.model_validate(raw))
        except ValidationError:
            checked.append(raw)
    return checked


def lecture_out(lecture_id: int, row: LectureProgress | None) -> LectureProgressOut:
    if row is None:
        return LectureProgressOut(
            lecture_id=lecture_id,
            state=ItemState.NOT_STARTED,
            position_seconds=0,
            furthest_position_seconds=0,
            active_seconds=0,
            first_viewed_at=None,
            last_viewed_at=None,
            completed_at=None,
        )
    return LectureProgressOut(
        lecture_id=lecture_id,
        state=row.state,
        position_seconds=row.position_seconds or 0,
        furthest_position_seconds=row.furthest_position_seconds,
        active_seconds=row.active_seconds,
        first_viewed_at=row.first_viewed_at,
        last_viewed_at=row.last_viewed_at,
        completed_at=row.completed_at,
    )


class ProgressService:
    def __init__(
        self,
        repository: ProgressRepository,
        rollups: RollupRepository,
        cache: CourseCache,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.repository = repository
        self.rollups = rollups
        self.cache = cache  # the outline's cached `completed` flags
        self.clock = clock

    # ---- recording ---------------------------------------------------------------------------

    async def ingest(
        self, user_id: int, raws: Sequence[object], device_id: str | None = None
    ) -> Ingested:
        """Validate each event on its own, record the new ones, merge them. A constant number of
        SQL statements whatever the batch's size.

        Per event, only what is needed is built: the validated `BatchEvent` is what is recorded
        and folded (no copy), and each result is a dict, turned into `EventResult`s by one
        validation at the end (cheaper than a model constructed per event)."""
        now = self.clock()
        newest, oldest = now + MAX_FUTURE_SKEW, now - MAX_EVENT_AGE
        results: list[dict[str, object] | None] = [None] * len(raws)
        parsed: list[tuple[int, BatchEvent]] = []
        for index, event in enumerate(_validate(raws)):
            if not isinstance(event, BatchEvent):
                results[index] = _result(index, _raw_event_id(event), "rejected", Reason.MALFORMED)
            elif event.occurred_at > newest:
                results[index] = _result(index, event.event_id, "rejected", Reason.IN_FUTURE)
            elif event.occurred_at < oldest:
                results[index] = _result(index, event.event_id, "rejected", Reason.TOO_OLD)
            else:
                parsed.append((index, event))

        enrolled, targets = await self.repository.destinations(
            user_id, {e.course_id for _, e in parsed}, {e.lecture_id for _, e in parsed}
        )
        accepted: list[tuple[int, BatchEvent]] = []
        seen: set[str] = set()
        courses: dict[int, None] = {}
        for index, event in parsed:
            target = targets.get(event.lecture_id)
            reason = None
            if event.course_id not in enrolled:
                reason = Reason.NOT_ENROLLED
            elif target is None or target.course_id != event.course_id:
                reason = Reason.UNKNOWN_LECTURE  # a lecture of another course included
            elif not target.published:
                reason = Reason.UNPUBLISHED_ITEM
            if reason:
                results[index] = _result(index, event.event_id, "rejected", reason)
                continue
            courses.setdefault(event.course_id)
            if event.event_id in seen:
                results[index] = _result(index, event.event_id, "duplicate")
                continue
            seen.add(event.event_id)
            accepted.append((index, event))

        applied = await self.repository.record_events(
            user_id, [event for _, event in accepted], device_id
        )
        fresh: dict[int, list[BatchEvent]] = {}
        for index, event in accepted:
            if event.event_id in applied:
                results[index] = _result(index, event.event_id, "applied")
                fresh.setdefault(event.lecture_id, []).append(event)
            else:
                results[index] = _result(index, event.event_id, "duplicate")
        await self._merge(user_id, fresh, targets)
        return Ingested(_RESULTS.validate_python(results), list(courses))

    async def _merge(
        self, user_id: int, fresh: dict[int, list[BatchEvent]], targets: Mapping[int, Target]
    ) -> None:
        if not fresh:
            return
        deltas = {
            lecture_id: (
                targets[lecture_id].course_id,
                fold(events, targets[lecture_id].duration_seconds),
            )
            for lecture_id, events in fresh.items()
        }
        stored = await self.repository.merge_folds(user_id, deltas)
        manual_lectures = {
            lecture_id
            for lecture_id, events in fresh.items()
            if any(e.type in MANUAL_TYPES for e in events)
        }
        # Read after the upsert: its row lock orders concurrent writers of the same lecture.
        manual = await self.repository.manual_events(user_id, manual_lectures)
        outcomes = []
        for row in stored:
            manual_at = (
                manual_completion(manual[row.lecture_id])
                if row.lecture_id in manual
                else row.manual_completed_at
            )
            outcomes.append((row.row_id, manual_at, settle(row.fold, manual_at)))
        await self.repository.store_outcomes(outcomes)
        for course_id in {targets[lecture_id].course_id for lecture_id in fresh}:
            await self.rollups.refresh_students(course_id, [user_id])
            self.cache.progress_changed(course_id, user_id)
        days = {e.occurred_at.date() for events in fresh.values() for e in events}
        await self.repository.add_activity_days(user_id, days)

    async def batch(self, user_id: int, raws: Sequence[object], device_id: str | None) -> BatchOut:
        ingested = await self.ingest(user_id, raws, device_id)
        progress = await self._settled_progress(user_id, ingested.course_ids)
        return BatchOut(
            results=ingested.results,
            courses=[progress[c] for c in ingested.course_ids],
            server_time=self.clock(),
        )

    async def record(
        self, context: CourseContext, lecture_id: int, body: LectureEventIn
    ) -> LectureEventOut:
        if body.state == "completed":
            kind = EventType.COMPLETE
        elif body.position_seconds is not None:
            kind = EventType.POSITION
        elif body.active_seconds is not None:
            kind = EventType.HEARTBEAT
        else:
            kind = EventType.VIEW
        event = BatchEvent(
            event_id=body.event_id or f"srv-{uuid.uuid4().hex}",
            course_id=context.course.id,
            lecture_id=lecture_id,
            type=kind,
            occurred_at=body.occurred_at or self.clock(),
            position_seconds=body.position_seconds,
            active_seconds=body.active_seconds,
        )
        return await self._record_one(context, event)

    async def uncomplete(self, context: CourseContext, lecture_id: int) -> LectureProgressOut:
        event = BatchEvent(
            event_id=f"srv-{uuid.uuid4().hex}",
            course_id=context.course.id,
            lecture_id=lecture_id,
            type=EventType.UNCOMPLETE,
            occurred_at=self.clock(),
        )
        return (await self._record_one(context, event)).lecture

    async def _record_one(self, context: CourseContext, event: BatchEvent) -> LectureEventOut:
        user_id = context.principal.user_id
        result = (await self.ingest(user_id, [event])).results[0]
        if result.reason in (Reason.UNKNOWN_LECTURE, Reason.UNPUBLISHED_ITEM):
            raise LectureNotFound
        if result.reason == Reason.NOT_ENROLLED:
            raise NotStudent
        if result.reason is not None:
            raise EventRejected(details={"occurred_at": [result.reason]})
        row = await self.repository.lecture_row(user_id, event.lecture_id)
        progress = await self._settled_progress(user_id, [event.course_id])
        return LectureEventOut(
            lecture=lecture_out(event.lecture_id, row), course=progress[event.course_id]
        )

    async def _settled_progress(
        self, user_id: int, course_ids: Sequence[int]
    ) -> dict[int, CourseProgress]:
        """Progress after a write; a course reaching 100 % for the first time is recorded."""
        progress = await self.progress(user_id, course_ids)
        reached = {
            cid: p.completed_at
            for cid, p in progress.items()
            if p.state is ItemState.COMPLETED and p.completed_at is not None
        }
        await self.repository.record_course_completions(user_id, reached)
        return progress

    # ---- reading -----------------------------------------------------------------------------

    async def load(self, user_id: int, course_ids: Sequence[int], *, weeks: bool) -> StudentData:
        # Three statements: each costs more to issue than to run (on SQLite, several round
        # trips to the driver's thread), and this read follows every batch.
        repo = self.repository
        items, published_weeks = await repo.catalog(course_ids)
        return StudentData(
            user_id=user_id,
            items=items,
            statuses=await repo.statuses(user_id, course_ids),
            completions=await repo.course_completions(user_id, course_ids),
            weeks=published_weeks if weeks else [],
        )

    async def progress(
        self, user_id: int, course_ids: Sequence[int], *, weeks: bool = True
    ) -> dict[int, CourseProgress]:
        if not course_ids:
            return {}
        data = await self.load(user_id, course_ids, weeks=weeks)
        return {cid: course_progress(data, cid) for cid in course_ids}

    async def course(self, context: CourseContext) -> CourseProgress:
        course_id = context.course.id
        return (await self.progress(context.principal.user_id, [course_id]))[course_id]

    async def mine(self, user_id: int) -> MyProgress:
        course_ids = await self.repository.studied_courses(user_id)
        progress = await self.progress(user_id, course_ids, weeks=False)
        courses = [
            CourseProgressBase.model_validate(p.model_dump(exclude={"weeks"}))
            for p in progress.values()
        ]
        total = sum(c.total_items for c in courses)
        completed = sum(c.completed_items for c in courses)
        activity = [c.last_activity_at for c in courses if c.last_activity_at is not None]
        days = await self.repository.activity_days(user_id)
        return MyProgress(
            courses=courses,
            overall=Totals(
                total_items=total,
                completed_items=completed,
                percentage=percentage(completed, total),
            ),
            streak=streak(days, self.clock().date()),
            last_activity_at=max(activity) if activity else None,
        )
