"""PostgreSQL drops the app's connections (`pg_terminate_backend`, as a failover or an admin
would) while requests are using them: those requests answer 503 with the documented body, never
500, and the pool recovers by itself: the next requests succeed without restarting anything.

Deterministic, no timing: the test holds an ACCESS EXCLUSIVE lock on a table in its own
connection, so the app's request is parked mid-query on a live backend; once PostgreSQL shows it
waiting on the lock, every backend of the scratch database except the test's own is terminated.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from studyhub.users.models import UserRole
from tests.factories import enroll, make_course, make_lecture, make_user, make_week
from tests.helpers import auth_headers
from tests.support.processes import (
    Service,
    assert_error_body,
    scratch_postgres,
    seeded_database,
    wait_for,
)

pytestmark = [pytest.mark.process, pytest.mark.postgres]


async def _connect(url: str) -> asyncpg.Connection:
    parsed = make_url(url)
    return await asyncpg.connect(
        host=parsed.host,
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
        database=parsed.database,
    )


async def _app_backends(conn: asyncpg.Connection, *, waiting: bool = False) -> int:
    query = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid()"
    )
    if waiting:
        query += " AND wait_event_type = 'Lock'"
    return int(await conn.fetchval(query))


async def _terminate_app_backends(conn: asyncpg.Connection) -> int:
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()) AS killed"
        )
    )


async def test_dropped_connections_are_503_then_the_pool_recovers(tmp_path: Path) -> None:
    async with scratch_postgres("pgdrop") as url:
        async with seeded_database(url) as db:
            teacher = await make_user(db, role=UserRole.TEACHER)
            student = await make_user(db)
            course = await make_course(db, teacher)
            week = await make_week(db, course)
            lecture = await make_lecture(db, week)
            await enroll(db, course, student)
        env = {"DATABASE_URL": url, "OUTLINE_CACHE_SECONDS": "0", "DB_POOL_SIZE": "4"}
        course_url = f"/api/v1/courses/{course.id}"
        progress_url = f"{course_url}/lectures/{lecture.id}/progress"
        with Service(env, tmp_path) as app:
            async with httpx.AsyncClient(base_url=app.url, timeout=20) as client:
                headers = await auth_headers(client, student.username)
                assert (await client.get(course_url, headers=headers)).status_code == 200
                assert (
                    await client.post(progress_url, json={"state": "in_progress"}, headers=headers)
                ).status_code == 200
                admin = await _connect(url)
                try:
                    for table, request in (
                        ("lecture_progress", client.post(progress_url, json={}, headers=headers)),
                        ("courses", client.get(course_url, headers=headers)),
                    ):
                        lock = admin.transaction()
                        await lock.start()
                        await admin.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
                        parked = asyncio.ensure_future(request)

                        async def waiting_on_lock() -> bool:
                            return await _app_backends(admin, waiting=True) > 0

                        await wait_for(waiting_on_lock, f"the app's request parked on {table}")
                        assert await _terminate_app_backends(admin) >= 1
                        await lock.rollback()
                        response = await parked
                        assert_error_body(response, 503, "SERVICE_UNAVAILABLE")
                        assert response.headers.get("retry-after") == "1"

                        # Every pooled connection is dead too; pre-ping replaces them.
                        for _ in range(6):
                            ok = await client.get(course_url, headers=headers)
                            assert ok.status_code == 200, ok.text
                            ok = await client.post(
                                progress_url, json={"state": "in_progress"}, headers=headers
                            )
                            assert ok.status_code == 200, ok.text

                    # Idle connections dropped between requests: nobody notices.
                    await wait_for(
                        lambda: _has_backends(admin), "the app to hold pooled connections"
                    )
                    await _terminate_app_backends(admin)
                    statuses = [
                        (await client.get(course_url, headers=headers)).status_code
                        for _ in range(8)
                    ]
                    assert statuses == [200] * 8
                    ready = await client.get("/health/ready")
                    assert ready.json()["checks"]["database"]["status"] == "ok"
                finally:
                    await admin.close()
            assert app.terminate(), app.stderr()[-3000:]
        assert "Traceback" not in app.stderr(), app.stderr()[-5000:]


async def _has_backends(conn: asyncpg.Connection) -> bool:
    return await _app_backends(conn) > 0
