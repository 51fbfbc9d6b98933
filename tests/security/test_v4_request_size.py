"""ASVS 5.0 V4 API and Web Service / V2.4 anti-automation: request bodies over the limit are
refused with 413 and the one JSON error body, whether the size is announced (`Content-Length`)
or not (chunked transfer), on JSON and on multipart endpoints, before anything is stored.

Covered elsewhere:
- tests/core/test_errors.py::test_body_over_the_limit_is_413_by_content_length (a test route)
- tests/core/test_errors.py::test_body_over_the_limit_is_413_when_chunked (a test route)
- tests/courses/test_files.py::test_too_large_is_413 (a file over the upload limit, announced)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from studyhub.core.config import Settings
from studyhub.core.db import Database
from studyhub.users.models import UserRole
from tests.factories import make_user
from tests.helpers import auth_headers
from tests.security.world import API, build_side

MAX_JSON = 4096
MAX_UPLOAD = 16384
LIMITS = {"max_request_bytes": MAX_JSON, "max_upload_bytes": MAX_UPLOAD}


@pytest.fixture
async def limited(
    make_app: Callable[..., FastAPI], tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app(**LIMITS, upload_dir=tmp_path / "uploads")
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.20", 1))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


def _assert_413(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text[:300]
    body = response.json()
    assert set(body) == {"error", "message", "details", "request_id"}
    assert body["error"] == "PAYLOAD_TOO_LARGE"
    assert body["request_id"] == response.headers["x-request-id"]
    assert response.headers["x-content-type-options"] == "nosniff"


async def _chunks(data: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def _multipart(field: str, name: str, content: bytes, **data: str) -> tuple[bytes, str]:
    request = httpx.Request(
        "POST", "http://x", files={field: (name, content, "text/plain")}, data=data or None
    )
    return request.read(), request.headers["content-type"]


async def _send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    body: bytes,
    content_type: str,
    headers: dict[str, str],
    chunked: bool,
) -> httpx.Response:
    content: Any = _chunks(body) if chunked else body
    response = await client.request(
        method, url, content=content, headers={**headers, "content-type": content_type}
    )
    assert ("content-length" in response.request.headers) is not chunked
    return response


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_json_bodies_over_the_limit(
    limited: httpx.AsyncClient, database: Database, chunked: bool
) -> None:
    teacher = await make_user(database, role=UserRole.TEACHER)
    headers = await auth_headers(limited, teacher.username)
    padding = "x" * (MAX_JSON + 10)
    login = f'{{"username": "someone", "password": "{padding}"}}'.encode()
    _assert_413(
        await _send(limited, "POST", f"{API}/auth/login", login, "application/json", {}, chunked)
    )
    course = f'{{"code": "BIG1", "name": "n", "description": "{padding}"}}'.encode()
    response = await _send(
        limited, "POST", f"{API}/courses", course, "application/json", headers, chunked
    )
    _assert_413(response)
    listed = await limited.get(f"{API}/courses", headers=headers)
    assert listed.json()["courses"] == []


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_only_upload_operations_get_the_upload_allowance(
    limited: httpx.AsyncClient, database: Database, chunked: bool
) -> None:
    """A body that merely claims to be multipart must not buy the (much larger) upload limit on
    an operation that takes no upload, anonymous login included."""
    teacher = await make_user(database, role=UserRole.TEACHER)
    headers = await auth_headers(limited, teacher.username)
    body, content_type = _multipart("file", "x.txt", b"a" * (MAX_JSON + 10), username="u")
    assert len(body) < MAX_UPLOAD
    for method, url, auth in (
        ("POST", f"{API}/auth/login", {}),
        ("POST", f"{API}/auth/token", {}),
        ("POST", f"{API}/courses", headers),
        ("PATCH", f"{API}/auth/me", headers),
    ):
        _assert_413(await _send(limited, method, url, body, content_type, auth, chunked))


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("target", ["lecture", "personal"])
async def test_multipart_bodies_over_the_limit(
    limited: httpx.AsyncClient,
    database: Database,
    settings: Settings,
    tmp_path: Path,
    chunked: bool,
    target: str,
) -> None:
    side = await build_side(database, settings, limited, "size")
    if target == "lecture":
        method, url = "PUT", f"{API}/courses/{side.course.id}/lectures/{side.lecture.id}/file"
        headers = side.headers["teacher"]
    else:
        headers = side.headers["student"]
        folder = await limited.post(f"{API}/personal/folders", json={"name": "F"}, headers=headers)
        method, url = "POST", f"{API}/personal/folders/{folder.json()['id']}/items"
    files_dir = tmp_path / "uploads" / "files"
    before = set(files_dir.iterdir()) if files_dir.exists() else set()
    # Far over the limit (past the multipart allowance): refused by the body limit.
    body, content_type = _multipart("file", "big.txt", b"a" * (MAX_UPLOAD + 128 * 1024))
    _assert_413(await _send(limited, method, url, body, content_type, headers, chunked))
    # Just over the file limit but within the multipart allowance: refused by the file store.
    body, content_type = _multipart("file", "big.txt", b"a" * (MAX_UPLOAD + 1))
    _assert_413(await _send(limited, method, url, body, content_type, headers, chunked))
    after = set(files_dir.iterdir()) if files_dir.exists() else set()
    assert after == before, "a refused upload left a file behind"
