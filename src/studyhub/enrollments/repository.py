"""SQL for enrollments, including the seat counter on `courses`.

Lock order, so concurrent writers never deadlock on PostgreSQL: every enrollment write first takes
the course row (`lock_course` or a seat UPDATE), then reads and writes enrollment rows. On SQLite
write requests already run one at a time (`BEGIN IMMEDIATE`), where row locks are no-ops.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from studyhub.core.db import guarded_write, utcnow
from studyhub.core.errors import AppError
from studyhub.core.pagination import PageParams
from studyhub.courses.models import Course, CourseStatus
from studyhub.courses.repository import STAFF_ROLES, display_name, escape_like
from studyhub.enrollments.exceptions import AlreadyEnrolled
from studyhub.enrollments.models import CourseRole, Enrollment, EnrollmentStatus
from studyhub.users.models import User


@dataclass(frozen=True, slots=True)
class RosterQuery:
    role: CourseRole | None
    status: EnrollmentStatus | None
    search: str | None


@dataclass(frozen=True, slots=True)
class MemberCourse:
    course: Course
    instructor_name: str | None
    role: CourseRole
    status: EnrollmentStatus


@dataclass(frozen=True, slots=True)
class FoundUsers:
    by_id: dict[int, User]
    by_username: dict[str, User]
    by_email: dict[str, User]


class EnrollmentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, enrollment: Enrollment) -> Enrollment:
        self.session.add(enrollment)
        await self.session.flush()
        return enrollment

    # -- seats and locks ---------------------------------------------------------------------

    async def lock_course(self, course_id: int) -> None:
        """Serialise enrollment writes of one course (FOR NO KEY UPDATE: content inserts, which
        only need a key-share lock for their foreign key, are not blocked)."""
        await self.session.execute(
            select(Course.id).where(Course.id == course_id).with_for_update(key_share=True)
        )

    async def take_seat(self, course_id: int) -> bool:
        """One atomic statement: check and take a seat, so capacity holds under any concurrency
        (on PostgreSQL the row lock makes a waiting UPDATE re-check the condition)."""
        result = await self.session.execute(
            update(Course)
            .where(
                Course.id == course_id,
                or_(
                    Course.max_students.is_(None),
                    Course.enrollment_count < Course.max_students,
                ),
            )
            .values(enrollment_count=Course.enrollment_count + 1)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def release_seat(self, course_id: int) -> None:
        await self.session.execute(
            update(Course)
            .where(Course.id == course_id, Course.enrollment_count > 0)
            .values(enrollment_count=Course.enrollment_count - 1)
            .execution_options(synchronize_session=False)
        )

    async def seat_count(self, course_id: int) -> int:
        count = await self.session.scalar(
            select(Course.enrollment_count).where(Course.id == course_id)
        )
        return int(count or 0)

    # -- single rows -------------------------------------------------------------------------

    async def get(self, course_id: int, user_id: int) -> Enrollment | None:
        """The row as committed now (read after the course lock, so it is authoritative)."""
        return (
            await self.session.execute(
                select(Enrollment)
                .where(Enrollment.course_id == course_id, Enrollment.user_id == user_id)
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()

    async def for_users(self, course_id: int, user_ids: Collection[int]) -> dict[int, Enrollment]:
        if not user_ids:
            return {}
        rows = await self.session.execute(
            select(Enrollment)
            .where(Enrollment.course_id == course_id, Enrollment.user_id.in_(user_ids))
            .execution_options(populate_existing=True)
        )
        return {row.user_id: row for row in rows.scalars()}

    async def insert(self, course_id: int, user_id: int, role: CourseRole) -> Enrollment:
        enrollment = Enrollment(
            course_id=course_id, user_id=user_id, role=role, status=EnrollmentStatus.ACTIVE
        )
        # A concurrent insert of the same (user, course) becomes the same 409 as the check.
        await guarded_write(self.session, lambda: self.session.add(enrollment), _already_enrolled)
        return enrollment

    async def set_state(
        self,
        enrollment: Enrollment,
        role: CourseRole,
        status: EnrollmentStatus,
        *,
        rejoined: bool = False,
    ) -> Enrollment:
        enrollment.role = role
        enrollment.status = status
        if rejoined:
            enrollment.enrolled_at = utcnow()
        await self.session.flush()
        return enrollment

    async def other_teachers(self, course_id: int, user_id: int) -> int:
        """Teachers of the course besides `user_id` (a dropped teacher no longer counts)."""
        count = await self.session.scalar(
            select(func.count())
            .select_from(Enrollment)
            .where(
                Enrollment.course_id == course_id,
                Enrollment.user_id != user_id,
                Enrollment.role == CourseRole.TEACHER,
                Enrollment.status != EnrollmentStatus.DROPPED,
            )
        )
        return int(count or 0)

    # -- users -------------------------------------------------------------------------------

    async def find_users(
        self, ids: Collection[int], usernames: Collection[str], emails: Collection[str]
    ) -> FoundUsers:
        """Users named by id, username or email: at most three queries for any number of rows."""
        found = FoundUsers({}, {}, {})
        if ids:
            for user in (
                await self.session.execute(select(User).where(User.id.in_(ids)))
            ).scalars():
                found.by_id[user.id] = user
        if usernames:
            stmt = select(User).where(User.username.in_(usernames))
            for user in (await self.session.execute(stmt)).scalars():
                found.by_username[user.username] = user
        if emails:
            stmt = select(User).where(User.email.in_(emails))
            for user in (await self.session.execute(stmt)).scalars():
                found.by_email[user.email] = user
        return found

    async def user(self, user_id: int) -> User | None:
        return await self.session.get(User, user_id)

    # -- lists -------------------------------------------------------------------------------

    def _roster_filter(self, course_id: int, query: RosterQuery) -> ColumnElement[bool]:
        conditions: list[ColumnElement[bool]] = [Enrollment.course_id == course_id]
        if query.role is not None:
            conditions.append(Enrollment.role == query.role)
        if query.status is not None:
            conditions.append(Enrollment.status == query.status)
        if query.search:
            pattern = f"%{escape_like(query.search.lower())}%"
            conditions.append(
                or_(
                    *(
                        func.lower(column).like(pattern, escape="\\")
                        for column in (User.username, User.email, User.first_name, User.last_name)
                    )
                )
            )
        return and_(*conditions)

    async def roster(
        self, course_id: int, query: RosterQuery, page: PageParams
    ) -> tuple[list[tuple[Enrollment, User]], int]:
        """One count query and one page query, each joined with users (no per-row lookups)."""
        where = self._roster_filter(course_id, query)
        joined = (
            select(func.count()).select_from(Enrollment).join(User, User.id == Enrollment.user_id)
        )
        total = await self.session.scalar(joined.where(where))
        stmt = (
            select(Enrollment, User)
            .join(User, User.id == Enrollment.user_id)
            .where(where)
            .order_by(User.username, Enrollment.id)
            .offset(page.offset)
            .limit(page.limit)
        )
        rows = (await self.session.execute(stmt)).all()
        return list(rows), int(total or 0)

    async def member_courses(
        self, user_id: int, role: CourseRole | None, status: EnrollmentStatus | None
    ) -> list[MemberCourse]:
        conditions: list[ColumnElement[bool]] = [
            Enrollment.user_id == user_id,
            # Students never see a draft course (the same rule as the course page).
            or_(Enrollment.role.in_(STAFF_ROLES), Course.status != CourseStatus.DRAFT),
        ]
        if status is None:
            conditions.append(Enrollment.status != EnrollmentStatus.DROPPED)
        else:
            conditions.append(Enrollment.status == status)
        if role is not None:
            conditions.append(Enrollment.role == role)
        stmt = (
            select(Course, User, Enrollment.role, Enrollment.status)
            .join(Enrollment, Enrollment.course_id == Course.id)
            .outerjoin(User, User.id == Course.instructor_id)
            .where(*conditions)
            .order_by(Course.code, Course.id)
        )
        rows = (await self.session.execute(stmt)).all()
        return [
            MemberCourse(course, display_name(instructor), member_role, member_status)
            for course, instructor, member_role, member_status in rows
        ]


def _already_enrolled(_: IntegrityError) -> AppError:
    return AlreadyEnrolled()
