from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from studyhub.assignments.questions import QuestionService
from studyhub.assignments.repository import (
    AssignmentRepository,
    QuestionRepository,
    SubmissionRepository,
)
from studyhub.assignments.service import AssignmentService
from studyhub.assignments.submissions import SubmissionService
from studyhub.core.db import SessionDep
from studyhub.courses.access import CourseContext, EnrolledCourseDep
from studyhub.courses.cache import CourseCache
from studyhub.courses.repository import LectureRepository, WeekRepository
from studyhub.progress.rollups import RollupRepository


async def get_question_service(request: Request, session: SessionDep) -> QuestionService:
    return QuestionService(
        QuestionRepository(session),
        WeekRepository(session),
        LectureRepository(session),
        CourseCache(request.app.state.course_cache, session),
    )


async def get_assignment_service(request: Request, session: SessionDep) -> AssignmentService:
    return AssignmentService(
        AssignmentRepository(session),
        QuestionRepository(session),
        SubmissionRepository(session),
        WeekRepository(session),
        CourseCache(request.app.state.course_cache, session),
        RollupRepository(session),
    )


async def get_submission_service(
    request: Request,
    session: SessionDep,
    assignments: Annotated[AssignmentService, Depends(get_assignment_service)],
) -> SubmissionService:
    return SubmissionService(
        assignments,
        AssignmentRepository(session),
        SubmissionRepository(session),
        RollupRepository(session),
        CourseCache(request.app.state.course_cache, session),
    )


async def require_student(context: EnrolledCourseDep) -> CourseContext:
    """The course's active students only (checked before the body, so staff get 403)."""
    SubmissionService.require_active_student(context)
    return context


StudentCourseDep = Annotated[CourseContext, Depends(require_student)]
QuestionServiceDep = Annotated[QuestionService, Depends(get_question_service)]
AssignmentServiceDep = Annotated[AssignmentService, Depends(get_assignment_service)]
SubmissionServiceDep = Annotated[SubmissionService, Depends(get_submission_service)]
