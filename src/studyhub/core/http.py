"""Conditional requests (RFC 9110 §13): strong ETags, `If-None-Match` → 304, `If-Match` → 412.

Any domain can use these for its single-resource reads and updates:

- reads: `conditional_read(model, response, if_none_match)` sets the `ETag` and returns either the
  model or an empty 304 response;
- updates: compute `compute_etag(<the representation of the row as currently stored>)` **inside the
  write transaction, after locking the row** (the repository loads it `FOR UPDATE` on PostgreSQL;
  SQLite write transactions already hold the database lock from `BEGIN IMMEDIATE`), then call
  `check_if_match(if_match, etag)`. Comparing against a copy read before the lock would let two
  concurrent updates with the same `If-Match` both succeed: the lost update this exists to stop.

The ETag is derived from the response representation itself, so it changes exactly when what a
client sees changes, and a GET and the response to a PATCH agree on it without extra bookkeeping.
"""

from __future__ import annotations

import hashlib
import re
from typing import Annotated, TypeVar

from fastapi import Header, Request, Response
from pydantic import BaseModel

from studyhub.core.errors import PreconditionFailed, ValidationFailed

M = TypeVar("M", bound=BaseModel)

# Revalidate on every use (`no-cache`), so a stored copy is never shown without the server
# checking access again; `private` keeps authenticated data out of shared caches.
CONDITIONAL_CACHE_CONTROL = "private, no-cache"

IfNoneMatch = Annotated[
    str | None,
    Header(
        alias="If-None-Match",
        max_length=2048,
        description="ETag(s) from an earlier read; if one still matches the answer is 304",
    ),
]
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=2048,
        description="ETag of the version being changed; a stale one is 412 PRECONDITION_FAILED",
    ),
]

_ENTITY_TAG = re.compile(r'\s*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*(?:,|$)')


def compute_etag(model: BaseModel) -> str:
    """A strong ETag for a representation: a digest of its JSON (128 bits, quoted)."""
    return etag_of(model.model_dump_json().encode())


def etag_of(body: bytes) -> str:
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def _parse(header: str) -> list[tuple[bool, str]] | None:
    """`(weak, opaque)` pairs of an `If-Match`/`If-None-Match` value; None stands for `*`.

    A malformed list yields whatever parsed before the error: an unparseable precondition never
    matches, which is the safe side for `If-Match` (412) and for `If-None-Match` (a full 200).
    """
    value = header.strip()
    if value == "*":
        return None
    tags: list[tuple[bool, str]] = []
    position = 0
    while position < len(value):
        match = _ENTITY_TAG.match(value, position)
        if match is None:
            break
        tags.append((match.group(1) is not None, match.group(2)))
        position = match.end()
    return tags


def _opaque(etag: str) -> str:
    return etag.removeprefix("W/").strip('"')


def if_none_match_hits(if_none_match: str | None, etag: str) -> bool:
    """True when the client's copy is current (weak comparison, as RFC 9110 requires here)."""
    if if_none_match is None:
        return False
    tags = _parse(if_none_match)
    return tags is None or any(opaque == _opaque(etag) for _weak, opaque in tags)


def check_if_match(if_match: str | None, current_etag: str) -> None:
    """Raise `PreconditionFailed` unless `If-Match` names the current version (strong comparison).

    A missing header is allowed (the update is unconditional); `*` matches any existing resource.
    """
    if if_match is None:
        return
    tags = _parse(if_match)
    if tags is None:
        return
    if not any(not weak and opaque == _opaque(current_etag) for weak, opaque in tags):
        raise PreconditionFailed(
            "The resource was changed since you read it; fetch it again and retry",
            headers={"ETag": current_etag},
        )


def set_etag(response: Response, etag: str) -> None:
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = CONDITIONAL_CACHE_CONTROL


def conditional_read(model: M, response: Response, if_none_match: str | None) -> Response:
    """The model as JSON with its `ETag`, or an empty 304 when `If-None-Match` already names it.

    The body is serialised once and hashed for the ETag from the same bytes (returning the model
    would have FastAPI serialise it a second time). Routes keep their `response_model` for the
    OpenAPI document."""
    return conditional_json(model.model_dump_json().encode(), response, if_none_match)


def conditional_json(body: bytes, response: Response, if_none_match: str | None) -> Response:
    """`conditional_read` for a body already serialised."""
    etag = etag_of(body)
    headers = {"ETag": etag, "Cache-Control": CONDITIONAL_CACHE_CONTROL}
    if if_none_match_hits(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    # Headers set on the injected response (e.g. by dependencies) are carried over.
    carried = {
        name: value
        for name, value in response.headers.items()
        if name not in {"content-length", "content-type"}
    }
    merged = {**carried, **headers}
    return Response(body, media_type="application/json", headers=merged)


def json_with_etag(body: bytes) -> Response:
    """A serialised representation with its `ETag` (e.g. the answer to an update)."""
    headers = {"ETag": etag_of(body), "Cache-Control": CONDITIONAL_CACHE_CONTROL}
    return Response(body, media_type="application/json", headers=headers)


NOT_MODIFIED_RESPONSE: dict[int | str, dict[str, str]] = {
    304: {"description": "Not Modified: the `If-None-Match` ETag is still current"}
}


async def storable_query(request: Request) -> None:
    """Every API route: a query parameter carrying a NUL character is a 400. PostgreSQL refuses
    NUL in text parameters (a search answered 500 there); SQLite would have matched nothing."""
    bad = sorted(
        {key for key, value in request.query_params.multi_items() if "\x00" in key + value}
    )
    if bad:
        raise ValidationFailed(
            details={key.replace("\x00", "\\0"): ["must not contain NUL characters"] for key in bad}
        )
