from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request

from studyhub.core.cache import Cache
from studyhub.health.repository import HealthRepository
from studyhub.health.schemas import Check, Checks, CheckStatus, Readiness
from studyhub.indexer.client import IndexerClient

logger = logging.getLogger("studyhub.health")
CHECK_TIMEOUT_SECONDS = 2.0


async def _timed(probe: Callable[[], Awaitable[None]], backend: str, failed: CheckStatus) -> Check:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await probe()
    except Exception as exc:
        logger.warning("readiness check %s failed: %s", backend, type(exc).__name__)
        status = failed
    else:
        status = CheckStatus.OK
    return Check(
        status=status, latency_ms=round((time.perf_counter() - started) * 1000, 2), backend=backend
    )


class HealthService:
    def __init__(
        self, repository: HealthRepository, cache: Cache, indexer: IndexerClient | None
    ) -> None:
        self.repository = repository
        self.cache = cache
        self.indexer = indexer

    async def _indexer(self) -> Check:
        if self.indexer is None:
            return Check(status=CheckStatus.DISABLED)
        return await _timed(self.indexer.ping, "studyindexer", CheckStatus.DOWN)

    async def readiness(self) -> Readiness:
        database, cache, indexer = await asyncio.gather(
            _timed(self.repository.ping, self.repository.backend, CheckStatus.DOWN),
            # Without the cache the service still answers (DESIGN.md §9): degraded, not down.
            _timed(self.cache.ping, self.cache.name, CheckStatus.DEGRADED),
            self._indexer(),
        )
        if database.status is not CheckStatus.OK:
            overall = CheckStatus.DOWN
        elif cache.status is not CheckStatus.OK or indexer.status is CheckStatus.DOWN:
            # Only search and indexing need StudyIndexer: the rest of the API works without it.
            overall = CheckStatus.DEGRADED
        else:
            overall = CheckStatus.OK
        return Readiness(
            status=overall, checks=Checks(database=database, cache=cache, indexer=indexer)
        )


async def _health_service(request: Request) -> HealthService:
    state = request.app.state
    return HealthService(HealthRepository(state.database.engine), state.cache, state.indexer)


HealthServiceDep = Annotated[HealthService, Depends(_health_service)]
