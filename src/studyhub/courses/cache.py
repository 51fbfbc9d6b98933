"""Cached course outlines, keyed by a per-course version that writers bump after commit.

Readers never see a stale outline after a write's response: the bump runs after the commit and
before the writer's response is sent. A cache outage is a miss, never an error.
"""

from __future__ import annotations

import logging

from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from studyhub.core.cache import Cache, CacheUnavailable
from studyhub.core.db import after_commit
from studyhub.core.metrics import CACHE_OPERATIONS
from studyhub.courses.schemas import WeekOut

logger = logging.getLogger("studyhub.courses.cache")
VERSION_TTL_SECONDS = 7 * 24 * 3600
_outline = TypeAdapter(list[WeekOut])


def _version_key(course_id: int) -> str:
    return f"courses:v:{course_id}"


class CourseCache:
    def __init__(self, cache: Cache, session: AsyncSession, ttl_seconds: int = 300) -> None:
        self.cache = cache
        self.session = session
        # 0 disables the outline cache (every read goes to the database).
        self.ttl_seconds = ttl_seconds

    async def _version(self, course_id: int) -> str:
        raw = await self.cache.get(_version_key(course_id))
        return raw.decode() if raw else "0"

    async def outline(self, course_id: int, *, drafts: bool) -> list[WeekOut] | None:
        if not self.ttl_seconds:
            return None
        try:
            version = await self._version(course_id)
            raw = await self.cache.get(f"courses:outline:{course_id}:{version}:{int(drafts)}")
        except CacheUnavailable:
            return None
        CACHE_OPERATIONS.labels("outline", "hit" if raw else "miss").inc()
        return _outline.validate_json(raw) if raw else None

    async def store_outline(self, course_id: int, outline: list[WeekOut], *, drafts: bool) -> None:
        if not self.ttl_seconds:
            return
        try:
            version = await self._version(course_id)
            await self.cache.set(
                f"courses:outline:{course_id}:{version}:{int(drafts)}",
                _outline.dump_json(outline),
                self.ttl_seconds,
            )
        except CacheUnavailable:
            return

    def course_changed(self, course_id: int) -> None:
        async def bump() -> None:
            try:
                await self.cache.incr(_version_key(course_id), VERSION_TTL_SECONDS)
            except CacheUnavailable:
                # Entries keyed by the old version expire within the outline TTL.
                logger.warning("could not bump outline version of course %s", course_id)

        after_commit(self.session, bump)
