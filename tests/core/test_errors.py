"""The one error body, the transaction boundary, and the request size limit, through HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from studyhub.core.db import Database, SessionDep
from studyhub.core.errors import NotFound
from studyhub.core.passwords import PasswordHasher
from studyhub.users.models import User, UserRole
from studyhub.users.repository import UserRepository
from studyhub.users.service import NewUser, UserService


class Signup(BaseModel):
    username: str = Field(min_length=3, max_length=50)
    password: str = Field(min_length=8, max_length=128)
    age: int = Field(ge=0)


def _routes(app: FastAPI) -> None:
    @app.post("/api/v1/_test/fail-after-write", name="test-fail-after-write")
    async def fail_after_write(session: SessionDep) -> dict[str, str]:
        service = UserService(UserRepository(session), PasswordHasher(fast=True))
        await service.create(
            NewUser("halfway", "halfway@example.test", "password123", UserRole.STUDENT)
        )
        raise RuntimeError("boom after a flushed write")

    @app.post("/api/v1/_test/write", name="test-write")
    async def write(session: SessionDep) -> dict[str, str]:
        service = UserService(UserRepository(session), PasswordHasher(fast=True))
        await service.create(
            NewUser("committed", "committed@example.test", "password123", UserRole.STUDENT)
        )
        return {"status": "written"}

    @app.post("/api/v1/_test/domain-error", name="test-domain-error")
    async def domain_error(session: SessionDep) -> dict[str, str]:
        service = UserService(UserRepository(session), PasswordHasher(fast=True))
        await service.create(
            NewUser("rolledback", "rb@example.test", "password123", UserRole.STUDENT)
        )
        raise NotFound("Course not found")

    @app.post("/api/v1/_test/signup", name="test-signup")
    async def signup(body: Signup) -> dict[str, str]:
        return {"username": body.username}

    @app.get("/api/v1/_test/crash", name="test-crash")
    async def crash() -> dict[str, str]:
        raise ValueError("secret internals: /etc/passwd line 42")


@pytest.fixture
async def errors_client(make_app: Callable[..., FastAPI]) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app(max_request_bytes=4096)
    _routes(app)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def _user_count(database: Database) -> int:
    async with database.session(write=False) as session:
        return int(await session.scalar(select(func.count()).select_from(User)) or 0)


def _assert_error_body(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "message", "details", "request_id"}
    assert body["error"] == code
    assert body["request_id"] == response.headers["x-request-id"]
    return body  # type: ignore[no-any-return]


async def test_a_failing_handler_leaves_no_partial_write(
    errors_client: httpx.AsyncClient, database: Database
) -> None:
    response = await errors_client.post("/api/v1/_test/fail-after-write")
    _assert_error_body(response, 500, "INTERNAL_ERROR")
    assert await _user_count(database) == 0


async def test_a_domain_error_rolls_back_and_keeps_its_status(
    errors_client: httpx.AsyncClient, database: Database
) -> None:
    response = await errors_client.post("/api/v1/_test/domain-error")
    body = _assert_error_body(response, 404, "NOT_FOUND")
    assert body["message"] == "Course not found"
    assert await _user_count(database) == 0


async def test_a_successful_handler_commits_before_responding(
    errors_client: httpx.AsyncClient, database: Database
) -> None:
    response = await errors_client.post("/api/v1/_test/write")
    assert response.status_code == 200
    assert await _user_count(database) == 1


async def test_crash_is_a_json_500_without_internals(errors_client: httpx.AsyncClient) -> None:
    response = await errors_client.get("/api/v1/_test/crash", headers={"X-Request-ID": "req-42"})
    body = _assert_error_body(response, 500, "INTERNAL_ERROR")
    assert body["request_id"] == "req-42"
    assert "passwd" not in response.text
    assert "Traceback" not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_bad_body_is_a_400_with_field_details_and_no_echoed_secret(
    errors_client: httpx.AsyncClient,
) -> None:
    secret = "hunter2"  # too short, so invalid: must not come back in the error
    response = await errors_client.post(
        "/api/v1/_test/signup", json={"username": "x", "password": secret, "age": -1}
    )
    body = _assert_error_body(response, 400, "VALIDATION_ERROR")
    details = body["details"]
    assert isinstance(details, dict)
    assert set(details) == {"username", "password", "age"}
    assert all(isinstance(m, list) and m for m in details.values())
    assert secret not in response.text


async def test_missing_field_and_wrong_type(errors_client: httpx.AsyncClient) -> None:
    response = await errors_client.post(
        "/api/v1/_test/signup", json={"username": "abc", "age": "x"}
    )
    details = _assert_error_body(response, 400, "VALIDATION_ERROR")["details"]
    assert isinstance(details, dict)
    assert set(details) == {"password", "age"}


@pytest.mark.parametrize("content", [b"{not json", b"", b"[1, 2]", b'"string"', b"\xff\xfe"])
async def test_malformed_bodies_are_400(errors_client: httpx.AsyncClient, content: bytes) -> None:
    response = await errors_client.post(
        "/api/v1/_test/signup", content=content, headers={"content-type": "application/json"}
    )
    _assert_error_body(response, 400, "VALIDATION_ERROR")


async def test_unknown_route_is_a_json_404(errors_client: httpx.AsyncClient) -> None:
    for path in ("/api/v1/no-such-thing", "/nothing-here"):
        _assert_error_body(await errors_client.get(path), 404, "NOT_FOUND")


async def test_wrong_method_is_a_json_405(errors_client: httpx.AsyncClient) -> None:
    response = await errors_client.delete("/health")
    _assert_error_body(response, 405, "METHOD_NOT_ALLOWED")


async def test_body_over_the_limit_is_413_by_content_length(
    errors_client: httpx.AsyncClient,
) -> None:
    big = b'{"username": "' + b"a" * 8000 + b'"}'
    response = await errors_client.post(
        "/api/v1/_test/signup", content=big, headers={"content-type": "application/json"}
    )
    _assert_error_body(response, 413, "PAYLOAD_TOO_LARGE")


async def test_body_over_the_limit_is_413_when_chunked(errors_client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"username": "'
        for _ in range(10):
            yield b"a" * 1000
        yield b'"}'

    response = await errors_client.post(
        "/api/v1/_test/signup", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    _assert_error_body(response, 413, "PAYLOAD_TOO_LARGE")
