from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Path, Response, UploadFile, status
from fastapi.responses import FileResponse

from studyhub.core.http import (
    NOT_MODIFIED_RESPONSE,
    IfMatch,
    IfNoneMatch,
    compute_etag,
    conditional_read,
    set_etag,
)
from studyhub.core.openapi import error_responses
from studyhub.core.storage import MEDIA_TYPES
from studyhub.courses.access import EnrolledCourseDep, StaffCourseDep
from studyhub.courses.dependencies import ContentServiceDep
from studyhub.courses.reader import EnrolledCoursePageDep
from studyhub.courses.schemas import (
    LectureCreate,
    LectureOut,
    LectureUpdate,
    WeekCreate,
    WeekList,
    WeekOut,
    WeekUpdate,
)
from studyhub.courses.views import lecture_out

router = APIRouter(prefix="/courses/{course_id}", tags=["content"])
WeekId = Annotated[int, Path(ge=1, le=2**31 - 1)]
LectureId = Annotated[int, Path(ge=1, le=2**31 - 1)]
READ = error_responses(401, 403, 404)
WRITE = error_responses(401, 403, 404, 409)
CONDITIONAL_READ = {**READ, **NOT_MODIFIED_RESPONSE}
CONDITIONAL_WRITE = {**WRITE, **error_responses(412)}


@router.get(
    "/weeks",
    name="weeks-list",
    response_model=WeekList,
    summary="The course's weeks with their items",
    responses=READ,
)
async def list_weeks(page: EnrolledCoursePageDep) -> Response:
    return Response(await page.weeks_json(), media_type="application/json")


@router.post(
    "/weeks",
    name="weeks-create",
    status_code=status.HTTP_201_CREATED,
    summary="Add a week",
    responses=WRITE,
)
async def create_week(
    body: WeekCreate, context: StaffCourseDep, service: ContentServiceDep, response: Response
) -> WeekOut:
    week = await service.create_week(context, body)
    response.headers["Location"] = f"/api/v1/courses/{context.course.id}/weeks/{week.id}"
    return week


@router.get(
    "/weeks/{week_id}",
    name="weeks-get",
    response_model=WeekOut,
    summary="One week with its items (ETag; If-None-Match gives 304)",
    responses=CONDITIONAL_READ,
)
async def get_week(
    week_id: WeekId,
    context: EnrolledCourseDep,
    service: ContentServiceDep,
    response: Response,
    if_none_match: IfNoneMatch = None,
) -> WeekOut | Response:
    week = await service.week_with_items(context, week_id)
    return conditional_read(week, response, if_none_match)


@router.patch(
    "/weeks/{week_id}",
    name="weeks-update",
    summary="Change a week (If-Match honoured)",
    responses=CONDITIONAL_WRITE,
)
async def update_week(
    week_id: WeekId,
    body: WeekUpdate,
    context: StaffCourseDep,
    service: ContentServiceDep,
    response: Response,
    if_match: IfMatch = None,
) -> WeekOut:
    week = await service.update_week(context, week_id, body, if_match)
    set_etag(response, compute_etag(week))
    return week


@router.delete(
    "/weeks/{week_id}",
    name="weeks-delete",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a week and its lectures",
    responses=READ,
)
async def delete_week(week_id: WeekId, context: StaffCourseDep, service: ContentServiceDep) -> None:
    await service.delete_week(context, week_id)


@router.post(
    "/weeks/{week_id}/lectures",
    name="lectures-create",
    status_code=status.HTTP_201_CREATED,
    summary="Add a lecture to a week",
    responses=WRITE,
)
async def create_lecture(
    week_id: WeekId,
    body: LectureCreate,
    context: StaffCourseDep,
    service: ContentServiceDep,
    response: Response,
) -> LectureOut:
    lecture = await service.create_lecture(context, week_id, body)
    response.headers["Location"] = f"/api/v1/courses/{context.course.id}/lectures/{lecture.id}"
    return lecture_out(lecture)


@router.get(
    "/lectures/{lecture_id}",
    name="lectures-get",
    response_model=LectureOut,
    summary="A lecture (ETag; If-None-Match gives 304)",
    responses=CONDITIONAL_READ,
)
async def get_lecture(
    lecture_id: LectureId,
    context: EnrolledCourseDep,
    service: ContentServiceDep,
    response: Response,
    if_none_match: IfNoneMatch = None,
) -> LectureOut | Response:
    lecture = lecture_out(await service.lecture(context, lecture_id))
    return conditional_read(lecture, response, if_none_match)


@router.patch(
    "/lectures/{lecture_id}",
    name="lectures-update",
    summary="Change a lecture (If-Match honoured)",
    responses=CONDITIONAL_WRITE,
)
async def update_lecture(
    lecture_id: LectureId,
    body: LectureUpdate,
    context: StaffCourseDep,
    service: ContentServiceDep,
    response: Response,
    if_match: IfMatch = None,
) -> LectureOut:
    lecture = lecture_out(await service.update_lecture(context, lecture_id, body, if_match))
    set_etag(response, compute_etag(lecture))
    return lecture


@router.delete(
    "/lectures/{lecture_id}",
    name="lectures-delete",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a lecture",
    responses=READ,
)
async def delete_lecture(
    lecture_id: LectureId, context: StaffCourseDep, service: ContentServiceDep
) -> None:
    await service.delete_lecture(context, lecture_id)


@router.put(
    "/lectures/{lecture_id}/file",
    name="lectures-file-upload",
    summary="Attach or replace the lecture's file (pdf, txt, md, docx; at most 16 MiB)",
    responses=error_responses(401, 403, 404, 413, 415),
)
async def upload_file(
    lecture_id: LectureId,
    file: Annotated[UploadFile, File(description="pdf, txt, md or docx")],
    context: StaffCourseDep,
    service: ContentServiceDep,
) -> LectureOut:
    return lecture_out(await service.upload_file(context, lecture_id, file))


@router.get(
    "/lectures/{lecture_id}/file",
    name="lectures-file-download",
    summary="Download the lecture's file (as an attachment)",
    response_class=FileResponse,
    responses={
        **READ,
        200: {
            "content": {media_type: {} for media_type in MEDIA_TYPES.values()},
            "description": "The file's bytes, with the media type of its kind",
        },
    },
)
async def download_file(
    lecture_id: LectureId, context: EnrolledCourseDep, service: ContentServiceDep
) -> FileResponse:
    lecture, path = await service.lecture_file(context, lecture_id)
    return FileResponse(
        path,
        media_type=lecture.file_media_type,
        filename=lecture.file_name,
        content_disposition_type="attachment",
        headers={"Cache-Control": "private, no-store"},
    )
