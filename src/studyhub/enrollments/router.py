from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from studyhub.auth.dependencies import CurrentUser
from studyhub.core.openapi import error_responses
from studyhub.core.pagination import PageDep, set_link_header
from studyhub.core.schemas import BatchRowError, BatchRowStatus
from studyhub.courses.access import StaffCourseDep, TeacherCourseDep
from studyhub.enrollments.dependencies import EnrollmentServiceDep
from studyhub.enrollments.models import CourseRole, EnrollmentStatus
from studyhub.enrollments.schemas import (
    EnrollmentBatchRequest,
    EnrollmentBatchResponse,
    EnrollmentBatchRow,
    EnrollmentCreate,
    EnrollmentList,
    EnrollmentOut,
    EnrollmentUpdate,
    MyCourseList,
)
from studyhub.enrollments.service import RowOutcome

router = APIRouter(tags=["enrollments"])
CourseId = Annotated[int, Path(ge=1, le=2**31 - 1)]
UserId = Annotated[int, Path(ge=1, le=2**31 - 1)]
RoleFilter = Annotated[CourseRole | None, Query(alias="role")]
StatusFilter = Annotated[EnrollmentStatus | None, Query(alias="status")]


def _location(course_id: int, user_id: int) -> str:
    return f"/api/v1/courses/{course_id}/enrollments/{user_id}"


@router.post(
    "/courses/{course_id}/enroll",
    name="enrollments-enroll",
    status_code=status.HTTP_201_CREATED,
    summary="Enroll myself in a course (students)",
    description="403 `ENROLLMENT_CLOSED` when the course is closed for enrollment, archived or "
    "ended; 409 `ALREADY_ENROLLED`; 409 `COURSE_FULL` when every seat is taken. Enrolling "
    "again after dropping reactivates the same enrollment.",
    responses=error_responses(401, 403, 404, 409),
)
async def enroll(
    course_id: CourseId, principal: CurrentUser, service: EnrollmentServiceDep, response: Response
) -> EnrollmentOut:
    enrollment = await service.enroll_self(principal, course_id)
    response.headers["Location"] = _location(course_id, principal.user_id)
    return enrollment


@router.delete(
    "/courses/{course_id}/enroll",
    name="enrollments-drop",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Drop a course I take (the enrollment is kept with status `dropped`)",
    responses=error_responses(401, 403, 404),
)
async def drop(course_id: CourseId, principal: CurrentUser, service: EnrollmentServiceDep) -> None:
    await service.drop_self(principal, course_id)


@router.get(
    "/courses/{course_id}/enrollments",
    name="enrollments-list",
    summary="The course's enrollments (staff)",
    description="All statuses unless `status` is given; `search` matches username, email and "
    "names.",
    responses=error_responses(401, 403, 404),
)
async def list_enrollments(
    context: StaffCourseDep,
    service: EnrollmentServiceDep,
    page: PageDep,
    request: Request,
    response: Response,
    role: RoleFilter = None,
    status_filter: StatusFilter = None,
    search: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
) -> EnrollmentList:
    result = await service.roster(context, page, role=role, status=status_filter, search=search)
    set_link_header(request, response, page, result.total)
    response.headers["Cache-Control"] = "private, no-cache"
    return EnrollmentList(enrollments=result.enrollments, pagination=page.meta(result.total))


@router.post(
    "/courses/{course_id}/enrollments",
    name="enrollments-create",
    status_code=status.HTTP_201_CREATED,
    summary="Enroll a user (teachers and admins; TAs may add students only)",
    description="Name the user by exactly one of `user_id`, `username`, `email`. Staff may "
    "enroll into a course closed for self-enrollment; capacity applies to students.",
    responses=error_responses(401, 403, 404, 409),
)
async def create_enrollment(
    body: EnrollmentCreate,
    context: StaffCourseDep,
    service: EnrollmentServiceDep,
    response: Response,
) -> EnrollmentOut:
    enrollment = await service.add(context, body)
    response.headers["Location"] = _location(enrollment.course_id, enrollment.user.id)
    return enrollment


@router.post(
    "/courses/{course_id}/enrollments/batch",
    name="enrollments-batch",
    summary="Enroll many users; per-row results (teachers and admins)",
    description="Rows are validated and applied one by one: a failing row is reported in "
    "`results` and the others still apply. Capacity is never exceeded; rows past it fail with "
    "`COURSE_FULL`.",
    responses=error_responses(401, 403, 404),
)
async def create_enrollments_batch(
    body: EnrollmentBatchRequest, context: TeacherCourseDep, service: EnrollmentServiceDep
) -> EnrollmentBatchResponse:
    results = [_row_result(o) for o in await service.add_many(context, body.enrollments)]
    created = sum(1 for r in results if r.status == "created")
    return EnrollmentBatchResponse(created=created, failed=len(results) - created, results=results)


def _row_result(outcome: RowOutcome) -> EnrollmentBatchRow:
    if outcome.error is None:
        return EnrollmentBatchRow(
            index=outcome.index, status=BatchRowStatus.CREATED, user_id=outcome.user_id
        )
    error = outcome.error
    return EnrollmentBatchRow(
        index=outcome.index,
        status=BatchRowStatus.ERROR,
        user_id=outcome.user_id,
        error=BatchRowError(error=error.code, message=error.message, details=error.details),
    )


@router.patch(
    "/courses/{course_id}/enrollments/{user_id}",
    name="enrollments-update",
    summary="Change a member's course role or status (teachers and admins)",
    description="Reactivating a student needs a free seat (409 `COURSE_FULL`); the last "
    "teacher cannot be demoted or dropped (409 `LAST_TEACHER`).",
    responses=error_responses(401, 403, 404, 409),
)
async def update_enrollment(
    user_id: UserId,
    body: EnrollmentUpdate,
    context: TeacherCourseDep,
    service: EnrollmentServiceDep,
) -> EnrollmentOut:
    return await service.update(context, user_id, body)


@router.delete(
    "/courses/{course_id}/enrollments/{user_id}",
    name="enrollments-delete",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Drop a member (teachers and admins); the enrollment is kept as `dropped`",
    responses=error_responses(401, 403, 404, 409),
)
async def delete_enrollment(
    user_id: UserId, context: TeacherCourseDep, service: EnrollmentServiceDep
) -> None:
    await service.remove(context, user_id)


@router.get(
    "/me/courses",
    name="me-courses",
    summary="The courses I take or teach, with my role and progress",
    description="Dropped enrollments are left out unless `status=dropped`. `progress` counts the "
    "published lectures and assignments of published weeks (API.md §6).",
    responses=error_responses(401),
)
async def my_courses(
    principal: CurrentUser,
    service: EnrollmentServiceDep,
    response: Response,
    role: RoleFilter = None,
    status_filter: StatusFilter = None,
) -> MyCourseList:
    response.headers["Cache-Control"] = "private, no-cache"
    return MyCourseList(
        courses=await service.my_courses(principal, role=role, status=status_filter)
    )
