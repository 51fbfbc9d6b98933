from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response, status

from studyhub.assignments.dependencies import (
    AssignmentServiceDep,
    StudentCourseDep,
    SubmissionServiceDep,
)
from studyhub.assignments.models import AssignmentType
from studyhub.assignments.schemas import (
    AnswerKey,
    AssignmentCreate,
    AssignmentDetail,
    AssignmentList,
    AssignmentQuestions,
    AssignmentStudentView,
    AssignmentUpdate,
    SubmissionCreate,
    SubmissionList,
    SubmissionOut,
)
from studyhub.core.openapi import error_responses
from studyhub.core.pagination import PageDep, set_link_header
from studyhub.courses.access import EnrolledCourseDep, StaffCourseDep

router = APIRouter(prefix="/courses/{course_id}", tags=["assignments"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
READ = error_responses(401, 403, 404)
WRITE = error_responses(401, 403, 404, 409)
Detail = AssignmentDetail | AssignmentStudentView


def _location(response: Response, course_id: int, assignment_id: int) -> None:
    response.headers["Location"] = f"/api/v1/courses/{course_id}/assignments/{assignment_id}"


@router.post(
    "/weeks/{week_id}/assignments",
    name="assignments-create",
    status_code=status.HTTP_201_CREATED,
    summary="Add an assignment to a week",
    responses=WRITE,
)
async def create_assignment(
    week_id: Id,
    body: AssignmentCreate,
    context: StaffCourseDep,
    service: AssignmentServiceDep,
    response: Response,
) -> Detail:
    assignment = await service.create(context, week_id, body)
    _location(response, context.course.id, assignment.id)
    return assignment


@router.get(
    "/assignments",
    name="assignments-list",
    summary="The course's assignments (students: published ones, with their own submission)",
    responses=READ,
)
async def list_assignments(
    context: EnrolledCourseDep,
    service: AssignmentServiceDep,
    page: PageDep,
    request: Request,
    response: Response,
    week_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    type_filter: Annotated[AssignmentType | None, Query(alias="type")] = None,
    status_filter: Annotated[
        str | None,
        Query(
            alias="status",
            max_length=20,
            description="students: pending, submitted or overdue; staff: published or draft",
        ),
    ] = None,
) -> AssignmentList:
    result = await service.page(
        context, page, week_id=week_id, type=type_filter, status=status_filter
    )
    set_link_header(request, response, page, result.total)
    response.headers["Cache-Control"] = "private, no-cache"
    return AssignmentList(assignments=result.assignments, pagination=page.meta(result.total))


@router.get(
    "/assignments/{aid}",
    name="assignments-get",
    summary="An assignment with its questions (answers only for staff)",
    responses=READ,
)
async def get_assignment(
    aid: Id, context: EnrolledCourseDep, service: AssignmentServiceDep, response: Response
) -> Detail:
    response.headers["Cache-Control"] = "private, no-cache"
    return await service.detail(context, aid)


@router.patch(
    "/assignments/{aid}", name="assignments-update", summary="Change an assignment", responses=WRITE
)
async def update_assignment(
    aid: Id, body: AssignmentUpdate, context: StaffCourseDep, service: AssignmentServiceDep
) -> Detail:
    return await service.update(context, aid, body)


@router.delete(
    "/assignments/{aid}",
    name="assignments-delete",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an assignment and its submissions",
    responses=READ,
)
async def delete_assignment(
    aid: Id, context: StaffCourseDep, service: AssignmentServiceDep
) -> None:
    await service.delete(context, aid)


@router.put(
    "/assignments/{aid}/questions",
    name="assignments-set-questions",
    summary="Set the assignment's questions, in order",
    responses=WRITE,
)
async def set_questions(
    aid: Id, body: AssignmentQuestions, context: StaffCourseDep, service: AssignmentServiceDep
) -> Detail:
    return await service.set_questions(context, aid, body.question_ids)


@router.post(
    "/assignments/{aid}/submissions",
    name="submissions-create",
    status_code=status.HTTP_201_CREATED,
    summary="Submit answers (enrolled students); graded at once",
    responses=WRITE,
)
async def submit(
    aid: Id,
    body: SubmissionCreate,
    context: StudentCourseDep,
    service: SubmissionServiceDep,
    response: Response,
    idempotency_key: Annotated[
        str | None,
        Header(
            min_length=1,
            max_length=255,
            description="Retries with the same key return the stored submission",
        ),
    ] = None,
) -> SubmissionOut:
    result = await service.submit(context, aid, body, idempotency_key)
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = (
        f"/api/v1/courses/{context.course.id}/assignments/{aid}/submissions"
    )
    return result.submission


@router.get(
    "/assignments/{aid}/submissions",
    name="submissions-list",
    summary="Submissions, newest first (students: their own; staff: all)",
    responses=READ,
)
async def list_submissions(
    aid: Id,
    context: EnrolledCourseDep,
    service: SubmissionServiceDep,
    page: PageDep,
    request: Request,
    response: Response,
    user_id: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="staff: one student's submissions")
    ] = None,
) -> SubmissionList:
    submissions, total = await service.page(context, aid, page, user_id)
    set_link_header(request, response, page, total)
    response.headers["Cache-Control"] = "private, no-store"
    return SubmissionList(submissions=submissions, pagination=page.meta(total))


@router.get(
    "/assignments/{aid}/answers",
    name="assignments-answers",
    summary="Correct answers and explanations, when the reveal policy allows",
    responses=READ,
)
async def answers(aid: Id, context: EnrolledCourseDep, service: SubmissionServiceDep) -> AnswerKey:
    return await service.answer_key(context, aid)
