"""Assignments: staff build them from the question bank; students see the published ones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from studyhub.assignments.exceptions import AssignmentNotFound
from studyhub.assignments.models import Assignment, AssignmentType, Submission
from studyhub.assignments.questions import question_out
from studyhub.assignments.repository import (
    AssignmentFilter,
    AssignmentRepository,
    AssignmentRow,
    QuestionRepository,
    SubmissionRepository,
)
from studyhub.assignments.schemas import (
    AssignmentCreate,
    AssignmentDetail,
    AssignmentItem,
    AssignmentStudentView,
    AssignmentUpdate,
    MySubmission,
    QuestionPublic,
)
from studyhub.core.db import utcnow
from studyhub.core.errors import ValidationFailed
from studyhub.core.pagination import PageParams
from studyhub.core.sanitize import sanitize_html
from studyhub.courses.access import CourseContext
from studyhub.courses.cache import CourseCache
from studyhub.courses.exceptions import WeekNotFound
from studyhub.courses.repository import WeekRepository
from studyhub.courses.views import assignment_summary
from studyhub.progress.rollups import RollupRepository

STUDENT_STATUSES = ("pending", "submitted", "overdue")
STAFF_STATUSES = ("published", "draft")
# Changing these changes what counts towards students' progress (the rollups).
CATALOG_FIELDS = frozenset({"is_published", "week_id"})
REQUIRED = ("title", "type", "late_penalty_percent", "is_published", "week_id", "description")


def item_of(row: AssignmentRow, mine: Sequence[Submission] | None = None) -> AssignmentItem:
    a = row.assignment
    my_submission = None
    if mine:
        latest = max(mine, key=lambda s: s.attempt)
        my_submission = MySubmission(
            score=latest.score,
            max_score=latest.max_score,
            submitted_at=latest.submitted_at,
            attempts=len(mine),
        )
    return AssignmentItem(
        **assignment_summary(row).model_dump(exclude={"completed"}),
        completed=(bool(mine) if mine is not None else None),
        description=a.description,
        late_penalty_percent=a.late_penalty_percent,
        max_attempts=a.max_attempts,
        my_submission=my_submission,
    )


@dataclass(frozen=True, slots=True)
class AssignmentPage:
    assignments: list[AssignmentItem]
    total: int


class AssignmentService:
    def __init__(
        self,
        assignments: AssignmentRepository,
        questions: QuestionRepository,
        submissions: SubmissionRepository,
        weeks: WeekRepository,
        cache: CourseCache,
        rollups: RollupRepository,
    ) -> None:
        self.assignments = assignments
        self.questions = questions
        self.submissions = submissions
        self.weeks = weeks
        self.cache = cache
        self.rollups = rollups

    async def visible(self, context: CourseContext, assignment_id: int) -> Assignment:
        """The assignment, if the caller may see it: staff see all; students only published
        assignments in published weeks (anything else is a 404, ids do not leak)."""
        found = await self.assignments.get(context.course.id, assignment_id)
        if found is None:
            raise AssignmentNotFound
        assignment, week_published = found
        if not context.sees_drafts and not (assignment.is_published and week_published):
            raise AssignmentNotFound
        return assignment

    async def page(
        self,
        context: CourseContext,
        page: PageParams,
        *,
        week_id: int | None,
        type: AssignmentType | None,
        status: str | None,
        now: datetime | None = None,
    ) -> AssignmentPage:
        staff = context.sees_drafts
        allowed = STAFF_STATUSES if staff else STUDENT_STATUSES
        if status is not None and status not in allowed:
            raise ValidationFailed(details={"status": [f"one of {', '.join(allowed)}"]})
        user_id = context.principal.user_id
        query = AssignmentFilter(
            course_id=context.course.id,
            published_only=not staff,
            week_id=week_id,
            type=type,
            is_published=(status == "published") if staff and status else None,
            student_status=None if staff else status,
            user_id=user_id,
            now=now or utcnow(),
        )
        rows, total = await self.assignments.page(query, page)
        if staff:
            return AssignmentPage([item_of(row) for row in rows], total)
        mine = await self.submissions.of_user([r.assignment.id for r in rows], user_id)
        by_assignment: dict[int, list[Submission]] = {r.assignment.id: [] for r in rows}
        for submission in mine:
            by_assignment[submission.assignment_id].append(submission)
        return AssignmentPage(
            [item_of(row, by_assignment[row.assignment.id]) for row in rows], total
        )

    async def detail(
        self, context: CourseContext, assignment_id: int
    ) -> AssignmentDetail | AssignmentStudentView:
        assignment = await self.visible(context, assignment_id)
        return await self._detail(context, assignment)

    async def _detail(
        self, context: CourseContext, assignment: Assignment
    ) -> AssignmentDetail | AssignmentStudentView:
        row = await self.assignments.row(assignment)
        questions = await self.assignments.questions(assignment.id)
        if context.sees_drafts:
            return AssignmentDetail(
                **item_of(row).model_dump(), questions=[question_out(q) for q in questions]
            )
        mine = await self.submissions.of_user([assignment.id], context.principal.user_id)
        not_open = assignment.start_date is not None and utcnow() < assignment.start_date
        return AssignmentStudentView(
            **item_of(row, mine).model_dump(),
            # Until it opens, students see the assignment but not its questions.
            questions=[] if not_open else [QuestionPublic.model_validate(q) for q in questions],
        )

    async def _check_questions(self, course_id: int, ids: Sequence[int]) -> None:
        if len(set(ids)) != len(ids):
            raise ValidationFailed(details={"question_ids": ["must not repeat a question"]})
        missing = set(ids) - await self.questions.ids_in_course(course_id, ids)
        if missing:
            raise ValidationFailed(
                details={"question_ids": [f"not questions of this course: {sorted(missing)}"]}
            )

    async def create(
        self, context: CourseContext, week_id: int, body: AssignmentCreate
    ) -> AssignmentDetail | AssignmentStudentView:
        course_id = context.course.id
        if await self.weeks.get(course_id, week_id) is None:
            raise WeekNotFound
        await self._check_questions(course_id, body.question_ids)
        assignment = Assignment(
            course_id=course_id,
            week_id=week_id,
            **body.model_dump(exclude={"question_ids", "description"}),
            description=sanitize_html(body.description),
        )
        await self.assignments.add(assignment)
        await self.assignments.set_questions(assignment.id, body.question_ids)
        self.cache.course_changed(course_id)
        return await self._detail(context, assignment)

    async def update(
        self, context: CourseContext, assignment_id: int, body: AssignmentUpdate
    ) -> AssignmentDetail | AssignmentStudentView:
        assignment = await self.visible(context, assignment_id)
        changes = body.model_dump(exclude_unset=True)
        for name in REQUIRED:
            if name in changes and changes[name] is None:
                raise ValidationFailed(details={name: ["may not be null"]})
        if (
            "week_id" in changes
            and await self.weeks.get(context.course.id, changes["week_id"]) is None
        ):
            raise ValidationFailed(details={"week_id": ["no such week in this course"]})
        if changes.get("description") is not None:
            changes["description"] = sanitize_html(changes["description"])
        start = changes.get("start_date", assignment.start_date)
        due = changes.get("due_date", assignment.due_date)
        if start and due and due < start:
            raise ValidationFailed(details={"due_date": ["must not be before start_date"]})
        await self.assignments.update(assignment, changes)
        if changes.keys() & CATALOG_FIELDS:
            await self.rollups.refresh_course(context.course.id)
        self.cache.course_changed(context.course.id)
        return await self._detail(context, assignment)

    async def set_questions(
        self, context: CourseContext, assignment_id: int, question_ids: list[int]
    ) -> AssignmentDetail | AssignmentStudentView:
        assignment = await self.visible(context, assignment_id)
        await self._check_questions(context.course.id, question_ids)
        await self.assignments.set_questions(assignment.id, question_ids)
        self.cache.course_changed(context.course.id)
        return await self._detail(context, assignment)

    async def delete(self, context: CourseContext, assignment_id: int) -> None:
        assignment = await self.visible(context, assignment_id)
        await self.assignments.delete(assignment)
        await self.rollups.refresh_course(context.course.id)  # its submissions are gone
        self.cache.course_changed(context.course.id)
