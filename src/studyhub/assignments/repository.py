"""SQL for the question bank, assignments and submissions. Everything is scoped by course."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from studyhub.assignments.models import (
    Assignment,
    AssignmentQuestion,
    AssignmentType,
    Question,
    QuestionStatus,
    QuestionType,
    Submission,
)
from studyhub.core.pagination import PageParams
from studyhub.courses.models import Week


@dataclass(frozen=True, slots=True)
class AssignmentRow:
    assignment: Assignment
    question_count: int
    max_score: float


@dataclass(frozen=True, slots=True)
class AssignmentFilter:
    course_id: int
    published_only: bool
    week_id: int | None = None
    type: AssignmentType | None = None
    is_published: bool | None = None
    # Students: pending | submitted | overdue, as seen by this user at this instant.
    student_status: str | None = None
    user_id: int | None = None
    now: datetime | None = None


def _stats() -> Select[int, int, float]:
    return (
        select(
            AssignmentQuestion.assignment_id,
            func.count().label("n"),
            func.coalesce(func.sum(Question.points), 0.0).label("total"),
        )
        .join(Question, Question.id == AssignmentQuestion.question_id)
        .group_by(AssignmentQuestion.assignment_id)
    )


def _with_stats(stmt_filter: ColumnElement[bool]) -> Select[Assignment, int, float]:
    stats = _stats().subquery()
    return (
        select(
            Assignment,
            func.coalesce(stats.c.n, 0),
            func.coalesce(stats.c.total, 0.0),
        )
        .outerjoin(stats, stats.c.assignment_id == Assignment.id)
        .where(stmt_filter)
    )


@functools.cache
def _outline_statement(*, published_only: bool) -> Select[Assignment, int, float]:
    """Built once: building it is a large share of reading an outline from the database."""
    where: ColumnElement[bool] = Assignment.week_id.in_(bindparam("week_ids", expanding=True))
    if published_only:
        where = and_(where, Assignment.is_published.is_(True))
    return _with_stats(where).order_by(
        Assignment.week_id, Assignment.due_date.is_(None), Assignment.due_date, Assignment.id
    )


class QuestionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def page(
        self,
        course_id: int,
        page: PageParams,
        *,
        type: QuestionType | None,
        status: QuestionStatus | None,
        week_id: int | None,
    ) -> tuple[list[Question], int]:
        conditions = [Question.course_id == course_id]
        if type is not None:
            conditions.append(Question.type == type)
        if status is not None:
            conditions.append(Question.status == status)
        if week_id is not None:
            conditions.append(Question.week_id == week_id)
        where = and_(*conditions)
        total = await self.session.scalar(select(func.count()).select_from(Question).where(where))
        stmt = select(Question).where(where).order_by(Question.id)
        rows = await self.session.execute(stmt.offset(page.offset).limit(page.limit))
        return list(rows.scalars()), int(total or 0)

    async def get(self, course_id: int, question_id: int) -> Question | None:
        return (
            await self.session.execute(
                select(Question).where(Question.id == question_id, Question.course_id == course_id)
            )
        ).scalar_one_or_none()

    async def ids_in_course(self, course_id: int, ids: Sequence[int]) -> set[int]:
        if not ids:
            return set()
        rows = await self.session.execute(
            select(Question.id).where(Question.course_id == course_id, Question.id.in_(ids))
        )
        return set(rows.scalars())

    async def in_published_assignment(self, question_id: int) -> bool:
        stmt = select(
            exists()
            .where(AssignmentQuestion.question_id == question_id)
            .where(AssignmentQuestion.assignment_id == Assignment.id)
            .where(Assignment.is_published.is_(True))
        )
        return bool(await self.session.scalar(stmt))

    async def add(self, question: Question) -> Question:
        self.session.add(question)
        await self.session.flush()
        return question

    async def update(self, question: Question, changes: dict[str, object]) -> Question:
        for name, value in changes.items():
            setattr(question, name, value)
        await self.session.flush()
        return question

    async def delete(self, question: Question) -> None:
        await self.session.execute(delete(Question).where(Question.id == question.id))


class AssignmentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _where(self, query: AssignmentFilter) -> ColumnElement[bool]:
        conditions: list[ColumnElement[bool]] = [Assignment.course_id == query.course_id]
        if query.published_only:
            published_weeks = select(Week.id).where(
                Week.course_id == query.course_id, Week.is_published.is_(True)
            )
            conditions += [
                Assignment.is_published.is_(True),
                Assignment.week_id.in_(published_weeks),
            ]
        if query.week_id is not None:
            conditions.append(Assignment.week_id == query.week_id)
        if query.type is not None:
            conditions.append(Assignment.type == query.type)
        if query.is_published is not None:
            conditions.append(Assignment.is_published.is_(query.is_published))
        if query.student_status and query.user_id is not None and query.now is not None:
            submitted = exists().where(
                Submission.assignment_id == Assignment.id, Submission.user_id == query.user_id
            )
            if query.student_status == "submitted":
                conditions.append(submitted)
            elif query.student_status == "overdue":
                conditions += [~submitted, Assignment.due_date < query.now]
            else:  # pending
                conditions += [
                    ~submitted,
                    or_(Assignment.due_date.is_(None), Assignment.due_date >= query.now),
                ]
        return and_(*conditions)

    async def page(
        self, query: AssignmentFilter, page: PageParams
    ) -> tuple[list[AssignmentRow], int]:
        where = self._where(query)
        total = await self.session.scalar(select(func.count()).select_from(Assignment).where(where))
        stmt = (
            _with_stats(where)
            .order_by(Assignment.due_date.is_(None), Assignment.due_date, Assignment.id)
            .offset(page.offset)
            .limit(page.limit)
        )
        rows = (await self.session.execute(stmt)).all()
        return [AssignmentRow(a, int(n), float(s)) for a, n, s in rows], int(total or 0)

    async def for_weeks(
        self, week_ids: Sequence[int], *, published_only: bool
    ) -> list[AssignmentRow]:
        """The outline's assignments, with question counts and scores, in one statement."""
        if not week_ids:
            return []
        stmt = _outline_statement(published_only=published_only)
        rows = (await self.session.execute(stmt, {"week_ids": list(week_ids)})).all()
        return [AssignmentRow(a, int(n), float(s)) for a, n, s in rows]

    async def get(self, course_id: int, assignment_id: int) -> tuple[Assignment, bool] | None:
        """The assignment and whether its week is published."""
        row = (
            await self.session.execute(
                select(Assignment, Week.is_published)
                .join(Week, Week.id == Assignment.week_id)
                .where(Assignment.id == assignment_id, Assignment.course_id == course_id)
            )
        ).first()
        return (row[0], bool(row[1])) if row is not None else None

    async def row(self, assignment: Assignment) -> AssignmentRow:
        stats = await self.session.execute(
            _stats().where(AssignmentQuestion.assignment_id == assignment.id)
        )
        found = stats.first()
        return AssignmentRow(
            assignment, int(found[1]) if found else 0, float(found[2]) if found else 0.0
        )

    async def questions(self, assignment_id: int) -> list[Question]:
        rows = await self.session.execute(
            select(Question)
            .join(AssignmentQuestion, AssignmentQuestion.question_id == Question.id)
            .where(AssignmentQuestion.assignment_id == assignment_id)
            .order_by(AssignmentQuestion.position)
        )
        return list(rows.scalars())

    async def set_questions(self, assignment_id: int, question_ids: Sequence[int]) -> None:
        await self.session.execute(
            delete(AssignmentQuestion).where(AssignmentQuestion.assignment_id == assignment_id)
        )
        if question_ids:
            await self.session.execute(
                insert(AssignmentQuestion),
                [
                    {"assignment_id": assignment_id, "question_id": qid, "position": n}
                    for n, qid in enumerate(question_ids)
                ],
            )

    async def add(self, assignment: Assignment) -> Assignment:
        self.session.add(assignment)
        await self.session.flush()
        return assignment

    async def update(self, assignment: Assignment, changes: dict[str, object]) -> Assignment:
        for name, value in changes.items():
            setattr(assignment, name, value)
        await self.session.flush()
        return assignment

    async def delete(self, assignment: Assignment) -> None:
        await self.session.execute(delete(Assignment).where(Assignment.id == assignment.id))


class SubmissionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_key(self, assignment_id: int, user_id: int, key: str) -> Submission | None:
        return (
            await self.session.execute(
                select(Submission).where(
                    Submission.assignment_id == assignment_id,
                    Submission.user_id == user_id,
                    Submission.idempotency_key == key,
                )
            )
        ).scalar_one_or_none()

    async def attempts(self, assignment_id: int, user_id: int) -> int:
        """Attempts used so far (attempt numbers are 1, 2, … without gaps)."""
        current = await self.session.scalar(
            select(func.max(Submission.attempt)).where(
                Submission.assignment_id == assignment_id, Submission.user_id == user_id
            )
        )
        return int(current or 0)

    async def try_add(self, submission: Submission) -> bool:
        """Insert inside a savepoint; False when a unique key (attempt number or idempotency
        key) was taken by a concurrent request, leaving the transaction usable."""
        try:
            async with self.session.begin_nested():
                self.session.add(submission)
                await self.session.flush()
        except IntegrityError:
            return False
        return True

    async def page(
        self, assignment_id: int, page: PageParams, *, user_id: int | None
    ) -> tuple[list[Submission], int]:
        where = Submission.assignment_id == assignment_id
        if user_id is not None:
            where = and_(where, Submission.user_id == user_id)
        total = await self.session.scalar(select(func.count()).select_from(Submission).where(where))
        rows = await self.session.execute(
            select(Submission)
            .where(where)
            .order_by(Submission.submitted_at.desc(), Submission.id.desc())
            .offset(page.offset)
            .limit(page.limit)
        )
        return list(rows.scalars()), int(total or 0)

    async def of_user(self, assignment_ids: Sequence[int], user_id: int) -> list[Submission]:
        if not assignment_ids:
            return []
        rows = await self.session.execute(
            select(Submission)
            .where(Submission.assignment_id.in_(assignment_ids), Submission.user_id == user_id)
            .order_by(Submission.assignment_id, Submission.attempt)
        )
        return list(rows.scalars())

    async def has_submitted(self, assignment_id: int, user_id: int) -> bool:
        return (await self.attempts(assignment_id, user_id)) > 0
