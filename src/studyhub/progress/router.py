from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from studyhub.auth.dependencies import CurrentUser
from studyhub.core.openapi import error_responses
from studyhub.core.pagination import PageDep, set_link_header
from studyhub.courses.access import EnrolledCourseDep, StaffCourseDep
from studyhub.progress.dependencies import (
    ProgressServiceDep,
    StaffProgressServiceDep,
    StudentCourseDep,
)
from studyhub.progress.merge import ItemState
from studyhub.progress.schemas import (
    BatchIn,
    BatchOut,
    CourseProgress,
    CourseSummaryOut,
    LectureEventIn,
    LectureEventOut,
    LectureProgressOut,
    MyProgress,
    StudentCourseProgress,
    StudentList,
    StudentSort,
)
from studyhub.progress.staff_repository import StudentQuery

router = APIRouter(tags=["progress"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
READ = error_responses(401, 403, 404)
PRIVATE = {"Cache-Control": "private, no-store"}


@router.post(
    "/courses/{course_id}/lectures/{lecture_id}/progress",
    name="progress-lecture-event",
    summary="Record progress on a lecture (a replayed event_id changes nothing)",
    responses=READ,
)
async def record_lecture_event(
    lecture_id: Id,
    body: LectureEventIn,
    context: StudentCourseDep,
    service: ProgressServiceDep,
) -> LectureEventOut:
    return await service.record(context, lecture_id, body)


@router.delete(
    "/courses/{course_id}/lectures/{lecture_id}/progress/completion",
    name="progress-lecture-uncomplete",
    summary="Undo a manual completion (a watched-to-90 % completion stays)",
    responses=READ,
)
async def uncomplete_lecture(
    lecture_id: Id, context: StudentCourseDep, service: ProgressServiceDep
) -> LectureProgressOut:
    return await service.uncomplete(context, lecture_id)


@router.post(
    "/progress/batch",
    name="progress-batch",
    summary="Record up to 500 offline events; each is applied, a duplicate, or rejected",
    responses=error_responses(401, 413),
)
async def record_batch(
    body: BatchIn, principal: CurrentUser, service: ProgressServiceDep
) -> BatchOut:
    return await service.batch(principal.user_id, body.events, body.device_id)


@router.get(
    "/courses/{course_id}/progress",
    name="progress-course-get",
    summary="My progress in a course",
    responses=READ,
)
async def course_progress(
    context: EnrolledCourseDep, service: ProgressServiceDep, response: Response
) -> CourseProgress:
    response.headers.update(PRIVATE)
    return await service.course(context)


@router.get(
    "/me/progress",
    name="progress-me",
    summary="My progress in every course I take, with my study streak",
    responses=error_responses(401),
)
async def my_progress(
    principal: CurrentUser, service: ProgressServiceDep, response: Response
) -> MyProgress:
    response.headers.update(PRIVATE)
    return await service.mine(principal.user_id)


@router.get(
    "/courses/{course_id}/progress/students",
    name="progress-students-list",
    summary="Every active student's progress in the course (staff)",
    responses=READ,
)
async def list_students(
    context: StaffCourseDep,
    service: StaffProgressServiceDep,
    page: PageDep,
    request: Request,
    response: Response,
    sort: Annotated[StudentSort, Query(description="prefix - for descending")] = "name",
    state: Annotated[ItemState | None, Query()] = None,
    search: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
) -> StudentList:
    rows, total = await service.students(context, StudentQuery(sort, state, search), page)
    set_link_header(request, response, page, total)
    response.headers.update(PRIVATE)
    return StudentList(students=rows, pagination=page.meta(total))


@router.get(
    "/courses/{course_id}/progress/students/{user_id}",
    name="progress-students-get",
    summary="One student's progress in the course, item by item (staff)",
    responses=READ,
)
async def get_student(
    user_id: Id, context: StaffCourseDep, service: StaffProgressServiceDep, response: Response
) -> StudentCourseProgress:
    response.headers.update(PRIVATE)
    return await service.student(context, user_id)


@router.get(
    "/courses/{course_id}/progress/summary",
    name="progress-summary",
    summary="The course's progress at a glance (staff)",
    responses=READ,
)
async def course_summary(
    context: StaffCourseDep, service: StaffProgressServiceDep, response: Response
) -> CourseSummaryOut:
    response.headers.update(PRIVATE)
    return await service.summary(context)
