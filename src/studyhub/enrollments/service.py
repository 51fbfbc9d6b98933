"""Enrollment rules (API.md §5): who may join a course, seats, roles, and the teacher invariant.

`courses.enrollment_count` is the number of ACTIVE STUDENTS. Every transition changes it by the
difference of "counts as a seat" before and after, through the atomic seat statements of the
repository, so the counter stays exact and capacity holds under concurrent requests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from studyhub.auth.service import Principal
from studyhub.core.errors import AppError, ValidationFailed, validation_details
from studyhub.core.pagination import PageParams
from studyhub.courses.access import CourseContext
from studyhub.courses.cache import CourseCache
from studyhub.courses.exceptions import CourseNotFound
from studyhub.courses.models import Course, CourseStatus, EnrollmentType
from studyhub.courses.repository import CourseRepository
from studyhub.courses.views import summary_of
from studyhub.enrollments.exceptions import (
    AlreadyEnrolled,
    CourseFull,
    EnrollmentClosed,
    EnrollmentNotFound,
    LastTeacher,
    NotEnrolledHere,
    StaffMayNotSelfDrop,
    StudentsOnly,
    TaAddsStudentsOnly,
    UserNotFound,
)
from studyhub.enrollments.models import CourseRole, Enrollment, EnrollmentStatus
from studyhub.enrollments.repository import EnrollmentRepository, FoundUsers, RosterQuery
from studyhub.enrollments.schemas import (
    EnrollmentCreate,
    EnrollmentOut,
    EnrollmentUpdate,
    EnrollmentUser,
    MyCourse,
    Progress,
)
from studyhub.progress.reader import ProgressReader
from studyhub.users.models import User, UserRole


def enrollment_out(enrollment: Enrollment, user: User) -> EnrollmentOut:
    return EnrollmentOut(
        course_id=enrollment.course_id,
        user=EnrollmentUser(
            id=user.id,
            username=user.username,
            first_name=user.first_name,
            last_name=user.last_name,
            email=user.email,
        ),
        role=enrollment.role,
        status=enrollment.status,
        enrolled_at=enrollment.enrolled_at,
    )


def _takes_seat(role: CourseRole, status: EnrollmentStatus) -> bool:
    return role is CourseRole.STUDENT and status is EnrollmentStatus.ACTIVE


def _teaches(role: CourseRole, status: EnrollmentStatus) -> bool:
    # Mirrors access: a member whose enrollment is not dropped keeps their course role.
    return role is CourseRole.TEACHER and status is not EnrollmentStatus.DROPPED


@dataclass(frozen=True, slots=True)
class RowOutcome:
    index: int
    user_id: int | None = None
    error: AppError | None = None


@dataclass(frozen=True, slots=True)
class RosterPage:
    enrollments: list[EnrollmentOut]
    total: int


class EnrollmentService:
    def __init__(
        self,
        enrollments: EnrollmentRepository,
        courses: CourseRepository,
        progress: ProgressReader,
        cache: CourseCache,
    ) -> None:
        self.enrollments = enrollments
        self.courses = courses
        self.progress = progress
        self.cache = cache  # cached memberships and enrollment counts

    # -- the student's own enrollment --------------------------------------------------------

    async def enroll_self(self, principal: Principal, course_id: int) -> EnrollmentOut:
        if principal.role is not UserRole.STUDENT:
            raise StudentsOnly
        context = await self._context(principal, course_id)
        course = context.course
        if course.status is CourseStatus.DRAFT and not context.is_staff:
            raise CourseNotFound
        if context.my_role is not None:
            raise AlreadyEnrolled
        _check_open(course)
        enrollment = await self._admit(course.id, principal.user_id, CourseRole.STUDENT)
        return await self._out(enrollment)

    async def drop_self(self, principal: Principal, course_id: int) -> None:
        context = await self._context(principal, course_id)
        await self.enrollments.lock_course(course_id)
        enrollment = await self.enrollments.get(course_id, principal.user_id)
        if enrollment is None or enrollment.status is EnrollmentStatus.DROPPED:
            raise NotEnrolledHere
        if enrollment.role is not CourseRole.STUDENT:
            raise StaffMayNotSelfDrop
        await self._change(context.course.id, enrollment, enrollment.role, EnrollmentStatus.DROPPED)

    async def _context(self, principal: Principal, course_id: int) -> CourseContext:
        found = await self.courses.get_for_viewer(course_id, principal.user_id)
        if found is None:
            raise CourseNotFound
        return CourseContext(found.course, principal, found.membership, found.instructor_name)

    # -- staff management --------------------------------------------------------------------

    async def roster(
        self,
        context: CourseContext,
        page: PageParams,
        *,
        role: CourseRole | None,
        status: EnrollmentStatus | None,
        search: str | None,
    ) -> RosterPage:
        rows, total = await self.enrollments.roster(
            context.course.id, RosterQuery(role, status, search), page
        )
        return RosterPage([enrollment_out(e, u) for e, u in rows], total)

    async def add(self, context: CourseContext, body: EnrollmentCreate) -> EnrollmentOut:
        if body.role is not CourseRole.STUDENT and not context.is_teacher:
            raise TaAddsStudentsOnly
        course_id = context.course.id
        found = await self.enrollments.find_users(*_keys([body]))
        user = _resolve(found, body)
        # Checked before the seat too, so that a member of a full course hears ALREADY_ENROLLED.
        _refuse_member(await self.enrollments.get(course_id, user.id))
        enrollment = await self._admit(course_id, user.id, body.role)
        return enrollment_out(enrollment, user)

    async def add_many(self, context: CourseContext, rows: Sequence[Any]) -> list[RowOutcome]:
        """Each row validated and applied on its own; one bad row never sinks the others.

        The course is locked once up front, so the memberships read here stay authoritative
        while the rows are applied (each row still takes its seat with the atomic statement)."""
        outcomes: dict[int, RowOutcome] = {}
        bodies: list[tuple[int, EnrollmentCreate]] = []
        for index, row in enumerate(rows):
            try:
                bodies.append((index, EnrollmentCreate.model_validate(row)))
            except ValidationError as exc:
                error = ValidationFailed(details=validation_details(exc.errors()))
                outcomes[index] = RowOutcome(index, error=error)
        course_id = context.course.id
        found = await self.enrollments.find_users(*_keys([body for _, body in bodies]))
        await self.enrollments.lock_course(course_id)
        users: dict[int, User] = {}
        for index, body in bodies:
            try:
                users[index] = _resolve(found, body)
            except UserNotFound as exc:
                outcomes[index] = RowOutcome(index, error=exc)
        members = await self.enrollments.for_users(course_id, {u.id for u in users.values()})
        for index, body in bodies:
            if index not in users:
                continue
            user_id = users[index].id
            try:
                members[user_id] = await self._admit(course_id, user_id, body.role, members)
            except AppError as exc:
                outcomes[index] = RowOutcome(index, user_id, exc)
            else:
                outcomes[index] = RowOutcome(index, user_id)
        return [outcomes[index] for index in range(len(rows))]

    async def update(
        self, context: CourseContext, user_id: int, body: EnrollmentUpdate
    ) -> EnrollmentOut:
        course_id = context.course.id
        await self.enrollments.lock_course(course_id)
        enrollment = await self.enrollments.get(course_id, user_id)
        if enrollment is None:
            raise EnrollmentNotFound
        role = enrollment.role if body.role is None else body.role
        status = enrollment.status if body.status is None else body.status
        await self._change(course_id, enrollment, role, status)
        return await self._out(enrollment)

    async def remove(self, context: CourseContext, user_id: int) -> None:
        course_id = context.course.id
        await self.enrollments.lock_course(course_id)
        enrollment = await self.enrollments.get(course_id, user_id)
        if enrollment is None:
            raise EnrollmentNotFound
        await self._change(course_id, enrollment, enrollment.role, EnrollmentStatus.DROPPED)

    # -- the caller's courses ----------------------------------------------------------------

    async def my_courses(
        self, principal: Principal, *, role: CourseRole | None, status: EnrollmentStatus | None
    ) -> list[MyCourse]:
        rows = await self.enrollments.member_courses(principal.user_id, role, status)
        # One query for every listed course's progress.
        summaries = await self.progress.course_summaries(
            principal.user_id, [row.course.id for row in rows]
        )
        return [
            MyCourse(
                **summary_of(row.course, row.instructor_name).model_dump(),
                my_role=row.role,
                enrollment_status=row.status,
                progress=Progress(
                    completed_items=summaries[row.course.id][0],
                    total_items=summaries[row.course.id][1],
                    percentage=summaries[row.course.id][2],
                ),
            )
            for row in rows
        ]

    # -- transitions (the caller holds the course lock) --------------------------------------

    async def _admit(
        self,
        course_id: int,
        user_id: int,
        role: CourseRole,
        members: dict[int, Enrollment] | None = None,
    ) -> Enrollment:
        """Add a member, or reactivate their dropped enrollment.

        A student first takes a seat with the one atomic UPDATE, which also holds the course row
        until commit; staff take the course lock instead. Either way the membership read after
        it is authoritative. `members` is given when the caller already holds the lock and has
        read them."""
        if members is not None:
            _refuse_member(members.get(user_id))
        self.cache.members_changed(course_id)  # bumped only if this transaction commits
        seat = _takes_seat(role, EnrollmentStatus.ACTIVE)
        if seat:
            if not await self.enrollments.take_seat(course_id):
                raise CourseFull
        elif members is None:
            await self.enrollments.lock_course(course_id)
        try:
            existing = (
                members.get(user_id)
                if members is not None
                else await self.enrollments.get(course_id, user_id)
            )
            _refuse_member(existing)
            if existing is not None:
                # Re-enrolling reactivates the same row: history (and later progress) is kept.
                return await self.enrollments.set_state(
                    existing, role, EnrollmentStatus.ACTIVE, rejoined=True
                )
            # A concurrent insert that slipped past the read still ends here, as a 409.
            return await self.enrollments.insert(course_id, user_id, role)
        except AlreadyEnrolled:
            if seat:
                await self.enrollments.release_seat(course_id)
            raise

    async def _change(
        self,
        course_id: int,
        enrollment: Enrollment,
        role: CourseRole,
        status: EnrollmentStatus,
    ) -> None:
        before, after = (enrollment.role, enrollment.status), (role, status)
        if before == after:
            return
        self.cache.members_changed(course_id)
        if (
            _teaches(*before)
            and not _teaches(*after)
            and await self.enrollments.other_teachers(course_id, enrollment.user_id) == 0
        ):
            raise LastTeacher
        delta = int(_takes_seat(*after)) - int(_takes_seat(*before))
        if delta > 0 and not await self.enrollments.take_seat(course_id):
            raise CourseFull
        if delta < 0:
            await self.enrollments.release_seat(course_id)
        await self.enrollments.set_state(enrollment, role, status)

    async def _out(self, enrollment: Enrollment) -> EnrollmentOut:
        user = await self.enrollments.user(enrollment.user_id)
        if user is None:  # deleted in between: the row cascades away with it
            raise EnrollmentNotFound
        return enrollment_out(enrollment, user)


def _refuse_member(enrollment: Enrollment | None) -> None:
    if enrollment is not None and enrollment.status is not EnrollmentStatus.DROPPED:
        raise AlreadyEnrolled


def _check_open(course: Course) -> None:
    today = datetime.now(UTC).date()
    if course.enrollment_type is EnrollmentType.CLOSED:
        raise EnrollmentClosed(details={"reason": "closed"})
    if course.status is CourseStatus.ARCHIVED:
        raise EnrollmentClosed(details={"reason": "archived"})
    if course.end_date is not None and course.end_date < today:
        raise EnrollmentClosed(details={"reason": "ended"})


def _keys(bodies: Sequence[EnrollmentCreate]) -> tuple[set[int], set[str], set[str]]:
    ids = {b.user_id for b in bodies if b.user_id is not None}
    usernames = {b.username.lower() for b in bodies if b.username is not None}
    emails = {b.email.lower() for b in bodies if b.email is not None}
    return ids, usernames, emails


def _resolve(found: FoundUsers, body: EnrollmentCreate) -> User:
    if body.user_id is not None:
        user = found.by_id.get(body.user_id)
    elif body.username is not None:
        user = found.by_username.get(body.username.lower())
    else:
        user = found.by_email.get((body.email or "").lower())
    if user is None:
        raise UserNotFound
    return user
