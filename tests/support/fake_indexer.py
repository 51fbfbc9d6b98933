"""A contract-faithful fake StudyIndexer (API.md §9), served by uvicorn on 127.0.0.1 in a thread.

Real HTTP, so the backend's client meets real sockets, timeouts and broken bodies. Switchable
modes: healthy, slow, trickle (body one byte at a time), error500, ratelimit (429 + Retry-After),
garbage (invalid JSON), wrongshape, oversized (3 MiB body), and down (server stopped, port closed).
Every call is recorded with sequence numbers taken at its start and its end from `SEQUENCE`, which
tests share with the code they observe, to assert ordering without timing anything.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.support.server import free_port

SEQUENCE = itertools.count(1)  # next() is atomic under the GIL: safe across the two threads
API_KEY = "fake-indexer-key"
MODES = {
    "healthy",
    "slow",
    "trickle",
    "error500",
    "ratelimit",
    "garbage",
    "wrongshape",
    "oversized",
}
DOCUMENT_TYPES = {"pdf", "text", "docx", "markdown"}
COLLECTIONS = {"course", "personal", "general"}


@dataclass
class Call:
    method: str
    path: str
    started: int
    finished: int = 0
    status: int = 0
    body: Any = None


@dataclass
class Document:
    document_id: str
    title: str
    content: str
    document_type: str
    collection: str
    tags: list[str]
    course_id: int | None
    polls: int = 0
    status: str = "processing"
    metadata: dict[str, Any] = field(default_factory=dict)


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    body = {"success": False, "message": message, "error": {"code": code, "details": {}}}
    return JSONResponse(body, status_code=status, headers=headers)


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 1}


class FakeIndexer:
    def __init__(self, api_key: str = API_KEY) -> None:
        self.api_key = api_key
        self.port = free_port()
        self.documents: dict[str, Document] = {}
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.reset()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self) -> None:
        self.mode = "healthy"
        self.mode_times: int | None = None  # the mode applies to this many calls, then healthy
        self.delay = 0.3
        self.retry_after = 1
        self.polls_to_complete = 2  # the first status GET says processing, the next completed
        self.fail_processing = False
        self.search_gate: threading.Event | None = None  # /search waits for it (ordering tests)
        with self._lock:
            self.documents.clear()
            self.calls.clear()

    def set_mode(self, mode: str, *, times: int | None = None, delay: float | None = None) -> None:
        assert mode in MODES, mode
        self.mode, self.mode_times = mode, times
        if delay is not None:
            self.delay = delay

    def calls_to(self, method: str, prefix: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method and c.path.startswith(prefix)]

    # -- lifecycle: "down" is a stopped server and a closed port --

    def start(self) -> None:
        config = uvicorn.Config(
            self._app(), host="127.0.0.1", port=self.port, log_level="error", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("fake indexer did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None

    @property
    def is_up(self) -> bool:
        return self._server is not None

    # -- the app --

    def _app(self) -> Starlette:
        routes = [
            Route("/api/v1/documents", self._wrap(self._upload), methods=["POST"]),
            Route("/api/v1/documents/{document_id}", self._wrap(self._get), methods=["GET"]),
            Route("/api/v1/documents/{document_id}", self._wrap(self._delete), methods=["DELETE"]),
            Route("/api/v1/search", self._wrap(self._search), methods=["POST"]),
            Route("/api/v1/search/similar/{document_id}", self._wrap(self._similar)),
        ]
        return Starlette(routes=routes)

    def _wrap(
        self, handler: Callable[[Request], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            call = Call(request.method, request.url.path, next(SEQUENCE))
            with self._lock:
                self.calls.append(call)
            try:
                response = await self._answer(request, handler)
            finally:
                call.finished = next(SEQUENCE)
            call.status = response.status_code
            return response

        return endpoint

    async def _answer(
        self, request: Request, handler: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return _error(401, "UNAUTHORIZED", "Invalid or missing API key")
        mode = self.mode
        if self.mode_times is not None:
            if self.mode_times <= 0:
                mode = "healthy"
            else:
                self.mode_times -= 1
        if mode == "slow":
            await asyncio.sleep(self.delay)
        elif mode == "error500":
            return _error(500, "INTERNAL_ERROR", "boom")
        elif mode == "ratelimit":
            return _error(
                429, "RATE_LIMITED", "slow down", headers={"Retry-After": str(self.retry_after)}
            )
        elif mode == "garbage":
            return Response(b'{"results": [', media_type="application/json")
        elif mode == "wrongshape":
            return JSONResponse({"hits": "none", "document_id": None})
        elif mode == "oversized":
            return Response(b'{"pad": "' + b"x" * (3 * 1024 * 1024) + b'"}')
        elif mode == "trickle":
            return self._trickle()
        return await handler(request)

    def _trickle(self) -> Response:
        async def body() -> AsyncIterator[bytes]:
            for byte in b'{"results": [], "pagination": {}}':
                await asyncio.sleep(self.delay)
                yield bytes([byte])

        return StreamingResponse(body(), media_type="application/json")

    async def _upload(self, request: Request) -> Response:
        form = await request.form()
        upload = form.get("file")
        document_type = str(form.get("document_type", ""))
        collection = str(form.get("collection", "general"))
        if isinstance(upload, str) or upload is None or not form.get("title"):
            return _error(400, "VALIDATION_ERROR", "file and title are required")
        if document_type not in DOCUMENT_TYPES or collection not in COLLECTIONS:
            return _error(400, "VALIDATION_ERROR", "bad document_type or collection")
        raw = await upload.read()
        course = form.get("course_id")
        doc = Document(
            document_id=uuid.uuid4().hex[:20],
            title=str(form["title"]),
            content=raw.decode("utf-8", "ignore"),
            document_type=document_type,
            collection=collection,
            tags=[t for t in str(form.get("tags", "")).split(",") if t],
            course_id=int(str(course)) if course else None,
        )
        with self._lock:
            self.documents[doc.document_id] = doc
        body = {"document_id": doc.document_id, "status": "processing", "message": "queued"}
        return JSONResponse(body, status_code=202)

    def _metadata(self, doc: Document) -> dict[str, Any]:
        return {
            "title": doc.title,
            "course_id": doc.course_id,
            "document_type": doc.document_type,
            "tags": doc.tags,
            "collection": doc.collection,
        }

    async def _get(self, request: Request) -> Response:
        doc = self.documents.get(request.path_params["document_id"])
        if doc is None:
            return _error(404, "NOT_FOUND", "Document not found")
        doc.polls += 1
        if doc.status == "processing" and doc.polls >= self.polls_to_complete:
            doc.status = "failed" if self.fail_processing else "completed"
        body = {"document_id": doc.document_id, "status": doc.status}
        return JSONResponse({**body, "metadata": self._metadata(doc)})

    async def _delete(self, request: Request) -> Response:
        with self._lock:
            doc = self.documents.pop(request.path_params["document_id"], None)
        if doc is None:
            return _error(404, "NOT_FOUND", "Document not found")
        return JSONResponse({"message": "Document deleted"})

    def _hit(self, doc: Document, score: float, terms: set[str]) -> dict[str, Any]:
        lines = [ln for ln in doc.content.splitlines() if _words(ln) & terms]
        return {
            "document_id": doc.document_id,
            "score": round(score, 4),
            "content": doc.content[:500],
            "metadata": self._metadata(doc),
            "highlight": {"text": lines[:3]},
        }

    async def _search(self, request: Request) -> Response:
        try:
            body = await request.json()
            text, collection = str(body["text"]), str(body.get("collection", "general"))
            page, size = int(body.get("page", 1)), int(body.get("page_size", 10))
            filters = body.get("filters") or {}
        except (ValueError, KeyError, TypeError):
            return _error(400, "VALIDATION_ERROR", "bad search request")
        if self.search_gate is not None:
            await asyncio.to_thread(self.search_gate.wait, 10)
        terms = _words(text)
        wanted_tags = filters.get("tags") or []
        if isinstance(wanted_tags, str):
            wanted_tags = [t for t in wanted_tags.split(",") if t]
        scored = []
        for doc in list(self.documents.values()):
            if doc.collection != collection or doc.status != "completed" or not terms:
                continue
            if "course_id" in filters and filters["course_id"] != doc.course_id:
                continue
            if not set(wanted_tags) <= set(doc.tags):
                continue
            score = len(_words(doc.content) & terms) / len(terms)
            if score > 0 and score >= float(body.get("min_score", 0)):
                scored.append((score, doc))
        scored.sort(key=lambda pair: (-pair[0], pair[1].document_id))
        window = scored[(page - 1) * size : page * size]
        return JSONResponse(
            {
                "results": [self._hit(doc, score, terms) for score, doc in window],
                "pagination": {
                    "current_page": page,
                    "total_pages": -(-len(scored) // size) if size else 0,
                    "total_results": len(scored),
                },
            }
        )

    async def _similar(self, request: Request) -> Response:
        doc = self.documents.get(request.path_params["document_id"])
        if doc is None:
            return _error(404, "NOT_FOUND", "Document not found")
        limit = int(request.query_params.get("limit", 10))
        mine = _words(doc.content)
        scored = []
        for other in list(self.documents.values()):
            if other is doc or other.collection != doc.collection or other.status != "completed":
                continue
            shared = mine & _words(other.content)
            if shared:
                scored.append((len(shared) / len(mine | _words(other.content)), other))
        scored.sort(key=lambda pair: (-pair[0], pair[1].document_id))
        return JSONResponse(
            {"results": [self._hit(o, s, mine) for s, o in scored[:limit]]},
        )
