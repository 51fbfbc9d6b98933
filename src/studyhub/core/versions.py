"""Version stamps: one shared key per thing that can change (a course's content, its roster, a
student's progress in it), replaced by writers after their commit.

Readers put the stamps they read into their cache keys, so a change makes every entry built from
older data unreachable at once, in every worker, without deleting anything. A stamp is random,
never a counter: a stamp that disappears (evicted, expired, Redis flushed) is recreated as a new
random value, so entries cached under an older stamp can never come back into use.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from studyhub.core.cache import Cache, CacheUnavailable
from studyhub.core.db import after_commit

logger = logging.getLogger("studyhub.cache")
STAMP_TTL_SECONDS = 7 * 24 * 3600


def new_stamp() -> bytes:
    return uuid.uuid4().hex[:16].encode()


class Versions:
    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    async def read(self, *keys: str) -> tuple[str, ...]:
        """The current stamps (one round trip; one more per stamp that must be created).

        Raises `CacheUnavailable`: without stamps nothing cached may be trusted."""
        values = await self.cache.get_many(*keys)
        stamps = []
        for key, value in zip(keys, values, strict=True):
            if value is None:
                value = await self.cache.add(key, new_stamp(), STAMP_TTL_SECONDS)
            stamps.append(value.decode())
        return tuple(stamps)

    async def bump(self, *keys: str) -> None:
        for key in keys:
            try:
                await self.cache.set(key, new_stamp(), STAMP_TTL_SECONDS)
            except CacheUnavailable:
                # Entries under the old stamp live out their time-to-live (DESIGN.md §9).
                logger.warning("could not replace the version stamp %s", key)

    def bump_after_commit(self, session: AsyncSession, *keys: str) -> None:
        """Replace the stamps once the session's transaction commits: replaced earlier, a
        concurrent reader could cache pre-commit data under the new stamp."""

        async def bump() -> None:
            await self.bump(*keys)

        after_commit(session, bump)
