from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from studyhub.assignments.repository import AssignmentRepository
from studyhub.core.db import SessionDep
from studyhub.courses.cache import CourseCache
from studyhub.courses.content import ContentService
from studyhub.courses.repository import CourseRepository, LectureRepository, WeekRepository
from studyhub.courses.service import CourseService
from studyhub.enrollments.repository import EnrollmentRepository
from studyhub.outbox.repository import OutboxRepository
from studyhub.progress.rollups import RollupRepository


async def get_course_service(request: Request, session: SessionDep) -> CourseService:
    return CourseService(
        session,
        CourseRepository(session),
        EnrollmentRepository(session),
        CourseCache(request.app.state.course_cache, session),
    )


async def get_content_service(request: Request, session: SessionDep) -> ContentService:
    return ContentService(
        WeekRepository(session),
        LectureRepository(session),
        AssignmentRepository(session),
        CourseCache(request.app.state.course_cache, session),
        request.app.state.files,
        OutboxRepository(session),
        RollupRepository(session),
    )


CourseServiceDep = Annotated[CourseService, Depends(get_course_service)]
ContentServiceDep = Annotated[ContentService, Depends(get_content_service)]
