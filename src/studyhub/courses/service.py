"""Course rules: the catalog, the lifecycle, and the outline (weeks with their items)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from studyhub.assignments.repository import AssignmentRepository, AssignmentRow
from studyhub.auth.service import Principal
from studyhub.core.errors import ValidationFailed
from studyhub.core.http import check_if_match, compute_etag
from studyhub.core.pagination import PageParams
from studyhub.core.sanitize import sanitize_html
from studyhub.courses.access import CourseContext
from studyhub.courses.cache import CourseCache
from studyhub.courses.exceptions import CourseCodeTaken
from studyhub.courses.models import Course, CourseStatus, Lecture, Week
from studyhub.courses.repository import (
    COURSE_SORTS,
    CatalogQuery,
    CourseRepository,
    CourseRow,
    LectureRepository,
    WeekRepository,
)
from studyhub.courses.schemas import (
    AssignmentSummary,
    CourseCreate,
    CourseDetail,
    CourseSummary,
    CourseUpdate,
    Instructor,
    LectureSummary,
    WeekOut,
)
from studyhub.enrollments.models import CourseRole, Enrollment, EnrollmentStatus
from studyhub.enrollments.repository import EnrollmentRepository
from studyhub.progress.reader import ProgressReader
from studyhub.users.models import UserRole

ALLOWED_SORTS = {*COURSE_SORTS, *(f"-{name}" for name in COURSE_SORTS)}


def summary_of(course: Course, instructor_name: str | None) -> CourseSummary:
    instructor = (
        Instructor(id=course.instructor_id, name=instructor_name or "")
        if course.instructor_id is not None
        else None
    )
    return CourseSummary(
        id=course.id,
        code=course.code,
        name=course.name,
        description=course.description,
        status=course.status,
        instructor=instructor,
        enrollment_count=course.enrollment_count,
        max_students=course.max_students,
        enrollment_type=course.enrollment_type,
        start_date=course.start_date,
        end_date=course.end_date,
        created_at=course.created_at,
        updated_at=course.updated_at,
    )


def assignment_summary(row: AssignmentRow) -> AssignmentSummary:
    a = row.assignment
    return AssignmentSummary(
        id=a.id,
        week_id=a.week_id,
        title=a.title,
        type=a.type,
        start_date=a.start_date,
        due_date=a.due_date,
        is_published=a.is_published,
        max_score=row.max_score,
        question_count=row.question_count,
    )


def week_out(
    week: Week, lectures: list[Lecture], assignments: Sequence[AssignmentRow] = ()
) -> WeekOut:
    return WeekOut(
        id=week.id,
        number=week.number,
        title=week.title,
        description=week.description,
        is_published=week.is_published,
        lectures=[LectureSummary.model_validate(lecture) for lecture in lectures],
        assignments=[assignment_summary(row) for row in assignments],
    )


@dataclass(frozen=True, slots=True)
class CatalogPage:
    courses: list[CourseSummary]
    total: int


class CourseService:
    def __init__(
        self,
        courses: CourseRepository,
        weeks: WeekRepository,
        lectures: LectureRepository,
        assignments: AssignmentRepository,
        enrollments: EnrollmentRepository,
        cache: CourseCache,
        progress: ProgressReader,
    ) -> None:
        self.courses = courses
        self.weeks = weeks
        self.lectures = lectures
        self.assignments = assignments
        self.enrollments = enrollments
        self.cache = cache
        self.progress = progress

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

    async def detail(self, context: CourseContext) -> CourseDetail:
        course = context.course
        outline = await self.cache.outline(course.id, drafts=context.sees_drafts)
        if outline is None:
            outline = await self._outline(course.id, drafts=context.sees_drafts)
            await self.cache.store_outline(course.id, outline, drafts=context.sees_drafts)
        if context.my_role is CourseRole.STUDENT:
            outline = await self._with_completion(context, outline)
        return CourseDetail(
            **summary_of(course, context.instructor_name).model_dump(),
            my_role=context.my_role,
            weeks=outline,
        )

    async def _with_completion(
        self, context: CourseContext, outline: list[WeekOut]
    ) -> list[WeekOut]:
        """The cached outline is per course; a student's `completed` flags are laid over it."""
        done = await self.progress.completed_item_ids(context.principal.user_id, context.course.id)
        return [
            week.model_copy(
                update={
                    "lectures": [
                        item.model_copy(update={"completed": ("lecture", item.id) in done})
                        for item in week.lectures
                    ],
                    "assignments": [
                        item.model_copy(update={"completed": ("assignment", item.id) in done})
                        for item in week.assignments
                    ],
                }
            )
            for week in outline
        ]

    async def _outline(self, course_id: int, *, drafts: bool) -> list[WeekOut]:
        """Weeks with their items in a constant number of queries, whatever the course's size."""
        weeks = await self.weeks.for_course(course_id, published_only=not drafts)
        week_ids = [w.id for w in weeks]
        lectures = await self.lectures.for_weeks(week_ids, published_only=not drafts)
        assignments = await self.assignments.for_weeks(week_ids, published_only=not drafts)
        by_week: dict[int, list[Lecture]] = {}
        for lecture in lectures:
            by_week.setdefault(lecture.week_id, []).append(lecture)
        tasks: dict[int, list[AssignmentRow]] = {}
        for row in assignments:
            tasks.setdefault(row.assignment.week_id, []).append(row)
        return [week_out(week, by_week.get(week.id, []), tasks.get(week.id, [])) for week in weeks]

    async def weeks_of(self, context: CourseContext) -> list[WeekOut]:
        return (await self.detail(context)).weeks

    async def update(
        self, context: CourseContext, body: CourseUpdate, if_match: str | None
    ) -> CourseDetail:
        course = await self.courses.lock(context.course)
        check_if_match(if_match, compute_etag(await self.detail(context)))
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
        return await self.detail(context)

    async def archive(self, context: CourseContext) -> None:
        await self.courses.update(context.course, {"status": CourseStatus.ARCHIVED})
        self.cache.course_changed(context.course.id)
