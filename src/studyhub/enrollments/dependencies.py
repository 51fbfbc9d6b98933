from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from studyhub.core.db import SessionDep
from studyhub.courses.repository import CourseRepository
from studyhub.enrollments.repository import EnrollmentRepository
from studyhub.enrollments.service import EnrollmentService
from studyhub.progress.reader import ProgressReader


async def get_enrollment_service(session: SessionDep) -> EnrollmentService:
    return EnrollmentService(
        EnrollmentRepository(session), CourseRepository(session), ProgressReader(session)
    )


EnrollmentServiceDep = Annotated[EnrollmentService, Depends(get_enrollment_service)]
