"""Two server processes sharing the database and Redis (as two replicas or workers would): a
logout on one is honoured by the other at once."""

from __future__ import annotations

import httpx
import pytest

from studyhub.core.config import Settings
from studyhub.core.db import Database
from studyhub.users.models import UserRole
from tests.factories import DEFAULT_PASSWORD, enroll, make_course, make_user
from tests.support.server import running_server

pytestmark = pytest.mark.redis


async def test_logout_on_one_process_is_honoured_by_the_other(
    settings: Settings, database: Database, redis_url: str, cache_prefix: str
) -> None:
    user = await make_user(database)
    env = {
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": redis_url,
        "CACHE_PREFIX": cache_prefix + "two:",
        "SECRET_KEY": "a-shared-secret-key-for-both-processes-0123",
    }
    with running_server(env) as first, running_server(env) as second:
        async with httpx.AsyncClient(timeout=10) as client:
            login = await client.post(
                f"{first}/api/v1/auth/login",
                json={"username": user.username, "password": DEFAULT_PASSWORD},
            )
            assert login.status_code == 200, login.text
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            assert (
                await client.get(f"{second}/api/v1/auth/me", headers=headers)
            ).status_code == 200
            # Warm the second process's view, then log out through the first.
            logout = await client.post(f"{first}/api/v1/auth/logout", headers=headers)
            assert logout.status_code == 204
            after = await client.get(f"{second}/api/v1/auth/me", headers=headers)
            assert after.status_code == 401


async def test_rate_limits_are_shared_between_processes(
    settings: Settings, redis_url: str, cache_prefix: str
) -> None:
    env = {
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": redis_url,
        "CACHE_PREFIX": cache_prefix + "two-rl:",
        "RATE_LIMIT_PER_MINUTE": "6",
    }
    with running_server(env) as first, running_server(env) as second:
        async with httpx.AsyncClient(timeout=10) as client:
            statuses = []
            for number in range(8):
                base = first if number % 2 == 0 else second
                statuses.append((await client.get(f"{base}/api/v1/auth/me")).status_code)
    # One quota of 6 for the client IP across both processes: the 7th request is refused. With
    # a quota per process each would still allow it (4 requests each).
    assert statuses[:6] == [401] * 6
    assert statuses[6:] == [429, 429]


async def test_a_course_change_through_one_process_shows_in_the_others_cache(
    settings: Settings, database: Database, redis_url: str, cache_prefix: str
) -> None:
    teacher = await make_user(database, role=UserRole.TEACHER)
    student = await make_user(database)
    course = await make_course(database, teacher)
    await enroll(database, course, student)
    env = {
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": redis_url,
        "CACHE_PREFIX": cache_prefix + "two-courses:",
        "SECRET_KEY": "a-shared-secret-key-for-both-processes-0123",
    }
    path = f"/api/v1/courses/{course.id}"
    with running_server(env) as first, running_server(env) as second:
        async with httpx.AsyncClient(timeout=10) as client:

            async def headers(base: str, username: str) -> dict[str, str]:
                login = await client.post(
                    f"{base}/api/v1/auth/login",
                    json={"username": username, "password": DEFAULT_PASSWORD},
                )
                return {"Authorization": f"Bearer {login.json()['access_token']}"}

            as_teacher = await headers(first, teacher.username)
            as_student = await headers(second, student.username)
            cached = await client.get(f"{second}{path}", headers=as_student)
            assert cached.json()["name"] != "Changed elsewhere"
            changed = await client.patch(
                f"{first}{path}", json={"name": "Changed elsewhere"}, headers=as_teacher
            )
            assert changed.status_code == 200, changed.text
            after = await client.get(f"{second}{path}", headers=as_student)
            assert after.json()["name"] == "Changed elsewhere"
            seen_by_teacher = await client.get(f"{second}{path}", headers=as_teacher)
            assert seen_by_teacher.headers["etag"] == changed.headers["etag"]
