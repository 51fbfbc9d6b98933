"""SQL for courses, weeks and lectures. Every nested object is looked up through its course."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Row, Select, and_, bindparam, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from studyhub.core.db import guarded_write
from studyhub.core.errors import AppError
from studyhub.core.pagination import PageParams
from studyhub.courses.exceptions import CourseCodeTaken, LectureNumberTaken, WeekNumberTaken
from studyhub.courses.models import ContentType, Course, CourseStatus, Lecture, Week
from studyhub.enrollments.models import CourseRole, Enrollment, EnrollmentStatus
from studyhub.users.models import User

STAFF_ROLES = (CourseRole.TEACHER, CourseRole.TA)
COURSE_SORTS = {
    "code": Course.code,
    "name": Course.name,
    "created_at": Course.created_at,
    "start_date": Course.start_date,
    "enrollment_count": Course.enrollment_count,
}


@dataclass(frozen=True, slots=True)
class Membership:
    role: CourseRole
    status: EnrollmentStatus


@dataclass(frozen=True, slots=True)
class CourseRow:
    course: Course
    instructor_name: str | None


@dataclass(frozen=True, slots=True)
class CatalogQuery:
    viewer_id: int
    is_admin: bool
    search: str | None
    status: CourseStatus | None
    mine: bool
    sort: str


@dataclass(frozen=True, slots=True)
class Viewed:
    course: Course
    membership: Membership | None
    instructor_name: str | None


INSTRUCTOR = aliased(User, name="instructor")


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def display_name(user: User | None) -> str | None:
    if user is None:
        return None
    full = f"{user.first_name} {user.last_name}".strip()
    return full or user.username


_SUMMARY_COLUMNS = (
    Lecture.id,
    Lecture.week_id,
    Lecture.number,
    Lecture.title,
    Lecture.content_type,
    Lecture.is_published,
    Lecture.duration_seconds,
)


LectureSummaryRow = Row[int, int, int, str, ContentType, bool, int | None]


# Statements of the hottest reads, built once (building one costs more than running it on
# SQLite) and bound per call.
@functools.cache
def _viewer_statement() -> Select[Course, CourseRole, EnrollmentStatus, str, str, str]:
    return (
        select(
            Course,
            Enrollment.role,
            Enrollment.status,
            INSTRUCTOR.first_name,
            INSTRUCTOR.last_name,
            INSTRUCTOR.username,
        )
        .outerjoin(
            Enrollment,
            and_(Enrollment.course_id == Course.id, Enrollment.user_id == bindparam("user_id")),
        )
        .outerjoin(INSTRUCTOR, INSTRUCTOR.id == Course.instructor_id)
        .where(Course.id == bindparam("course_id"))
    )


@functools.cache
def _weeks_statement(*, published_only: bool) -> Select[Week]:
    stmt = select(Week).where(Week.course_id == bindparam("course_id"))
    if published_only:
        stmt = stmt.where(Week.is_published.is_(True))
    return stmt.order_by(Week.number, Week.id)


@functools.cache
def _summaries_statement(
    *, published_only: bool
) -> Select[int, int, int, str, ContentType, bool, int | None]:
    stmt = select(*_SUMMARY_COLUMNS).where(
        Lecture.week_id.in_(bindparam("week_ids", expanding=True))
    )
    if published_only:
        stmt = stmt.where(Lecture.is_published.is_(True))
    return stmt.order_by(Lecture.week_id, Lecture.number, Lecture.id)


class CourseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_for_viewer(self, course_id: int, user_id: int) -> Viewed | None:
        """The course, the caller's enrollment in it and the instructor's name, in one query
        (every course-scoped request starts here)."""
        params = {"course_id": course_id, "user_id": user_id}
        row = (await self.session.execute(_viewer_statement(), params)).first()
        if row is None:
            return None
        course, role, status, first, last, username = row
        name = (f"{first} {last}".strip() or username) if username is not None else None
        return Viewed(course, Membership(role, status) if role is not None else None, name)

    async def ids_instructed_by(self, user_id: int) -> list[int]:
        return list(
            await self.session.scalars(select(Course.id).where(Course.instructor_id == user_id))
        )

    async def exists(self, course_id: int) -> bool:
        found = await self.session.scalar(select(Course.id).where(Course.id == course_id))
        return found is not None

    async def lock(self, course: Course) -> Course:
        """Re-read the row under a write lock (PostgreSQL `FOR UPDATE`; SQLite write transactions
        hold the database lock already), so an If-Match comparison sees the stored version."""
        await self.session.execute(
            select(Course)
            .where(Course.id == course.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return course

    async def instructor_name(self, course: Course) -> str | None:
        if course.instructor_id is None:
            return None
        return display_name(await self.session.get(User, course.instructor_id))

    def _catalog_filter(self, query: CatalogQuery) -> ColumnElement[bool]:
        member = select(Enrollment.course_id).where(Enrollment.user_id == query.viewer_id)
        staffed = member.where(Enrollment.role.in_(STAFF_ROLES))
        conditions: list[ColumnElement[bool]] = []
        if not query.is_admin:
            # Students see published courses; staff also their own drafts and archives.
            conditions.append(or_(Course.status == CourseStatus.PUBLISHED, Course.id.in_(staffed)))
        if query.status is not None:
            conditions.append(Course.status == query.status)
        elif not query.mine:
            conditions.append(Course.status != CourseStatus.ARCHIVED)  # archived leave the catalog
        if query.mine:
            active = member.where(Enrollment.status != EnrollmentStatus.DROPPED)
            conditions.append(or_(Course.id.in_(active), Course.instructor_id == query.viewer_id))
        if query.search:
            pattern = f"%{escape_like(query.search.lower())}%"
            conditions.append(
                or_(
                    func.lower(Course.code).like(pattern, escape="\\"),
                    func.lower(Course.name).like(pattern, escape="\\"),
                )
            )
        return and_(*conditions) if conditions else Course.id.is_not(None)

    async def catalog(self, query: CatalogQuery, page: PageParams) -> tuple[list[CourseRow], int]:
        where = self._catalog_filter(query)
        total = await self.session.scalar(select(func.count()).select_from(Course).where(where))
        descending = query.sort.startswith("-")
        column = COURSE_SORTS[query.sort.lstrip("-")]
        order = column.desc() if descending else column.asc()
        stmt = (
            select(Course, User)
            .outerjoin(User, User.id == Course.instructor_id)
            .where(where)
            .order_by(order, Course.id)
            .offset(page.offset)
            .limit(page.limit)
        )
        rows = (await self.session.execute(stmt)).all()
        return [CourseRow(course, display_name(user)) for course, user in rows], int(total or 0)

    async def add(self, course: Course) -> Course:
        await guarded_write(self.session, lambda: self.session.add(course), _code_taken)
        return course

    async def update(self, course: Course, changes: dict[str, object]) -> Course:
        def apply() -> None:
            for name, value in changes.items():
                setattr(course, name, value)

        await guarded_write(self.session, apply, _code_taken)
        return course

    async def readable_courses(self, user_id: int) -> dict[int, bool]:
        """The courses whose content the user may read (DESIGN.md §7), each with whether the user
        is staff there (staff also see unpublished weeks and lectures). Mirrors
        `CourseContext.level() >= Level.CONTENT`: staff of any course; students, active or
        completed, of published or archived ones. Admins read everything and never ask."""
        rows = await self.session.execute(
            select(Enrollment.course_id, Enrollment.role, Course.status)
            .join(Course, Course.id == Enrollment.course_id)
            .where(Enrollment.user_id == user_id, Enrollment.status != EnrollmentStatus.DROPPED)
        )
        readable: dict[int, bool] = {}
        for course_id, role, status in rows:
            if role in STAFF_ROLES:
                readable[course_id] = True
            elif status is not CourseStatus.DRAFT:
                readable[course_id] = False
        return readable

    async def code_exists(self, code: str, *, excluding: int | None = None) -> bool:
        stmt = select(Course.id).where(Course.code == code)
        if excluding is not None:
            stmt = stmt.where(Course.id != excluding)
        return (await self.session.scalar(stmt.limit(1))) is not None


class WeekRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def for_course(self, course_id: int, *, published_only: bool) -> list[Week]:
        stmt = _weeks_statement(published_only=published_only)
        return list((await self.session.execute(stmt, {"course_id": course_id})).scalars())

    async def get(self, course_id: int, week_id: int, *, lock: bool = False) -> Week | None:
        stmt = select(Week).where(Week.id == week_id, Week.course_id == course_id)
        if lock:
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def add(self, week: Week) -> Week:
        await guarded_write(self.session, lambda: self.session.add(week), _week_taken)
        return week

    async def update(self, week: Week, changes: dict[str, object]) -> Week:
        def apply() -> None:
            for name, value in changes.items():
                setattr(week, name, value)

        await guarded_write(self.session, apply, _week_taken)
        return week

    async def delete(self, week: Week) -> None:
        await self.session.execute(delete(Week).where(Week.id == week.id))


class LectureRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def for_weeks(self, week_ids: Sequence[int], *, published_only: bool) -> list[Lecture]:
        if not week_ids:
            return []
        stmt = (
            select(Lecture)
            .where(Lecture.week_id.in_(week_ids))
            .order_by(Lecture.week_id, Lecture.number, Lecture.id)
        )
        if published_only:
            stmt = stmt.where(Lecture.is_published.is_(True))
        return list((await self.session.execute(stmt)).scalars())

    async def summaries_for_weeks(
        self, week_ids: Sequence[int], *, published_only: bool
    ) -> Sequence[LectureSummaryRow]:
        """The outline's columns only: bodies and transcripts can be large, and an outline
        shows none of them."""
        if not week_ids:
            return []
        stmt = _summaries_statement(published_only=published_only)
        return (await self.session.execute(stmt, {"week_ids": list(week_ids)})).all()

    async def get(self, course_id: int, lecture_id: int, *, lock: bool = False) -> Lecture | None:
        stmt = select(Lecture).where(Lecture.id == lecture_id, Lecture.course_id == course_id)
        if lock:
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def next_number(self, week_id: int) -> int:
        current = await self.session.scalar(
            select(func.max(Lecture.number)).where(Lecture.week_id == week_id)
        )
        return int(current or 0) + 1

    async def add(self, lecture: Lecture) -> Lecture:
        await guarded_write(self.session, lambda: self.session.add(lecture), _lecture_taken)
        return lecture

    async def update(self, lecture: Lecture, changes: dict[str, object]) -> Lecture:
        def apply() -> None:
            for name, value in changes.items():
                setattr(lecture, name, value)

        await guarded_write(self.session, apply, _lecture_taken)
        return lecture

    async def delete(self, lecture: Lecture) -> None:
        await self.session.execute(delete(Lecture).where(Lecture.id == lecture.id))


def _code_taken(_: IntegrityError) -> AppError:
    return CourseCodeTaken(details={"code": ["taken"]})


def _week_taken(_: IntegrityError) -> AppError:
    return WeekNumberTaken(details={"number": ["taken"]})


def _lecture_taken(_: IntegrityError) -> AppError:
    return LectureNumberTaken(details={"number": ["taken"]})
