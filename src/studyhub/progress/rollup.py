"""Pure rollups: from items and a student's item statuses to `CourseProgress`, streaks, stats."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from studyhub.progress.items import LECTURE
from studyhub.progress.merge import ItemState
from studyhub.progress.repository import ItemRow, StatusRow, WeekRow
from studyhub.progress.schemas import (
    CourseProgress,
    ItemDetail,
    NextItem,
    Resume,
    Streak,
    WeekProgress,
)


def percentage(completed: int, total: int) -> float:
    return round(completed * 100 / total, 2) if total else 0.0


def course_state(completed: int, total: int, active: bool) -> ItemState:
    if total and completed >= total:
        return ItemState.COMPLETED
    return ItemState.IN_PROGRESS if active or completed else ItemState.NOT_STARTED


@dataclass(frozen=True, slots=True)
class StudentData:
    """Everything one student's progress in some courses is computed from."""

    user_id: int
    items: Sequence[ItemRow]
    statuses: Sequence[StatusRow]  # with lectures' resume points
    completions: dict[int, datetime]
    weeks: Sequence[WeekRow]


def _latest(values: Iterable[datetime | None]) -> datetime | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def course_progress(data: StudentData, course_id: int) -> CourseProgress:
    items = [i for i in data.items if i.course_id == course_id]
    statuses = {(s.item_type, s.item_id): s for s in data.statuses if s.course_id == course_id}
    done = {key for key, s in statuses.items() if s.completed_at is not None}
    counted = [i for i in items if (i.item_type, i.item_id) in done]
    total, completed = len(items), len(counted)
    course_statuses = [s for s in data.statuses if s.course_id == course_id]
    last_activity = _latest(s.last_activity_at for s in course_statuses)
    # At 100 %: when the last item was completed (order-independent). Below (an item was added
    # or uncompleted since): the recorded first completion, kept as history.
    completed_at = data.completions.get(course_id)
    if total and completed == total:
        completed_at = _latest(statuses[(i.item_type, i.item_id)].completed_at for i in items)
    next_item = next(
        (
            NextItem(type=i.item_type, id=i.item_id, title=i.title)
            for i in items
            if (i.item_type, i.item_id) not in done
        ),
        None,
    )
    # Resume the open (viewed, not completed) published lecture viewed last.
    published = {i.item_id for i in items if i.item_type == LECTURE}
    open_rows = [
        s
        for s in course_statuses
        if s.item_type == LECTURE
        and s.item_id in published
        and s.completed_at is None
        and s.last_activity_at is not None
    ]
    latest = max(open_rows, key=lambda s: (s.last_activity_at, s.item_id), default=None)
    weeks = []
    for week in (w for w in data.weeks if w.course_id == course_id):
        in_week = [i for i in items if i.week_id == week.week_id]
        week_done = sum(1 for i in in_week if (i.item_type, i.item_id) in done)
        weeks.append(
            WeekProgress(
                week_id=week.week_id,
                week_number=week.number,
                title=week.title,
                total_items=len(in_week),
                completed_items=week_done,
                percentage=percentage(week_done, len(in_week)),
            )
        )
    return CourseProgress(
        course_id=course_id,
        user_id=data.user_id,
        total_items=total,
        completed_items=completed,
        percentage=percentage(completed, total),
        state=course_state(completed, total, bool(course_statuses)),
        completed_at=completed_at,
        last_activity_at=last_activity,
        active_seconds=sum(s.active_seconds for s in course_statuses),
        next_item=next_item,
        resume=(
            Resume(lecture_id=latest.item_id, position_seconds=latest.position_seconds or 0)
            if latest is not None
            else None
        ),
        weeks=weeks,
    )


def item_details(data: StudentData, course_id: int) -> list[ItemDetail]:
    statuses = {(s.item_type, s.item_id): s for s in data.statuses if s.course_id == course_id}
    details = []
    for item in (i for i in data.items if i.course_id == course_id):
        status = statuses.get((item.item_type, item.item_id))
        if status is None:
            state = ItemState.NOT_STARTED
        elif status.completed_at is not None:
            state = ItemState.COMPLETED
        else:
            state = ItemState.IN_PROGRESS
        details.append(
            ItemDetail(
                type=item.item_type,
                id=item.item_id,
                week_id=item.week_id,
                title=item.title,
                state=state,
                completed_at=status.completed_at if status else None,
                last_activity_at=status.last_activity_at if status else None,
                active_seconds=status.active_seconds if status else 0,
            )
        )
    return details


def streak(days: Sequence[date], today: date) -> Streak:
    """Runs of consecutive UTC days with activity; the current run may end today or yesterday
    (today is not over yet)."""
    longest = run = 0
    previous: date | None = None
    for day in sorted(set(days)):
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        longest = max(longest, run)
        previous = day
    current = run if previous is not None and today - previous <= timedelta(days=1) else 0
    return Streak(current_days=current, longest_days=longest)


def histogram(percentages: Iterable[float]) -> list[int]:
    buckets = [0] * 10
    for value in percentages:
        buckets[min(9, int(value // 10))] += 1
    return buckets


def median(values: Sequence[float]) -> float:
    return round(statistics.median(values), 2) if values else 0.0


def mean(values: Sequence[float]) -> float:
    return round(statistics.fmean(values), 2) if values else 0.0
