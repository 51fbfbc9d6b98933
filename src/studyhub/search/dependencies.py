from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from studyhub.core.db import SessionDep
from studyhub.courses.content import ContentService
from studyhub.courses.dependencies import get_content_service
from studyhub.courses.repository import CourseRepository
from studyhub.personal.repository import ItemRepository
from studyhub.search.repository import SearchRepository
from studyhub.search.service import SearchService


async def get_search_service(
    request: Request,
    session: SessionDep,
    content: Annotated[ContentService, Depends(get_content_service)],
) -> SearchService:
    state = request.app.state
    return SearchService(
        state.indexer,
        CourseRepository(session),
        SearchRepository(session),
        ItemRepository(session),
        content,
        db_delay_seconds=state.settings.bench_search_db_delay_seconds,
        probe=getattr(state, "search_probe", None),
    )


SearchServiceDep = Annotated[SearchService, Depends(get_search_service)]
