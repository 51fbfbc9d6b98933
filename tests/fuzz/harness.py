"""Shared plumbing of the schemathesis fuzz: the world, the callers, and a bridge for the checks
that send requests of their own.

Schemathesis' probing checks (`ignored_auth`) and its state machine send requests synchronously
through the schema's transport. The app lives on the test's event loop (its engine and Redis
connections are bound to it), so those requests go through a tiny WSGI app that hands them to the
test's `httpx` client on that loop; the synchronous side runs in a worker thread meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

import httpx
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode
from schemathesis.transport.requests import REQUESTS_TRANSPORT

from studyhub.core.config import Settings
from studyhub.core.db import Database
from studyhub.enrollments.models import CourseRole
from studyhub.users.models import User, UserRole
from tests.factories import (
    attach_text_file,
    enroll,
    make_assignment,
    make_course,
    make_lecture,
    make_question,
    make_user,
    make_week,
)

# The fuzz client's address; the auth operations that count failed logins are sent from others.
FUZZ_IP = "203.0.113.10"
BASE_URL = "http://testserver"


async def make_fuzz_users(database: Database) -> dict[str, User]:
    """admin, student, teacher, ta (course roles in the world's course), outsider (teacher of
    another course) and bystander (the only target of user administration)."""
    users = {
        role.value: await make_user(database, role=role, username=f"fuzz_{role.value}")
        for role in UserRole
    }
    users["outsider"] = await make_user(database, role=UserRole.TEACHER, username="fuzz_outsider")
    users["bystander"] = await make_user(database, username="fuzz_bystander")
    return users


async def make_world(
    database: Database, settings: Settings, users: dict[str, User]
) -> dict[str, int]:
    course = await make_course(database, users["teacher"])
    await enroll(database, course, users["ta"], CourseRole.TA)
    await enroll(database, course, users["student"])
    week = await make_week(database, course)
    lecture = await make_lecture(database, week)
    await attach_text_file(database, lecture, settings.upload_dir / "files")
    question = await make_question(database, course)
    assignment = await make_assignment(database, week, [question])
    # The outsider's own course: object-level access is exercised against the world's ids.
    other = await make_course(database, users["outsider"])
    await make_week(database, other)
    return {
        "course_id": course.id,
        "week_id": week.id,
        "lecture_id": lecture.id,
        "qid": question.id,
        "question_id": question.id,
        "aid": assignment.id,
        "assignment_id": assignment.id,
        "user_id": users["bystander"].id,
        "student_id": users["student"].id,
        "other_course_id": other.id,
    }


def generate(operation: Any, examples: int) -> list[Any]:
    """A reproducible batch of cases for one operation (positive and negative)."""
    cases: list[Any] = []
    strategy = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate],
    )
    @given(strategy)
    def collect(case: Any) -> None:
        cases.append(case)

    collect()
    return cases


def send_kwargs(case: Any, headers: dict[str, str]) -> dict[str, Any]:
    # Serialised as for `requests` (httpx takes the same arguments), whatever the schema's app is.
    kwargs: dict[str, Any] = REQUESTS_TRANSPORT.serialize_case(case, base_url=BASE_URL)
    merged = {**(kwargs.pop("headers", None) or {}), **headers}
    # Drop a generated Authorization so the caller's identity is the one under test.
    merged.pop("Authorization", None)
    merged.pop("authorization", None)
    if headers:
        merged["Authorization"] = headers["Authorization"]
    cookies = kwargs.pop("cookies", None)
    if cookies:
        merged["Cookie"] = "; ".join(f"{key}={value}" for key, value in cookies.items())
    if isinstance(kwargs.get("data"), bytes | str):
        kwargs["content"] = kwargs.pop("data")
    kwargs["headers"] = merged
    return kwargs


def client_from(app: FastAPI, ip: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(ip, 50000))
    return httpx.AsyncClient(transport=transport, base_url=BASE_URL)


# Hop-by-hop or already applied by httpx (it decompresses): not passed back to the WSGI side.
_DROPPED = {"content-length", "content-encoding", "transfer-encoding", "connection"}


class Bridge:
    """A WSGI app that forwards every request to `client` on `loop` (which must be free, i.e.
    awaiting the worker thread that calls this app)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, client: httpx.AsyncClient) -> None:
        self.loop = loop
        self.client = client
        self.sent = 0

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        self.sent += 1
        # werkzeug's REQUEST_URI is the raw path without the query string.
        path = environ.get("REQUEST_URI") or quote(
            environ.get("PATH_INFO", "").encode("latin-1"), safe="/%:@!$&'()*+,;=-._~"
        )
        if environ.get("QUERY_STRING"):
            path = f"{path.split('?', 1)[0]}?{environ['QUERY_STRING']}"
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = [
            (key[5:].replace("_", "-").lower(), str(value))
            for key, value in environ.items()
            if key.startswith("HTTP_")
        ]
        if environ.get("CONTENT_TYPE"):
            headers.append(("content-type", environ["CONTENT_TYPE"]))
        future = asyncio.run_coroutine_threadsafe(
            self.client.request(environ["REQUEST_METHOD"], path, headers=headers, content=body),
            self.loop,
        )
        response = future.result(timeout=120)
        start_response(
            f"{response.status_code} {response.reason_phrase}",
            [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _DROPPED],
        )
        return [response.content]
