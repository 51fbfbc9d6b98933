from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from studyhub.assignments.dependencies import QuestionServiceDep
from studyhub.assignments.models import QuestionStatus, QuestionType
from studyhub.assignments.questions import question_out
from studyhub.assignments.schemas import (
    QuestionBatch,
    QuestionBatchResult,
    QuestionCreate,
    QuestionList,
    QuestionOut,
    QuestionUpdate,
)
from studyhub.core.openapi import error_responses
from studyhub.core.pagination import PageDep, set_link_header
from studyhub.courses.access import StaffCourseDep

router = APIRouter(prefix="/courses/{course_id}/questions", tags=["questions"])
QuestionId = Annotated[int, Path(ge=1, le=2**31 - 1)]
READ = error_responses(401, 403, 404)
WRITE = error_responses(401, 403, 404, 409)


@router.get("", name="questions-list", summary="The course's question bank", responses=READ)
async def list_questions(
    context: StaffCourseDep,
    service: QuestionServiceDep,
    page: PageDep,
    request: Request,
    response: Response,
    type_filter: Annotated[QuestionType | None, Query(alias="type")] = None,
    status_filter: Annotated[QuestionStatus | None, Query(alias="status")] = None,
    week_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> QuestionList:
    questions, total = await service.page(
        context, page, type=type_filter, status=status_filter, week_id=week_id
    )
    set_link_header(request, response, page, total)
    return QuestionList(questions=questions, pagination=page.meta(total))


@router.post(
    "",
    name="questions-create",
    status_code=status.HTTP_201_CREATED,
    summary="Add a question to the bank",
    responses=WRITE,
)
async def create_question(
    body: QuestionCreate, context: StaffCourseDep, service: QuestionServiceDep, response: Response
) -> QuestionOut:
    question = await service.create(context, body)
    response.headers["Location"] = f"/api/v1/courses/{context.course.id}/questions/{question.id}"
    return question_out(question)


@router.post(
    "/batch",
    name="questions-batch",
    summary="Add up to 500 questions; each row succeeds or fails on its own",
    responses=READ,
)
async def batch_questions(
    body: QuestionBatch, context: StaffCourseDep, service: QuestionServiceDep
) -> QuestionBatchResult:
    return await service.batch(context, body.questions)


@router.get("/{qid}", name="questions-get", summary="A question", responses=READ)
async def get_question(
    qid: QuestionId, context: StaffCourseDep, service: QuestionServiceDep
) -> QuestionOut:
    return question_out(await service.get(context, qid))


@router.patch(
    "/{qid}",
    name="questions-update",
    summary="Change a question (grading fields are locked while a published assignment uses it)",
    responses=WRITE,
)
async def update_question(
    qid: QuestionId, body: QuestionUpdate, context: StaffCourseDep, service: QuestionServiceDep
) -> QuestionOut:
    return question_out(await service.update(context, qid, body))


@router.delete(
    "/{qid}",
    name="questions-delete",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a question (not while a published assignment uses it)",
    responses=WRITE,
)
async def delete_question(
    qid: QuestionId, context: StaffCourseDep, service: QuestionServiceDep
) -> None:
    await service.delete(context, qid)
