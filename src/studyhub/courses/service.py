"""Course rules: the catalog and the lifecycle."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from studyhub.auth.service import Principal
from studyhub.core.errors import ValidationFailed
from studyhub.core.http import check_if_match, etag_of
from studyhub.core.pagination import PageParams
from studyhub.core.sanitize import sanitize_html
from studyhub.courses.access import CourseContext
from studyhub.courses.cache import CourseCache
from studyhub.courses.exceptions import CourseCodeTaken
from studyhub.courses.models import Course, CourseStatus
from studyhub.courses.reader import detail_json, load_outline, view_of
from studyhub.courses.repository import (
    COURSE_SORTS,
    CatalogQuery,
    CourseRepository,
    CourseRow,
)
from studyhub.courses.schemas import (
    CourseCreate,
    CourseDetail,
    CourseSummary,
    CourseUpdate,
)
from studyhub.courses.views import summary_of
from studyhub.enrollments.models import CourseRole, Enrollment, EnrollmentStatus
from studyhub.enrollments.repository import EnrollmentRepository
from studyhub.users.models import UserRole

ALLOWED_SORTS = {*COURSE_SORTS, *(f"-{name}" for name in COURSE_SORTS)}


@dataclass(frozen=True, slots=True)
class CatalogPage:
    courses: list[CourseSummary]
    total: int


class CourseService:
    """The catalog and the course lifecycle. Reads of one course are `CourseReader`'s."""

    def __init__(
        self,
        session: AsyncSession,
        courses: CourseRepository,
        enrollments: EnrollmentRepository,
        cache: CourseCache,
    ) -> None:
        self.session = session
        self.courses = courses
        self.enrollments = enrollments
        self.cache = cache

    async def catalog(
        self,
        principal: Principal,
        page: PageParams,
        *,
        search: str | None,
        status: CourseStatus | None,
        mine: bool,
        sort: str,
    ) -> CatalogPage:
        if sort not in ALLOWED_SORTS:
            raise ValidationFailed(details={"sort": [f"one of {sorted(ALLOWED_SORTS)}"]})
        query = CatalogQuery(
            viewer_id=principal.user_id,
            is_admin=principal.role is UserRole.ADMIN,
            search=search,
            status=status,
            mine=mine,
            sort=sort,
        )
        rows, total = await self.courses.catalog(query, page)
        return CatalogPage([self._summary(row) for row in rows], total)

    @staticmethod
    def _summary(row: CourseRow) -> CourseSummary:
        return summary_of(row.course, row.instructor_name)

    async def create(self, principal: Principal, body: CourseCreate) -> CourseDetail:
        if await self.courses.code_exists(body.code):
            raise CourseCodeTaken(details={"code": ["taken"]})
        course = Course(
            code=body.code,
            name=body.name,
            description=sanitize_html(body.description),
            status=body.status,
            instructor_id=principal.user_id,
            max_students=body.max_students,
            enrollment_type=body.enrollment_type,
            start_date=body.start_date,
            end_date=body.end_date,
            enrollment_count=0,
        )
        await self.courses.add(course)
        # The creator teaches the course: that enrollment is what grants them its management.
        await self.enrollments.add(
            Enrollment(
                course_id=course.id,
                user_id=principal.user_id,
                role=CourseRole.TEACHER,
                status=EnrollmentStatus.ACTIVE,
            )
        )
        name = await self.courses.instructor_name(course)
        return CourseDetail(
            **summary_of(course, name).model_dump(), my_role=CourseRole.TEACHER, weeks=[]
        )

    async def update(
        self, context: CourseContext, body: CourseUpdate, if_match: str | None
    ) -> bytes:
        """The changed course's `CourseDetail` JSON."""
        course = await self.courses.lock(context.course)
        check_if_match(if_match, etag_of(await self._detail_json(context)))
        changes = body.model_dump(exclude_unset=True)
        if "description" in changes and changes["description"] is not None:
            changes["description"] = sanitize_html(changes["description"])
        for required in ("code", "name", "status", "enrollment_type"):
            if required in changes and changes[required] is None:
                raise ValidationFailed(details={required: ["may not be null"]})
        start = changes.get("start_date", course.start_date)
        end = changes.get("end_date", course.end_date)
        if start and end and end < start:
            raise ValidationFailed(details={"end_date": ["must not be before start_date"]})
        limit = changes.get("max_students", course.max_students)
        if limit is not None and limit < course.enrollment_count:
            raise ValidationFailed(
                details={"max_students": [f"{course.enrollment_count} students are enrolled"]}
            )
        if "code" in changes and await self.courses.code_exists(
            changes["code"], excluding=course.id
        ):
            raise CourseCodeTaken(details={"code": ["taken"]})
        await self.courses.update(course, changes)
        self.cache.course_changed(course.id)
        return await self._detail_json(context)

    async def _detail_json(self, context: CourseContext) -> bytes:
        """What GET answers for this course, read in the writer's transaction (no cache). The
        caller manages the course, so no `completed` flags apply."""
        outline = await load_outline(self.session, context.course.id, drafts=True)
        return detail_json(view_of(context), outline.plain)

    async def archive(self, context: CourseContext) -> None:
        await self.courses.update(context.course, {"status": CourseStatus.ARCHIVED})
        self.cache.course_changed(context.course.id)
