"""Who may do what with a course (DESIGN.md §7), decided in one place.

Resource dependencies load the course together with the caller's enrollment in one query, then
apply one rule (`access_level`): an object the caller may not see is a 404 (ids do not leak); a
visible object the caller's role may not use is a 403.

Writers get a `CourseContext` (the ORM row, in the request's transaction); hot reads get a
`CourseView` from `courses.reader`, under the same rule.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Annotated

from fastapi import Depends, Path

from studyhub.auth.dependencies import CurrentUser
from studyhub.auth.service import Principal
from studyhub.core.db import SessionDep
from studyhub.courses.exceptions import (
    CourseNotFound,
    NotCourseStaff,
    NotCourseTeacher,
    NotEnrolled,
)
from studyhub.courses.models import Course, CourseStatus
from studyhub.courses.repository import CourseRepository, Membership
from studyhub.enrollments.models import CourseRole, EnrollmentStatus
from studyhub.users.models import UserRole


class Level(IntEnum):
    """What the caller needs, from least to most."""

    VIEW = 1  # the course page (catalog detail)
    CONTENT = 2  # weeks, lectures, files: enrolled students and staff
    STAFF = 3  # edit content: the course's teachers and TAs
    TEACHER = 4  # manage the course itself: its teachers


STAFF_ROLES = (CourseRole.TEACHER, CourseRole.TA)


def role_in_course(membership: Membership | None) -> CourseRole | None:
    """A member keeps their course role until their enrollment is dropped."""
    if membership is None or membership.status is EnrollmentStatus.DROPPED:
        return None
    return membership.role


def access_level(*, is_admin: bool, my_role: CourseRole | None, status: CourseStatus) -> int:
    if is_admin or my_role is CourseRole.TEACHER:
        return Level.TEACHER
    if my_role is CourseRole.TA:
        return Level.STAFF
    if my_role is CourseRole.STUDENT and status is not CourseStatus.DRAFT:
        return Level.CONTENT
    if status is CourseStatus.PUBLISHED:
        return Level.VIEW
    return 0


def check_level(level: int, needed: Level) -> None:
    """404 for a course the caller may not see, 403 for one they may see but not use so."""
    if level < Level.VIEW:
        raise CourseNotFound
    if level < needed:
        if needed is Level.CONTENT:
            raise NotEnrolled
        raise NotCourseTeacher if needed is Level.TEACHER else NotCourseStaff


@dataclass(frozen=True, slots=True)
class CourseContext:
    course: Course
    principal: Principal
    membership: Membership | None
    instructor_name: str | None = None  # as loaded with the course

    @property
    def is_admin(self) -> bool:
        return self.principal.role is UserRole.ADMIN

    @property
    def my_role(self) -> CourseRole | None:
        return role_in_course(self.membership)

    @property
    def is_staff(self) -> bool:
        return self.is_admin or self.my_role in (CourseRole.TEACHER, CourseRole.TA)

    @property
    def is_teacher(self) -> bool:
        return self.is_admin or self.my_role is CourseRole.TEACHER

    @property
    def sees_drafts(self) -> bool:
        """Staff see unpublished weeks and items; students never do."""
        return self.is_staff

    def level(self) -> int:
        return access_level(is_admin=self.is_admin, my_role=self.my_role, status=self.course.status)


async def load_course_context(
    repository: CourseRepository, principal: Principal, course_id: int, needed: Level
) -> CourseContext:
    found = await repository.get_for_viewer(course_id, principal.user_id)
    if found is None:
        raise CourseNotFound
    context = CourseContext(found.course, principal, found.membership, found.instructor_name)
    check_level(context.level(), needed)
    return context


def _requires(needed: Level) -> Callable[..., Awaitable[CourseContext]]:
    async def dependency(
        course_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
        principal: CurrentUser,
        session: SessionDep,
    ) -> CourseContext:
        return await load_course_context(CourseRepository(session), principal, course_id, needed)

    return dependency


CourseDep = Annotated[CourseContext, Depends(_requires(Level.VIEW))]
EnrolledCourseDep = Annotated[CourseContext, Depends(_requires(Level.CONTENT))]
StaffCourseDep = Annotated[CourseContext, Depends(_requires(Level.STAFF))]
TeacherCourseDep = Annotated[CourseContext, Depends(_requires(Level.TEACHER))]
