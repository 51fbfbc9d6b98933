from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from studyhub.auth.dependencies import CurrentUser
from studyhub.core.openapi import error_responses
from studyhub.core.pagination import PageDep, set_link_header
from studyhub.courses.access import EnrolledCourseDep
from studyhub.search.dependencies import SearchServiceDep
from studyhub.search.schemas import Scope, SearchResults, SimilarResults

router = APIRouter(tags=["search"])
UPSTREAM = error_responses(401, 502, 503, 504)


@router.get(
    "/search",
    name="search-query",
    summary="Search lectures you can read and your own notes and files",
    responses=UPSTREAM,
)
async def search(
    principal: CurrentUser,
    service: SearchServiceDep,
    params: PageDep,
    request: Request,
    response: Response,
    q: Annotated[str, Query(min_length=1, max_length=200, description="What to look for")],
    course_id: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Only this course's lectures")
    ] = None,
    scope: Annotated[Scope, Query(description="Lectures, your items, or both")] = Scope.ALL,
) -> SearchResults:
    results = await service.search(principal, q, course_id, scope, params)
    set_link_header(request, response, params, results.pagination.total)
    response.headers["Cache-Control"] = "private, no-store"
    return results


@router.get(
    "/courses/{course_id}/lectures/{lecture_id}/similar",
    name="lectures-similar",
    summary="Lectures (and your items) similar to this lecture",
    responses={**UPSTREAM, **error_responses(403, 404)},
)
async def similar(
    lecture_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    context: EnrolledCourseDep,
    service: SearchServiceDep,
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
) -> SimilarResults:
    return await service.similar(context.principal, context, lecture_id, limit)
