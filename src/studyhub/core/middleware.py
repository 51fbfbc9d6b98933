"""The request context middleware: request id, access log, metrics, security headers, last-resort
error handling.

One pure-ASGI middleware rather than several `BaseHTTPMiddleware`s: each layer costs time on every
request, and this one must also see exceptions that escape the app, which Starlette would otherwise
hand to its outermost `ServerErrorMiddleware` where our headers and request id are out of reach.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import params
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from studyhub.core.errors import error_response, unexpected_error
from studyhub.core.metrics import observe_request

access_logger = logging.getLogger("studyhub.access")

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
DOCS_PATHS = ("/docs", "/redoc", "/static-offline-docs")

_API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
# Swagger UI and ReDoc are served from our own origin; both need inline bootstrapping scripts and
# ReDoc runs a worker from a blob URL.
_DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'"
)
_COMMON_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)
_API_HEADERS = (*_COMMON_HEADERS, (b"content-security-policy", _API_CSP.encode()))
_DOCS_HEADERS = (*_COMMON_HEADERS, (b"content-security-policy", _DOCS_CSP.encode()))
_HSTS = (b"strict-transport-security", b"max-age=63072000")
_NO_STORE = (b"cache-control", b"no-store")


def _route_template(scope: Scope) -> str:
    """The matched route's full path template (`/api/v1/courses/{course_id}`), never the raw path.

    FastAPI ≥ 0.16x keeps included routers nested: `scope["route"]` then lacks the prefixes of
    the routers above its own, so its effective route context (full template) is preferred."""
    context = scope.get("fastapi", {}).get("effective_route_context")
    full = getattr(context, "path_format", None)
    if isinstance(full, str) and full:
        return full
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(path) if path else "<unmatched>"


def accepts_uploads(route: object) -> bool:
    """Does this route take a multipart file upload? (A `File` parameter, or a body it parses
    itself and documents as `multipart/form-data`.)"""
    field = getattr(route, "body_field", None)
    if field is not None and isinstance(field.field_info, params.File):
        return True
    extra = getattr(route, "openapi_extra", None) or {}
    content = extra.get("requestBody", {}).get("content", {})
    return "multipart/form-data" in content


@dataclass(frozen=True, slots=True)
class BodyLimit:
    """Request body limits: JSON and forms, and multipart uploads (file plus form overhead).

    The upload allowance belongs to the operations that take uploads, not to whoever claims a
    multipart body: before routing only the largest possible limit is known, so the body is
    held to `for_route` once the route has matched (when the body is first read)."""

    max_bytes: int
    max_upload_bytes: int
    multipart_overhead: int = 64 * 1024

    def _is_multipart(self, scope: Scope) -> bool:
        for name, value in scope["headers"]:
            if name == b"content-type" and value.lower().startswith(b"multipart/"):
                return True
        return False

    def for_scope(self, scope: Scope) -> int:
        """The most any request like this may send, whatever route it reaches."""
        if self._is_multipart(scope):
            return self.max_upload_bytes + self.multipart_overhead
        return self.max_bytes

    def for_route(self, scope: Scope) -> int:
        """The limit of the matched route (the plain limit while no route has matched)."""
        if self._is_multipart(scope) and accepts_uploads(scope.get("route")):
            return self.max_upload_bytes + self.multipart_overhead
        return self.max_bytes


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _limit_receive(receive: Receive, scope: Scope, body_limit: BodyLimit) -> Receive:
    """Count body bytes as they arrive (chunked bodies have no Content-Length to trust), against
    the matched route's limit, decided when the body is first read (after routing)."""
    received = 0
    limit: int | None = None

    async def limited() -> Message:
        nonlocal received, limit
        if limit is None:
            limit = body_limit.for_route(scope)
            length = _content_length(scope)
            if length is not None and length > limit:
                raise HTTPException(413)
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                # An HTTPException, not an AppError: FastAPI re-raises those untouched from body
                # parsing, where any other exception would become a 400.
                raise HTTPException(413)
        return message

    return limited


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, body_limit: BodyLimit, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts
        self.body_limit = body_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = time.perf_counter()
        request_id = self._request_id(scope)
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        path: str = scope["path"]
        status = 500
        response_started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message["headers"] = self._headers(message.get("headers", ()), request_id, path)
            await send(message)

        try:
            limit = self.body_limit.for_scope(scope)
            length = _content_length(scope)
            if length is not None and length > limit:
                response = error_response(
                    Request(scope), 413, "PAYLOAD_TOO_LARGE", "Request body too large"
                )
                await response(scope, receive, send_with_headers)
                return
            await self.app(
                scope, _limit_receive(receive, scope, self.body_limit), send_with_headers
            )
        except Exception as exc:
            if response_started:
                raise
            response = await unexpected_error(Request(scope), exc)
            await response(scope, receive, send_with_headers)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            observe_request(scope["method"], route, status, elapsed)
            if access_logger.isEnabledFor(logging.INFO):  # skip building the record
                access_logger.info(
                    "%s %s %s",
                    scope["method"],
                    path,
                    status,
                    extra={
                        "method": scope["method"],
                        "path": path,
                        "route": route,
                        "status": status,
                        "ms": round(elapsed * 1000, 2),
                        "request_id": request_id,
                        "user_id": state.get("user_id"),
                    },
                )

    def _headers(
        self, headers: Iterable[tuple[bytes, bytes]], request_id: str, path: str
    ) -> list[tuple[bytes, bytes]]:
        """The response's headers plus ours; a header the response set itself wins. (Raw byte
        pairs: this runs on every response, and `MutableHeaders` costs a scan per header.)"""
        out = [(name, value) for name, value in headers if name.lower() != b"x-request-id"]
        present = {name.lower() for name, _ in out}
        out.append((b"x-request-id", request_id.encode("latin-1")))
        defaults: tuple[tuple[bytes, bytes], ...] = (
            _DOCS_HEADERS if path.startswith(DOCS_PATHS) else _API_HEADERS
        )
        if self.hsts:
            defaults = (*defaults, _HSTS)
        if path.startswith("/api/"):
            defaults = (*defaults, _NO_STORE)
        out.extend(header for header in defaults if header[0] not in present)
        return out

    @staticmethod
    def _request_id(scope: Scope) -> str:
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate: str = value.decode("latin-1")
                if _VALID_REQUEST_ID.match(candidate):
                    return candidate
                break
        return uuid.uuid4().hex
