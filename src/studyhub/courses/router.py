from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from studyhub.auth.dependencies import CurrentUser, require_roles
from studyhub.core.http import (
    NOT_MODIFIED_RESPONSE,
    IfMatch,
    IfNoneMatch,
    conditional_json,
    json_with_etag,
)
from studyhub.core.openapi import error_responses
from studyhub.core.pagination import PageDep, set_link_header
from studyhub.courses.access import TeacherCourseDep
from studyhub.courses.dependencies import CourseServiceDep
from studyhub.courses.models import CourseStatus
from studyhub.courses.reader import CoursePageDep
from studyhub.courses.schemas import CourseCreate, CourseDetail, CourseList, CourseUpdate
from studyhub.users.models import UserRole

router = APIRouter(prefix="/courses", tags=["courses"])
READ_ERRORS = error_responses(401, 404)
WRITE_ERRORS = error_responses(401, 403, 404)


@router.get("", name="courses-list", summary="The course catalog", responses=error_responses(401))
async def list_courses(
    principal: CurrentUser,
    service: CourseServiceDep,
    page: PageDep,
    request: Request,
    response: Response,
    search: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    status_filter: Annotated[CourseStatus | None, Query(alias="status")] = None,
    mine: Annotated[bool, Query(description="Only courses I take or teach")] = False,
    sort: Annotated[
        str,
        Query(
            description="code, name, created_at, start_date, "
            "enrollment_count; prefix - for descending"
        ),
    ] = "code",
) -> CourseList:
    result = await service.catalog(
        principal, page, search=search, status=status_filter, mine=mine, sort=sort
    )
    set_link_header(request, response, page, result.total)
    response.headers["Cache-Control"] = "private, no-cache"
    return CourseList(courses=result.courses, pagination=page.meta(result.total))


@router.post(
    "",
    name="courses-create",
    status_code=status.HTTP_201_CREATED,
    summary="Create a course; the creator becomes its teacher",
    responses=error_responses(401, 403, 409),
    dependencies=[Depends(require_roles(UserRole.TEACHER))],
)
async def create_course(
    body: CourseCreate, principal: CurrentUser, service: CourseServiceDep, response: Response
) -> CourseDetail:
    course = await service.create(principal, body)
    response.headers["Location"] = f"/api/v1/courses/{course.id}"
    return course


@router.get(
    "/{course_id}",
    name="courses-get",
    response_model=CourseDetail,
    summary="A course and its outline (ETag; If-None-Match gives 304)",
    responses={**READ_ERRORS, **NOT_MODIFIED_RESPONSE},
)
async def get_course(
    page: CoursePageDep, response: Response, if_none_match: IfNoneMatch = None
) -> Response:
    return conditional_json(await page.detail_json(), response, if_none_match)


@router.patch(
    "/{course_id}",
    name="courses-update",
    response_model=CourseDetail,
    summary="Change a course (its teachers and admins; If-Match honoured)",
    responses=error_responses(401, 403, 404, 409, 412),
)
async def update_course(
    body: CourseUpdate,
    context: TeacherCourseDep,
    service: CourseServiceDep,
    if_match: IfMatch = None,
) -> Response:
    return json_with_etag(await service.update(context, body, if_match))


@router.delete(
    "/{course_id}",
    name="courses-delete",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Archive a course: hidden from the catalog, data kept",
    responses=WRITE_ERRORS,
)
async def archive_course(context: TeacherCourseDep, service: CourseServiceDep) -> None:
    await service.archive(context)
