"""Submissions: grading, attempts, late penalties, idempotent retries and the reveal policy.

Reveal policy (students; staff always see everything):
- per-question results: practice — right after submitting; graded — once the due date has passed
  (a graded assignment without a due date never reveals them to students);
- the answer key (correct answers + explanations): practice — after one's first submission;
  graded — once the due date has passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from studyhub.assignments.exceptions import (
    AnswersNotAvailable,
    AssignmentClosed,
    AssignmentNotOpen,
    IdempotencyKeyReused,
    MaxAttemptsReached,
    NotAStudent,
)
from studyhub.assignments.grading import Gradable, apply_penalty, grade
from studyhub.assignments.models import (
    Assignment,
    AssignmentType,
    Submission,
    SubmissionStatus,
)
from studyhub.assignments.repository import AssignmentRepository, SubmissionRepository
from studyhub.assignments.schemas import (
    AnswerKey,
    AnswerOut,
    QuestionResult,
    SubmissionCreate,
    SubmissionOut,
)
from studyhub.assignments.service import AssignmentService
from studyhub.core.db import utcnow
from studyhub.core.errors import ServiceUnavailable
from studyhub.core.pagination import PageParams
from studyhub.courses.access import CourseContext
from studyhub.courses.cache import CourseCache
from studyhub.enrollments.models import CourseRole, EnrollmentStatus
from studyhub.progress.rollups import RollupRepository

# Each retry follows a concurrent insert of the same attempt number; a handful always suffices.
_INSERT_RETRIES = 5


def results_revealed(assignment: Assignment, now: datetime) -> bool:
    if assignment.type is AssignmentType.PRACTICE:
        return True
    return assignment.due_date is not None and now > assignment.due_date


def submission_out(submission: Submission, *, reveal: bool) -> SubmissionOut:
    return SubmissionOut(
        id=submission.id,
        assignment_id=submission.assignment_id,
        user_id=submission.user_id,
        attempt=submission.attempt,
        score=submission.score,
        max_score=submission.max_score,
        status=submission.status,
        submitted_at=submission.submitted_at,
        answers=submission.answers,
        results=[QuestionResult.model_validate(r) for r in submission.results] if reveal else None,
    )


@dataclass(frozen=True, slots=True)
class Submitted:
    submission: SubmissionOut
    replayed: bool


class SubmissionService:
    def __init__(
        self,
        assignments: AssignmentService,
        assignment_rows: AssignmentRepository,
        submissions: SubmissionRepository,
        rollups: RollupRepository,
        cache: CourseCache,
    ) -> None:
        self.assignments = assignments
        self.assignment_rows = assignment_rows
        self.submissions = submissions
        self.rollups = rollups
        self.cache = cache  # the outline's cached `completed` flags

    @staticmethod
    def require_active_student(context: CourseContext) -> None:
        member = context.membership
        if not (
            member is not None
            and member.role is CourseRole.STUDENT
            and member.status is EnrollmentStatus.ACTIVE
        ):
            raise NotAStudent

    async def submit(
        self,
        context: CourseContext,
        assignment_id: int,
        body: SubmissionCreate,
        idempotency_key: str | None,
    ) -> Submitted:
        self.require_active_student(context)
        assignment = await self.assignments.visible(context, assignment_id)
        user_id = context.principal.user_id
        if idempotency_key is not None:
            replay = await self._replay(assignment, user_id, idempotency_key, body.answers)
            if replay is not None:
                return replay
        now = utcnow()
        if assignment.start_date is not None and now < assignment.start_date:
            raise AssignmentNotOpen(details={"start_date": assignment.start_date.isoformat()})
        late = assignment.due_date is not None and now > assignment.due_date
        if late and assignment.late_penalty_percent <= 0:
            raise AssignmentClosed
        questions = await self.assignment_rows.questions(assignment.id)
        graded = grade(
            [Gradable(q.id, q.type, q.correct_answer, q.tolerance, q.points) for q in questions],
            body.answers,
        )
        score = sum(g.points for g in graded)
        if late:
            score = apply_penalty(score, assignment.late_penalty_percent)
        for _ in range(_INSERT_RETRIES):
            used = await self.submissions.attempts(assignment.id, user_id)
            if assignment.max_attempts is not None and used >= assignment.max_attempts:
                raise MaxAttemptsReached(details={"max_attempts": assignment.max_attempts})
            submission = Submission(
                assignment_id=assignment.id,
                user_id=user_id,
                attempt=used + 1,
                answers=body.answers,
                results=[
                    {"question_id": g.question_id, "correct": g.correct, "points": g.points}
                    for g in graded
                ],
                score=score,
                max_score=sum(q.points for q in questions),
                status=SubmissionStatus.LATE if late else SubmissionStatus.SUBMITTED,
                submitted_at=now,
                idempotency_key=idempotency_key,
            )
            if await self.submissions.try_add(submission):
                # A first submission completes the assignment (progress items).
                await self.rollups.refresh_students(context.course.id, [user_id])
                self.cache.progress_changed(context.course.id, user_id)
                reveal = results_revealed(assignment, now)
                return Submitted(submission_out(submission, reveal=reveal), replayed=False)
            if idempotency_key is not None:
                # A concurrent request with the same key won: answer as it did.
                replay = await self._replay(assignment, user_id, idempotency_key, body.answers)
                if replay is not None:
                    return replay
        raise ServiceUnavailable("Too many concurrent submissions; retry shortly")

    async def _replay(
        self, assignment: Assignment, user_id: int, key: str, answers: dict[str, Any]
    ) -> Submitted | None:
        existing = await self.submissions.by_key(assignment.id, user_id, key)
        if existing is None:
            return None
        if existing.answers != answers:
            raise IdempotencyKeyReused
        reveal = results_revealed(assignment, utcnow())
        return Submitted(submission_out(existing, reveal=reveal), replayed=True)

    async def page(
        self, context: CourseContext, assignment_id: int, page: PageParams, user_id: int | None
    ) -> tuple[list[SubmissionOut], int]:
        assignment = await self.assignments.visible(context, assignment_id)
        staff = context.sees_drafts
        owner = user_id if staff else context.principal.user_id
        rows, total = await self.submissions.page(assignment.id, page, user_id=owner)
        reveal = staff or results_revealed(assignment, utcnow())
        return [submission_out(s, reveal=reveal) for s in rows], total

    async def answer_key(self, context: CourseContext, assignment_id: int) -> AnswerKey:
        assignment = await self.assignments.visible(context, assignment_id)
        if not context.sees_drafts:
            if assignment.type is AssignmentType.PRACTICE:
                allowed = await self.submissions.has_submitted(
                    assignment.id, context.principal.user_id
                )
            else:
                allowed = assignment.due_date is not None and utcnow() > assignment.due_date
            if not allowed:
                raise AnswersNotAvailable
        questions = await self.assignment_rows.questions(assignment.id)
        return AnswerKey(
            assignment_id=assignment.id,
            answers=[
                AnswerOut(
                    question_id=q.id,
                    type=q.type,
                    options=q.options,
                    correct_answer=q.correct_answer,
                    tolerance=q.tolerance,
                    explanation=q.explanation,
                    points=q.points,
                )
                for q in questions
            ],
        )
