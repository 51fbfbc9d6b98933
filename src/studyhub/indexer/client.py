"""The one `httpx.AsyncClient` that talks to StudyIndexer (DESIGN.md §8, API.md §9).

Every call has per-phase timeouts (connect/read/write/pool) *and* an overall deadline that covers
retries and `Retry-After` waits, so a slow or trickling upstream cannot hold a request longer than
`INDEXER_TIMEOUT_SECONDS`. Only idempotent calls are retried (at most twice, with full jitter):
GET, DELETE, and `POST /search`, which is a read-only query despite its method. The upload is never
retried here: a second POST could create a second document; the outbox relay owns its retries.

Failures become domain errors: 503 `SEARCH_UNAVAILABLE` (unreachable, rate-limited, breaker
open), 504 `SEARCH_TIMEOUT` (deadline), 502 `BAD_GATEWAY` (5xx, garbage, oversized, refused).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import random
import time
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from studyhub.core.cache import CircuitBreaker
from studyhub.core.config import Settings
from studyhub.core.errors import AppError
from studyhub.indexer.exceptions import IndexerBadGateway, SearchTimeout, SearchUnavailable
from studyhub.indexer.schemas import (
    DocumentInfo,
    Hit,
    SearchPage,
    SimilarPage,
    UploadAccepted,
)

logger = logging.getLogger("studyhub.indexer")
M = TypeVar("M", bound=BaseModel)
RETRY_BASE_SECONDS = 0.1
_RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class IndexerConfig:
    url: str
    api_key: str | None
    deadline_seconds: float = 5.0
    upload_deadline_seconds: float = 60.0
    connect_timeout_seconds: float = 1.0
    read_timeout_seconds: float = 3.0
    max_response_bytes: int = 2 * 1024 * 1024
    max_retries: int = 2
    breaker_threshold: int = 5
    breaker_cooldown_seconds: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> IndexerConfig | None:
        if not settings.indexer_url:
            return None
        return cls(
            url=settings.indexer_url,
            api_key=settings.indexer_api_key,
            deadline_seconds=settings.indexer_timeout_seconds,
            upload_deadline_seconds=settings.indexer_upload_timeout_seconds,
            connect_timeout_seconds=settings.indexer_connect_timeout_seconds,
            read_timeout_seconds=settings.indexer_read_timeout_seconds,
            max_response_bytes=settings.indexer_max_response_bytes,
            breaker_threshold=settings.indexer_breaker_threshold,
            breaker_cooldown_seconds=settings.indexer_breaker_cooldown_seconds,
        )


class _Retry(Exception):
    """One attempt failed in a way a later attempt may not; carries the error to give up with."""

    def __init__(self, error: AppError, retry_after: float | None = None) -> None:
        super().__init__(error.message)
        self.error = error
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Upload:
    filename: str
    content: bytes
    media_type: str
    title: str
    document_type: str
    collection: str
    tags: list[str]
    course_id: int | None = None


class IndexerClient:
    def __init__(
        self, config: IndexerConfig, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.config = config
        self.breaker = CircuitBreaker(config.breaker_threshold, config.breaker_cooldown_seconds)
        headers = {"Accept": "application/json"}
        if config.api_key:
            headers["Authorization"] = f"Bearer {config.api_key}"
        self._http = httpx.AsyncClient(
            base_url=config.url.rstrip("/") + "/api/v1",
            headers=headers,
            timeout=httpx.Timeout(
                connect=config.connect_timeout_seconds,
                read=config.read_timeout_seconds,
                write=config.read_timeout_seconds,
                pool=config.connect_timeout_seconds,
            ),
            # A redirect from an internal service is a misconfiguration, not something to follow
            # (it could send our bearer token elsewhere).
            follow_redirects=False,
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=10),
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- the contract --

    async def upload(self, doc: Upload) -> UploadAccepted:
        data = {
            "title": doc.title,
            "document_type": doc.document_type,
            "collection": doc.collection,
            "tags": ",".join(doc.tags),
        }
        if doc.course_id is not None:
            data["course_id"] = str(doc.course_id)
        body = await self._call(
            "POST",
            "/documents",
            retry=False,
            deadline=self.config.upload_deadline_seconds,
            data=data,
            files={"file": (doc.filename, doc.content, doc.media_type)},
            timeout=httpx.Timeout(
                self.config.upload_deadline_seconds,
                connect=self.config.connect_timeout_seconds,
                pool=self.config.connect_timeout_seconds,
            ),
        )
        return _parse(UploadAccepted, body)

    async def document(self, document_id: str) -> DocumentInfo | None:
        """The document's state, or None when StudyIndexer does not know it."""
        body = await self._call("GET", f"/documents/{document_id}", retry=True, missing_ok=True)
        return None if body is None else _parse(DocumentInfo, body)

    async def delete(self, document_id: str) -> bool:
        """Delete a document; False when it was already gone (deleting is idempotent for us)."""
        body = await self._call("DELETE", f"/documents/{document_id}", retry=True, missing_ok=True)
        return body is not None

    async def search(
        self,
        text: str,
        *,
        collection: str,
        page: int = 1,
        page_size: int = 10,
        filters: dict[str, Any] | None = None,
        min_score: float = 0.0,
    ) -> SearchPage:
        payload = {
            "text": text,
            "page": page,
            "page_size": page_size,
            "filters": filters or {},
            "collection": collection,
            "min_score": min_score,
        }
        # Read-only despite POST: safe to retry.
        body = await self._call("POST", "/search", retry=True, json=payload)
        return _parse(SearchPage, body)

    async def similar(self, document_id: str, *, limit: int, min_score: float = 0.0) -> list[Hit]:
        body = await self._call(
            "GET",
            f"/search/similar/{document_id}",
            retry=True,
            missing_ok=True,
            params={"limit": limit, "min_score": min_score},
        )
        return [] if body is None else _parse(SimilarPage, body).results

    async def ping(self) -> None:
        """A cheap authenticated call for readiness. The contract has no health endpoint, so we ask
        for a document that does not exist: a 404 proves the service is up and accepts our key.
        It bypasses the breaker (readiness must see recovery) and is not retried."""
        await self._call(
            "GET", "/documents/readiness-probe", retry=False, missing_ok=True, use_breaker=False
        )

    # -- machinery --

    async def _call(
        self,
        method: str,
        path: str,
        *,
        retry: bool,
        missing_ok: bool = False,
        deadline: float | None = None,
        use_breaker: bool = True,
        **kwargs: Any,
    ) -> Any:
        if use_breaker and self.breaker.is_open:
            raise SearchUnavailable(retry_after=self._breaker_retry_after())
        budget = deadline or self.config.deadline_seconds
        ends_at = time.monotonic() + budget
        attempts = 1 + (self.config.max_retries if retry else 0)
        try:
            async with asyncio.timeout(budget):
                for attempt in range(attempts):
                    try:
                        body = await self._once(method, path, missing_ok, **kwargs)
                    except _Retry as failure:
                        wait = failure.retry_after
                        if wait is None:
                            # Full jitter: retries from many requests do not arrive in step.
                            wait = random.uniform(0, RETRY_BASE_SECONDS * 2**attempt)  # noqa: S311
                        if attempt + 1 >= attempts or time.monotonic() + wait >= ends_at:
                            raise failure.error from None
                        await asyncio.sleep(wait)
                        continue
                    if use_breaker:
                        self.breaker.record_success()
                    return body
        except TimeoutError:
            if use_breaker:
                self.breaker.record_failure()
            logger.warning("indexer %s %s: deadline of %.1fs passed", method, path, budget)
            raise SearchTimeout from None
        except (SearchUnavailable, SearchTimeout) as exc:
            if use_breaker:
                self.breaker.record_failure()
            logger.warning("indexer %s %s: %s", method, path, exc.code)
            raise
        except IndexerBadGateway as exc:
            # A 5xx counts against the breaker; a refusal (4xx) means the service is alive.
            if use_breaker and exc.details and exc.details.get("upstream_status", 0) >= 500:
                self.breaker.record_failure()
            elif use_breaker:
                self.breaker.record_success()
            logger.warning("indexer %s %s: bad gateway %s", method, path, exc.details)
            raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _once(self, method: str, path: str, missing_ok: bool, **kwargs: Any) -> Any:
        request = self._http.build_request(method, path, **kwargs)
        try:
            response = await self._http.send(request, stream=True)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise _Retry(SearchUnavailable(details={"reason": type(exc).__name__})) from exc
        except (httpx.ReadTimeout, httpx.WriteTimeout) as exc:
            raise _Retry(SearchTimeout()) from exc
        except httpx.TransportError as exc:
            raise _Retry(SearchUnavailable(details={"reason": type(exc).__name__})) from exc
        try:
            status = response.status_code
            if status in _RETRYABLE_STATUSES:
                raise self._retryable(response)
            if status == 404 and missing_ok:
                return None
            if not 200 <= status < 300:
                # 3xx (not followed) and 4xx: our request or configuration is wrong.
                raise IndexerBadGateway(details={"upstream_status": status})
            raw = await self._read_bounded(response)
        except (httpx.ReadTimeout, httpx.WriteTimeout) as exc:
            raise _Retry(SearchTimeout()) from exc
        except httpx.TransportError as exc:
            raise _Retry(SearchUnavailable(details={"reason": type(exc).__name__})) from exc
        finally:
            await response.aclose()
        try:
            return json.loads(raw)
        except ValueError:
            raise IndexerBadGateway(details={"reason": "malformed JSON"}) from None

    def _retryable(self, response: httpx.Response) -> _Retry:
        status = response.status_code
        if status == 429:
            retry_after = _retry_after(response.headers.get("Retry-After"))
            wait = retry_after if retry_after is not None else 1.0
            return _Retry(SearchUnavailable(retry_after=max(1, math.ceil(wait))), retry_after=wait)
        if status == 503:
            retry_after = _retry_after(response.headers.get("Retry-After"))
            return _Retry(
                SearchUnavailable(retry_after=max(1, math.ceil(retry_after or 1))),
                retry_after=retry_after,
            )
        return _Retry(IndexerBadGateway(details={"upstream_status": status}))

    async def _read_bounded(self, response: httpx.Response) -> bytes:
        """Read at most `max_response_bytes`; a bigger answer is refused without buffering it."""
        limit = self.config.max_response_bytes
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise IndexerBadGateway(details={"reason": "response too large"})
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise IndexerBadGateway(details={"reason": "response too large"})
            chunks.append(chunk)
        return b"".join(chunks)

    def _breaker_retry_after(self) -> int:
        opened = self.breaker.opened_at or self.breaker.clock()
        remaining = self.breaker.cooldown - (self.breaker.clock() - opened)
        return max(1, math.ceil(remaining))


def _retry_after(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds form; HTTP dates are rare here)."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if 0 <= seconds < 3600 else None


def _parse(model: type[M], body: Any) -> M:
    try:
        return model.model_validate(body)
    except ValidationError:
        raise IndexerBadGateway(details={"reason": "unexpected response shape"}) from None


def build_indexer(settings: Settings) -> IndexerClient | None:
    config = IndexerConfig.from_settings(settings)
    return IndexerClient(config) if config else None
