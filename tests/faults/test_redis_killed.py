"""Redis killed under a running server, then restarted on the same port (DESIGN.md §9).

A private `redis-server` (never the shared one) backs the real service. Killed mid-run: students
keep working (fail-open denylist, in-process rate limits, cache misses served from the database),
logins, refreshes and logouts work (sessions live in the database), admins get 503 with the
documented body, readiness says `degraded`, and no request is slow (each one's own elapsed time,
measured by the client, stays under 2 s). Restarted: the same process recovers on its own.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from studyhub.users.models import UserRole
from tests.factories import enroll, make_course, make_lecture, make_user, make_week
from tests.helpers import bearer, login
from tests.support.processes import (
    PrivateRedis,
    Service,
    assert_error_body,
    seeded_database,
    sqlite_url,
    wait_for,
)

pytestmark = pytest.mark.process

BOUND_SECONDS = 2.0  # generous: the design's budget is ~250 ms per Redis call plus a breaker


def quick(response: httpx.Response) -> httpx.Response:
    elapsed = response.elapsed.total_seconds()
    assert elapsed < BOUND_SECONDS, f"{response.request.url} took {elapsed:.2f} s"
    return response


async def test_users_keep_working_admins_get_503_and_redis_comes_back(tmp_path: Path) -> None:
    async with seeded_database(sqlite_url(tmp_path)) as db:
        teacher = await make_user(db, role=UserRole.TEACHER)
        student = await make_user(db)
        admin = await make_user(db, role=UserRole.ADMIN)
        course = await make_course(db, teacher)
        week = await make_week(db, course)
        lecture = await make_lecture(db, week)
        await enroll(db, course, student)

    with (
        PrivateRedis(tmp_path) as redis,
        Service(
            {
                "DATABASE_URL": sqlite_url(tmp_path),
                "REDIS_URL": redis.url,
                "RATE_LIMIT_PER_MINUTE": "500",
            },
            tmp_path,
        ) as app,
    ):
        async with httpx.AsyncClient(base_url=app.url, timeout=10) as client:
            student_tokens = await login(client, student.username)
            student_h = bearer(student_tokens["access_token"])
            admin_h = bearer((await login(client, admin.username))["access_token"])
            course_url = f"/api/v1/courses/{course.id}"
            progress_url = f"{course_url}/lectures/{lecture.id}/progress"
            ready = await client.get("/health/ready")
            assert ready.json()["checks"]["cache"]["status"] == "ok"
            assert (await client.get("/api/v1/users", headers=admin_h)).status_code == 200
            assert (await client.get(course_url, headers=student_h)).status_code == 200

            redis.kill()

            refresh_token = student_tokens["refresh_token"]
            for _round in range(4):
                me = quick(await client.get("/api/v1/auth/me", headers=student_h))
                assert me.status_code == 200, me.text
                assert "x-ratelimit-limit" in me.headers  # limits fall back to in-process
                outline = quick(await client.get(course_url, headers=student_h))
                assert outline.status_code == 200, outline.text
                event = quick(
                    await client.post(
                        progress_url, json={"state": "in_progress"}, headers=student_h
                    )
                )
                assert event.status_code == 200, event.text
                # Fail closed for admins: 503 with the documented body and Retry-After.
                denied = quick(await client.get("/api/v1/users", headers=admin_h))
                assert_error_body(denied, 503, "SERVICE_UNAVAILABLE")
                assert "retry-after" in denied.headers
                fresh = quick(
                    await client.post(
                        "/api/v1/auth/login",
                        json={"username": student.username, "password": "correct horse battery"},
                    )
                )
                assert fresh.status_code == 200, fresh.text
                refreshed = quick(
                    await client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})
                )
                assert refreshed.status_code == 200, refreshed.text
                refresh_token = refreshed.json()["refresh_token"]
                ready = quick(await client.get("/health/ready"))
                assert ready.status_code == 200
                assert ready.json()["status"] == "degraded"
                assert ready.json()["checks"]["cache"]["status"] == "degraded"
            logout = quick(
                await client.post(
                    "/api/v1/auth/logout", headers=bearer(fresh.json()["access_token"])
                )
            )
            assert logout.status_code == 204
            # The logged-out session is revoked in the database: its refresh token is dead.
            dead = await client.post(
                "/api/v1/auth/refresh", json={"refresh_token": fresh.json()["refresh_token"]}
            )
            assert_error_body(dead, 401, "INVALID_REFRESH_TOKEN")

            redis.start()  # same port, empty (no persistence)

            async def recovered() -> bool:
                ready = await client.get("/health/ready")
                return bool(ready.json()["status"] == "ok")

            # The breaker lets a probe through after its cooldown: no restart of the app.
            await wait_for(recovered, "readiness ok after Redis came back", deadline_seconds=30)
            admin_users = quick(await client.get("/api/v1/users", headers=admin_h))
            assert admin_users.status_code == 200, admin_users.text
            me = quick(await client.get("/api/v1/auth/me", headers=student_h))
            assert me.status_code == 200
            # The denylist works again: a logout now is honoured at once.
            logout = await client.post("/api/v1/auth/logout", headers=student_h)
            assert logout.status_code == 204
            after = await client.get("/api/v1/auth/me", headers=student_h)
            assert_error_body(after, 401)
        assert app.terminate(), app.stderr()[-3000:]
    assert "Traceback" not in app.stderr()
