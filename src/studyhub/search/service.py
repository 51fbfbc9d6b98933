"""Search and "similar lectures", restricted to what the caller may read.

StudyIndexer is asked *broadly* and its hits are filtered afterwards, rather than asked per
allowed course: its filters take one `course_id`, and waiting for the permission query before
calling it would serialise the two slowest steps. So the indexer call (course collection,
narrowed only by a `course_id` the caller named; personal collection narrowed to the caller's
`owner:` tag) starts at once, the permission query runs at the same time, and hits are then
dropped unless the caller may read them (DESIGN.md §8). Filtering after the fact would make
StudyIndexer's totals leak counts from other courses, so we take one window of the best
`SEARCH_WINDOW` hits and paginate what survives; `total` counts visible hits in that window.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from studyhub.auth.service import Principal
from studyhub.core.pagination import PageParams
from studyhub.courses.access import CourseContext
from studyhub.courses.content import ContentService
from studyhub.courses.repository import CourseRepository
from studyhub.indexer.client import IndexerClient
from studyhub.indexer.exceptions import SearchUnavailable
from studyhub.indexer.schemas import Hit
from studyhub.personal.repository import ItemRepository
from studyhub.search.repository import SearchRepository
from studyhub.search.schemas import (
    Scope,
    SearchResult,
    SearchResults,
    SimilarResults,
    Source,
    SourceCourse,
    SourceRef,
    SourceWeek,
)
from studyhub.users.models import UserRole

SEARCH_WINDOW = 100
SNIPPET_CHARS = 300
T = TypeVar("T")
# Tests observe the permission step through this (start/finish), to assert overlap by ordering.
Probe = Callable[[str], None]
Readable = dict[int, bool] | None  # course id -> is staff there; None: everything (admin)


async def _first_error(*coroutines: Coroutine[Any, Any, Any]) -> list[Any]:
    """Run concurrently; if one fails, cancel the others and raise its error (not a group)."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(c) for c in coroutines]
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return [task.result() for task in tasks]


class SearchService:
    def __init__(
        self,
        indexer: IndexerClient | None,
        courses: CourseRepository,
        sources: SearchRepository,
        items: ItemRepository,
        content: ContentService,
        *,
        db_delay_seconds: float = 0.0,
        probe: Probe | None = None,
    ) -> None:
        self.indexer = indexer
        self.courses = courses
        self.sources = sources
        self.items = items
        self.content = content
        self.db_delay_seconds = db_delay_seconds
        self.probe = probe

    def _client(self) -> IndexerClient:
        if self.indexer is None:
            raise SearchUnavailable("Search is not configured on this server", retry_after=60)
        return self.indexer

    async def _readable(self, principal: Principal) -> Readable:
        if self.probe:
            self.probe("permissions-start")
        try:
            if self.db_delay_seconds:
                await asyncio.sleep(self.db_delay_seconds)  # benchmarks only (see settings)
            if principal.role is UserRole.ADMIN:
                return None
            return await self.courses.readable_courses(principal.user_id)
        finally:
            if self.probe:
                self.probe("permissions-finish")

    async def search(
        self,
        principal: Principal,
        q: str,
        course_id: int | None,
        scope: Scope,
        params: PageParams,
    ) -> SearchResults:
        started = time.perf_counter()
        indexer = self._client()
        calls: list[Awaitable[Any]] = [self._readable(principal)]
        if scope is not Scope.PERSONAL:
            filters = {} if course_id is None else {"course_id": course_id}
            calls.append(
                indexer.search(q, collection="course", page_size=SEARCH_WINDOW, filters=filters)
            )
        if scope is not Scope.COURSES:
            calls.append(
                indexer.search(
                    q,
                    collection="personal",
                    page_size=SEARCH_WINDOW,
                    filters={"tags": f"owner:{principal.user_id}"},
                )
            )
        readable, *pages = await _first_error(*calls)  # type: ignore[arg-type]
        hits = [hit for page in pages for hit in page.results]
        results = await self._visible(principal, hits, readable, course_id)
        results.sort(key=lambda r: -r.score)
        window = results[params.offset : params.offset + params.limit]
        return SearchResults(
            results=window,
            pagination=params.meta(len(results)),
            query_time_ms=round((time.perf_counter() - started) * 1000, 2),
        )

    async def similar(
        self, principal: Principal, context: CourseContext, lecture_id: int, limit: int
    ) -> SimilarResults:
        lecture = await self.content.lecture(context, lecture_id)  # 404 unless readable
        indexer = self._client()
        if not lecture.indexer_document_id:
            return SimilarResults(results=[])  # not indexed (yet): nothing is similar
        readable, hits = await _first_error(
            self._readable(principal),
            # Ask for more than needed: some will be dropped as unreadable.
            indexer.similar(lecture.indexer_document_id, limit=min(100, limit * 3)),
        )
        hits = [h for h in hits if h.document_id != lecture.indexer_document_id]
        results = await self._visible(principal, hits, readable, None)
        results.sort(key=lambda r: -r.score)
        return SimilarResults(results=results[:limit])

    async def _visible(
        self, principal: Principal, hits: list[Hit], readable: Readable, course_id: int | None
    ) -> list[SearchResult]:
        """Join hits with the database and keep only those the caller may read."""
        ids = [hit.document_id for hit in hits]
        lectures = await self.sources.lecture_sources(ids)
        items = {
            str(item.indexer_document_id): item
            for item in await self.items.by_documents(principal.user_id, ids)
        }
        results: list[SearchResult] = []
        seen: set[str] = set()
        for hit in hits:
            if hit.document_id in seen:
                continue
            source = lectures.get(hit.document_id)
            if source is not None:
                lecture, week, course = source.lecture, source.week, source.course
                staff = True if readable is None else readable.get(course.id)
                if staff is None or (course_id is not None and course.id != course_id):
                    continue
                if not staff and not (lecture.is_published and week.is_published):
                    continue
                described = Source(
                    type="lecture",
                    course=SourceCourse(id=course.id, code=course.code, name=course.name),
                    week=SourceWeek(id=week.id, number=week.number, title=week.title),
                    lecture=SourceRef(id=lecture.id, title=lecture.title),
                    item=None,
                )
            elif (item := items.get(hit.document_id)) is not None:
                described = Source(
                    type="personal_item",
                    course=None,
                    week=None,
                    lecture=None,
                    item=SourceRef(id=item.id, title=item.title),
                )
            else:
                continue  # unknown here, someone else's, or stale: never shown
            seen.add(hit.document_id)
            results.append(
                SearchResult(
                    document_id=hit.document_id,
                    score=hit.score,
                    snippet=hit.content[:SNIPPET_CHARS],
                    highlights=[text[:SNIPPET_CHARS] for text in hit.highlight.text[:5]],
                    source=described,
                )
            )
        return results
