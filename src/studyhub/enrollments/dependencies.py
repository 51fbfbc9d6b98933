from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from studyhub.core.db import SessionDep
from studyhub.courses.cache import CourseCache
from studyhub.courses.repository import CourseRepository
from studyhub.enrollments.repository import EnrollmentRepository
from studyhub.enrollments.service import EnrollmentService
from studyhub.progress.reader import ProgressReader


async def get_enrollment_service(request: Request, session: SessionDep) -> EnrollmentService:
    return EnrollmentService(
        EnrollmentRepository(session),
        CourseRepository(session),
        ProgressReader(session),
        CourseCache(request.app.state.course_cache, session),
    )


EnrollmentServiceDep = Annotated[EnrollmentService, Depends(get_enrollment_service)]
