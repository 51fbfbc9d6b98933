"""One error hierarchy and the one error body of API.md §0.

Services raise subclasses of `AppError`; the handlers registered by `install_error_handlers` turn
them, framework errors and unexpected exceptions into
`{"error", "message", "details", "request_id"}`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger("studyhub.errors")


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: str = Field(examples=["NOT_FOUND"])
    message: str = Field(examples=["Course not found"])
    details: dict[str, Any] | None = None
    request_id: str = Field(examples=["5f2b8c0e9d7a4c1b8e6f3a2d1c0b9a87"])


class AppError(Exception):
    """Base of every error the service means to return to a client."""

    status_code: int = 500
    code: str = "INTERNAL_ERROR"
    message: str = "Internal server error"
    # Commit the request's writes even though the request fails: for errors that must leave a
    # trace, such as revoking a session whose refresh token was replayed.
    keep_changes: bool = False

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        keep_changes: bool | None = None,
    ) -> None:
        if keep_changes is not None:
            self.keep_changes = keep_changes
        self.message = message or type(self).message
        self.code = code or type(self).code
        self.details = dict(details) if details is not None else None
        self.headers = dict(headers) if headers else {}
        super().__init__(self.message)


class ValidationFailed(AppError):
    status_code, code, message = 400, "VALIDATION_ERROR", "The request is not valid"


class Unauthorized(AppError):
    status_code, code, message = 401, "UNAUTHORIZED", "Authentication required"

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.headers.setdefault("WWW-Authenticate", "Bearer")


class Forbidden(AppError):
    status_code, code, message = 403, "FORBIDDEN", "You may not do this"


class NotFound(AppError):
    status_code, code, message = 404, "NOT_FOUND", "Not found"


class Conflict(AppError):
    status_code, code, message = 409, "CONFLICT", "Conflict with the current state"


class PreconditionFailed(AppError):
    status_code, code, message = 412, "PRECONDITION_FAILED", "The resource has changed"


class PayloadTooLarge(AppError):
    status_code, code, message = 413, "PAYLOAD_TOO_LARGE", "Request body too large"


class UnsupportedMediaType(AppError):
    status_code, code, message = 415, "UNSUPPORTED_MEDIA_TYPE", "Unsupported media type"


class RateLimited(AppError):
    status_code, code, message = 429, "RATE_LIMITED", "Too many requests"

    def __init__(self, retry_after: int, message: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.headers["Retry-After"] = str(max(1, retry_after))


class BadGateway(AppError):
    status_code, code, message = 502, "BAD_GATEWAY", "An upstream service answered badly"


class ServiceUnavailable(AppError):
    status_code, code, message = 503, "SERVICE_UNAVAILABLE", "Service temporarily unavailable"

    def __init__(self, message: str | None = None, retry_after: int = 1, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.headers.setdefault("Retry-After", str(retry_after))


class GatewayTimeout(AppError):
    status_code, code, message = 504, "GATEWAY_TIMEOUT", "An upstream service timed out"


_STATUS_CODES: dict[int, str] = {
    400: "VALIDATION_ERROR",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    409: "CONFLICT",
    412: "PRECONDITION_FAILED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED",
    431: "REQUEST_HEADER_FIELDS_TOO_LARGE",
}


def request_id_of(request: Request) -> str:
    return str(getattr(request.state, "request_id", "") or "")


def error_response(
    request: Request,
    status_code: int,
    code: str,
    message: str,
    details: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = {
        "error": code,
        "message": message,
        "details": dict(details) if details is not None else None,
        "request_id": request_id_of(request),
    }
    return JSONResponse(body, status_code=status_code, headers=dict(headers or {}))


# A location part that is echoed as it is: field names and indexes. Anything else in a location
# is client-chosen (an unknown key, a map key) and may be markup, a secret or megabytes long.
_ECHOABLE_LOC_PART = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def validation_details(errors: Sequence[Any]) -> dict[str, list[str]]:
    """Map pydantic errors to `{"field.path": [messages]}`, never echoing the submitted input:
    a key that is not a plain name (say `<script>`) is reported as `*`."""
    details: dict[str, list[str]] = {}
    for err in errors:
        loc = [str(part) for part in err.get("loc", ())]
        if len(loc) > 1 and loc[0] in {"body", "query", "path", "header", "cookie"}:
            loc = loc[1:]
        loc = [part if _ECHOABLE_LOC_PART.match(part) else "*" for part in loc]
        field = ".".join(loc) or "body"
        message = str(err.get("msg", "Invalid value"))
        details.setdefault(field, []).append(message)
    return details


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    exc = cast(AppError, exc)
    return error_response(request, exc.status_code, exc.code, exc.message, exc.details, exc.headers)


async def _request_validation(request: Request, exc: Exception) -> JSONResponse:
    exc = cast(RequestValidationError, exc)
    return error_response(
        request,
        400,
        "VALIDATION_ERROR",
        "The request is not valid",
        validation_details(exc.errors()),
    )


async def _http_exception(request: Request, exc: Exception) -> JSONResponse:
    exc = cast(StarletteHTTPException, exc)
    status = exc.status_code
    code = _STATUS_CODES.get(status, HTTPStatus(status).phrase.upper().replace(" ", "_"))
    if status == 404:
        message = "Not found"
    elif status == 400:
        message = "The request body could not be parsed"
    else:
        message = HTTPStatus(status).phrase
    return error_response(request, status, code, message, None, exc.headers)


def _is_transient_db_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    if isinstance(exc, sa_exc.OperationalError) and "database is locked" in text:
        return True
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    # Pool exhausted, or the server went away: retrying later can succeed.
    return isinstance(exc, sa_exc.TimeoutError | sa_exc.InterfaceError) or (
        isinstance(exc, sa_exc.OperationalError)
        and any(word in text for word in ("connection", "could not connect", "terminating"))
    )


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    if _is_transient_db_error(exc):
        logger.warning("database unavailable: %s", type(exc).__name__)
        return error_response(
            request,
            503,
            "SERVICE_UNAVAILABLE",
            "The database is busy or unavailable; retry shortly",
            None,
            {"Retry-After": "1"},
        )
    return await unexpected_error(request, exc)


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error", exc_info=exc)
    return error_response(request, 500, "INTERNAL_ERROR", "Internal server error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(sa_exc.SQLAlchemyError, _database_error)
