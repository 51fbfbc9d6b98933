from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from studyhub.core.db import SessionDep
from studyhub.courses.access import CourseContext, EnrolledCourseDep
from studyhub.courses.cache import CourseCache
from studyhub.enrollments.models import CourseRole, EnrollmentStatus
from studyhub.progress.exceptions import NotStudent
from studyhub.progress.repository import ProgressRepository
from studyhub.progress.rollups import RollupRepository
from studyhub.progress.service import ProgressService
from studyhub.progress.staff_repository import StaffProgressRepository
from studyhub.progress.staff_service import StaffProgressService


def _progress_service(request: Request, session: AsyncSession) -> ProgressService:
    cache = CourseCache(request.app.state.course_cache, session)
    return ProgressService(ProgressRepository(session), RollupRepository(session), cache)


async def get_progress_service(request: Request, session: SessionDep) -> ProgressService:
    return _progress_service(request, session)


async def get_staff_progress_service(request: Request, session: SessionDep) -> StaffProgressService:
    return StaffProgressService(
        StaffProgressRepository(session), _progress_service(request, session)
    )


async def active_student(context: EnrolledCourseDep) -> CourseContext:
    """The caller studies this course: an active student enrollment (staff and admins do not
    record progress)."""
    member = context.membership
    if (
        member is None
        or member.role is not CourseRole.STUDENT
        or member.status is not EnrollmentStatus.ACTIVE
    ):
        raise NotStudent
    return context


ProgressServiceDep = Annotated[ProgressService, Depends(get_progress_service)]
StaffProgressServiceDep = Annotated[StaffProgressService, Depends(get_staff_progress_service)]
StudentCourseDep = Annotated[CourseContext, Depends(active_student)]
