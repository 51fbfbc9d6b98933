"""The staff views of a course's progress: the student table, one student, the summary."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from studyhub.core.db import utcnow
from studyhub.core.pagination import PageParams
from studyhub.courses.access import CourseContext
from studyhub.progress.exceptions import StudentNotFound
from studyhub.progress.merge import ItemState
from studyhub.progress.repository import ProgressRepository
from studyhub.progress.rollup import (
    course_progress,
    course_state,
    histogram,
    item_details,
    mean,
    median,
    percentage,
)
from studyhub.progress.schemas import (
    CourseSummaryOut,
    ItemCompletion,
    StudentCourseProgress,
    StudentRow,
    StudentUser,
)
from studyhub.progress.service import ProgressService
from studyhub.progress.staff_repository import StaffProgressRepository, StudentQuery

INACTIVE_AFTER = timedelta(days=7)


class StaffProgressService:
    def __init__(
        self,
        staff: StaffProgressRepository,
        progress: ProgressService,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.staff = staff
        self.progress = progress
        self.clock = clock

    async def students(
        self, context: CourseContext, query: StudentQuery, page: PageParams
    ) -> tuple[list[StudentRow], int]:
        course_id = context.course.id
        total = await self.staff.total_items(course_id)
        figures, count = await self.staff.students(course_id, query, total, page)
        scores = await self.staff.average_scores(course_id, [f.user_id for f in figures])
        rows = []
        for f in figures:
            if f.user is None:  # pragma: no cover - `students` always loads the user
                continue
            rows.append(
                StudentRow(
                    user=StudentUser(
                        id=f.user.id,
                        username=f.user.username,
                        first_name=f.user.first_name,
                        last_name=f.user.last_name,
                        email=f.user.email,
                    ),
                    total_items=total,
                    completed_items=f.completed,
                    percentage=percentage(f.completed, total),
                    state=course_state(f.completed, total, f.active),
                    last_activity_at=f.last_activity_at,
                    active_seconds=f.active_seconds,
                    average_score=scores.get(f.user_id),
                )
            )
        return rows, count

    async def student(self, context: CourseContext, user_id: int) -> StudentCourseProgress:
        course_id = context.course.id
        if not await self.staff.is_student(course_id, user_id):
            raise StudentNotFound
        data = await self.progress.load(user_id, [course_id], weeks=True)
        return StudentCourseProgress(
            **course_progress(data, course_id).model_dump(),
            items=item_details(data, course_id),
        )

    async def summary(self, context: CourseContext) -> CourseSummaryOut:
        course_id = context.course.id
        repository: ProgressRepository = self.progress.repository
        items = await repository.items([course_id])
        total = len(items)
        figures = await self.staff.all_students(course_id)
        counts = await self.staff.item_completions(course_id)
        states = [course_state(f.completed, total, f.active) for f in figures]
        percentages = [percentage(f.completed, total) for f in figures]
        cutoff = self.clock() - INACTIVE_AFTER
        enrolled = len(figures)
        return CourseSummaryOut(
            enrolled=enrolled,
            not_started=states.count(ItemState.NOT_STARTED),
            in_progress=states.count(ItemState.IN_PROGRESS),
            completed=states.count(ItemState.COMPLETED),
            mean_percentage=mean(percentages),
            median_percentage=median(percentages),
            histogram=histogram(percentages),
            inactive_7d=sum(
                1 for f in figures if f.last_activity_at is None or f.last_activity_at < cutoff
            ),
            items=[
                ItemCompletion(
                    type=item.item_type,
                    id=item.item_id,
                    title=item.title,
                    completed_count=(done := counts.get((item.item_type, item.item_id), 0)),
                    completion_rate=percentage(done, enrolled),
                )
                for item in items
            ],
        )
