"""Cached course reads, keyed by version stamps that writers replace after their commit.

Stamps (`core.versions`), one shared key each:

- `courses:v:{id}`: the course row and its content (name, status, instructor, the outline);
- `courses:m:{id}`: its roster (memberships and `enrollment_count`);
- `progress:v:{course}:{user}`: one student's progress in it (the outline's `completed` flags).

Readers never see stale data after a write's response: the stamp is replaced after the commit
and before the writer's response is sent. Two tiers: this process's `LocalCache` holds ready
objects (no parsing on a hit); the shared `Cache` holds outlines for the other workers. A cache
outage is a miss, never an error.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from studyhub.core.cache import Cache, CacheUnavailable
from studyhub.core.localcache import LocalCache
from studyhub.core.metrics import CACHE_OPERATIONS
from studyhub.core.versions import Versions
from studyhub.courses.outline import RenderedOutline
from studyhub.courses.repository import CourseRepository

LOCAL_ENTRIES = 20_000


def content_key(course_id: int) -> str:
    return f"courses:v:{course_id}"


def members_key(course_id: int) -> str:
    return f"courses:m:{course_id}"


def progress_key(course_id: int, user_id: int) -> str:
    return f"progress:v:{course_id}:{user_id}"


def _outline_key(course_id: int, stamp: str, drafts: bool) -> str:
    return f"courses:outline:{course_id}:{stamp}:{int(drafts)}"


@dataclass(frozen=True, slots=True)
class CourseStamps:
    content: str
    members: str
    progress: str  # the reader's own progress in the course


class CourseCacheStore:
    """The process-wide part (on `app.state`): stamps, the local tier and shared outlines."""

    def __init__(self, cache: Cache, ttl_seconds: int) -> None:
        self.cache = cache
        self.versions = Versions(cache)
        # 0 disables course caching: every read goes to the database.
        self.ttl_seconds = ttl_seconds
        self.local: LocalCache[Any] = LocalCache(LOCAL_ENTRIES, ttl_seconds)
        # The in-memory cache is this process's own: a second copy of each outline there would
        # serve nobody.
        self.shares_outlines = cache.name != "memory"

    async def stamps(self, course_id: int, user_id: int) -> CourseStamps | None:
        """None when caching is off or the cache cannot be reached (then nothing is trusted)."""
        if not self.ttl_seconds:
            return None
        try:
            content, members, progress = await self.versions.read(
                content_key(course_id), members_key(course_id), progress_key(course_id, user_id)
            )
        except CacheUnavailable:
            return None
        return CourseStamps(content, members, progress)

    def get(self, key: Hashable) -> Any:
        return self.local.get(key)

    def keep(self, key: Hashable, value: Any) -> None:
        self.local.put(key, value)

    async def shared_outline(
        self, course_id: int, stamp: str, *, drafts: bool
    ) -> RenderedOutline | None:
        if not self.shares_outlines:
            return None
        try:
            raw = await self.cache.get(_outline_key(course_id, stamp, drafts))
        except CacheUnavailable:
            return None
        CACHE_OPERATIONS.labels("outline", "hit" if raw else "miss").inc()
        return RenderedOutline.from_json(raw) if raw else None

    async def share_outline(
        self, course_id: int, stamp: str, outline: RenderedOutline, *, drafts: bool
    ) -> None:
        if not self.shares_outlines:
            return
        try:
            await self.cache.set(
                _outline_key(course_id, stamp, drafts), outline.plain, self.ttl_seconds
            )
        except CacheUnavailable:
            return


class CourseCache:
    """A writer's side: stamp replacements tied to its request's commit."""

    def __init__(self, store: CourseCacheStore, session: AsyncSession) -> None:
        self.store = store
        self.session = session

    def course_changed(self, course_id: int) -> None:
        """The course row or its content changed (after commit: new content stamp)."""
        self.store.versions.bump_after_commit(self.session, content_key(course_id))

    def members_changed(self, course_id: int) -> None:
        """An enrollment of the course changed (after commit: new roster stamp)."""
        self.store.versions.bump_after_commit(self.session, members_key(course_id))

    def progress_changed(self, course_id: int, user_id: int) -> None:
        """A student's item statuses in the course changed (after commit: new progress stamp)."""
        self.store.versions.bump_after_commit(self.session, progress_key(course_id, user_id))

    async def instructor_renamed(self, user_id: int) -> None:
        """Courses show their instructor's name: a rename changes every course they teach."""
        for course_id in await CourseRepository(self.session).ids_instructed_by(user_id):
            self.course_changed(course_id)
