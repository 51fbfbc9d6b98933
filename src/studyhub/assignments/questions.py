"""The course's question bank: staff only (students meet questions through assignments)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from studyhub.assignments.exceptions import QuestionInUse, QuestionNotFound
from studyhub.assignments.models import Question, QuestionStatus, QuestionType
from studyhub.assignments.repository import QuestionRepository
from studyhub.assignments.schemas import (
    QuestionBatchResult,
    QuestionBatchRow,
    QuestionCreate,
    QuestionOut,
    QuestionUpdate,
)
from studyhub.core.errors import AppError, ValidationFailed, validation_details
from studyhub.core.pagination import PageParams
from studyhub.core.schemas import BatchRowError, BatchRowStatus
from studyhub.courses.access import CourseContext
from studyhub.courses.cache import CourseCache
from studyhub.courses.repository import LectureRepository, WeekRepository

CREATED, FAILED = BatchRowStatus.CREATED, BatchRowStatus.ERROR
# Changing these changes how existing submissions were graded: refused while a published
# assignment uses the question (title, explanation, status and placement stay editable).
GRADING_FIELDS = ("content", "type", "options", "correct_answer", "tolerance", "points")
EDITABLE = (*GRADING_FIELDS, "title", "explanation", "status", "week_id", "lecture_id")


def question_out(question: Question) -> QuestionOut:
    return QuestionOut.model_validate(question)


class QuestionService:
    def __init__(
        self,
        questions: QuestionRepository,
        weeks: WeekRepository,
        lectures: LectureRepository,
        cache: CourseCache,
    ) -> None:
        self.questions = questions
        self.weeks = weeks
        self.lectures = lectures
        self.cache = cache

    async def page(
        self,
        context: CourseContext,
        page: PageParams,
        *,
        type: QuestionType | None,
        status: QuestionStatus | None,
        week_id: int | None,
    ) -> tuple[list[QuestionOut], int]:
        rows, total = await self.questions.page(
            context.course.id, page, type=type, status=status, week_id=week_id
        )
        return [question_out(q) for q in rows], total

    async def get(self, context: CourseContext, question_id: int) -> Question:
        question = await self.questions.get(context.course.id, question_id)
        if question is None:
            raise QuestionNotFound
        return question

    async def _check_placement(
        self, course_id: int, week_id: int | None, lecture_id: int | None
    ) -> None:
        if week_id is not None and await self.weeks.get(course_id, week_id) is None:
            raise ValidationFailed(details={"week_id": ["no such week in this course"]})
        if lecture_id is not None:
            lecture = await self.lectures.get(course_id, lecture_id)
            if lecture is None:
                raise ValidationFailed(details={"lecture_id": ["no such lecture in this course"]})
            if week_id is not None and lecture.week_id != week_id:
                raise ValidationFailed(details={"lecture_id": ["the lecture is in another week"]})

    async def create(self, context: CourseContext, body: QuestionCreate) -> Question:
        course_id = context.course.id
        await self._check_placement(course_id, body.week_id, body.lecture_id)
        question = Question(course_id=course_id, **body.model_dump())
        await self.questions.add(question)
        return question

    async def batch(
        self, context: CourseContext, rows: list[dict[str, Any]]
    ) -> QuestionBatchResult:
        """Each row on its own: one bad row does not sink the others."""
        results: list[QuestionBatchRow] = []
        for index, raw in enumerate(rows):
            try:
                body = QuestionCreate.model_validate(raw)
                question = await self.create(context, body)
            except ValidationError as exc:
                details = validation_details(exc.errors())
                error = BatchRowError(
                    error="VALIDATION_ERROR", message="The row is not valid", details=details
                )
                results.append(
                    QuestionBatchRow(index=index, status=BatchRowStatus.ERROR, error=error)
                )
            except AppError as exc:
                error = BatchRowError(error=exc.code, message=exc.message, details=exc.details)
                results.append(
                    QuestionBatchRow(index=index, status=BatchRowStatus.ERROR, error=error)
                )
            else:
                results.append(
                    QuestionBatchRow(index=index, status=BatchRowStatus.CREATED, id=question.id)
                )
        created = sum(1 for row in results if row.status == "created")
        return QuestionBatchResult(created=created, failed=len(results) - created, results=results)

    async def update(
        self, context: CourseContext, question_id: int, body: QuestionUpdate
    ) -> Question:
        question = await self.get(context, question_id)
        changes = body.model_dump(exclude_unset=True)
        if any(
            name in changes and changes[name] != getattr(question, name) for name in GRADING_FIELDS
        ) and await self.questions.in_published_assignment(question.id):
            raise QuestionInUse
        merged = {name: getattr(question, name) for name in EDITABLE} | changes
        if merged["type"] != QuestionType.NUMERIC and "tolerance" not in changes:
            merged["tolerance"] = None  # a type change away from numeric drops it
        try:
            valid = QuestionCreate.model_validate(merged)
        except ValidationError as exc:
            raise ValidationFailed(details=validation_details(exc.errors())) from exc
        await self._check_placement(context.course.id, valid.week_id, valid.lecture_id)
        await self.questions.update(question, valid.model_dump())
        self.cache.course_changed(context.course.id)  # max_score in the outline may change
        return question

    async def delete(self, context: CourseContext, question_id: int) -> None:
        question = await self.get(context, question_id)
        if await self.questions.in_published_assignment(question.id):
            raise QuestionInUse
        await self.questions.delete(question)
        self.cache.course_changed(context.course.id)
