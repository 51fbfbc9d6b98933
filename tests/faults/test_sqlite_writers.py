"""SQLite under 50 concurrent writers, through the real server process on a SQLite file: no lost
update, no "database is locked" answered as a 500 (or at all, within the busy timeout), every
invariant held (capacity, attempt limits, counters)."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import httpx
import pytest

from studyhub.users.models import UserRole
from tests.factories import (
    enroll,
    make_assignment,
    make_course,
    make_lecture,
    make_question,
    make_user,
    make_week,
)
from tests.helpers import auth_headers
from tests.support.processes import Service, seeded_database, sqlite_url

pytestmark = pytest.mark.process

WRITERS = 50


async def test_fifty_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    async with seeded_database(sqlite_url(tmp_path)) as db:
        teacher = await make_user(db, role=UserRole.TEACHER)
        students = [await make_user(db) for _ in range(WRITERS)]
        full = await make_course(db, teacher, max_students=40)
        course = await make_course(db, teacher)
        week = await make_week(db, course)
        lectures = [await make_lecture(db, week, number=n + 1) for n in range(WRITERS)]
        question = await make_question(db, course, correct_answer=1)
        assignment = await make_assignment(db, week, [question], max_attempts=5)
        busy = students[0]
        await enroll(db, course, busy)

    with Service({"DATABASE_URL": sqlite_url(tmp_path), "DB_POOL_SIZE": "10"}, tmp_path) as app:
        limits = httpx.Limits(max_connections=WRITERS + 10, max_keepalive_connections=WRITERS)
        async with httpx.AsyncClient(base_url=app.url, timeout=30, limits=limits) as client:
            tokens = await asyncio.gather(*(auth_headers(client, s.username) for s in students))
            teacher_h = await auth_headers(client, teacher.username)

            # 50 students race for 40 seats.
            enrolled = await asyncio.gather(
                *(client.post(f"/api/v1/courses/{full.id}/enroll", headers=h) for h in tokens)
            )
            statuses = Counter(r.status_code for r in enrolled)
            assert statuses == {201: 40, 409: 10}, [
                r.text for r in enrolled if r.status_code >= 500
            ]
            assert {r.json()["error"] for r in enrolled if r.status_code == 409} == {"COURSE_FULL"}
            summary = await client.get(f"/api/v1/courses/{full.id}", headers=teacher_h)
            assert summary.json()["enrollment_count"] == 40

            # One student completes 50 lectures at once: every completion counts.
            busy_h = tokens[0]
            done = await asyncio.gather(
                *(
                    client.post(
                        f"/api/v1/courses/{course.id}/lectures/{lecture.id}/progress",
                        json={"state": "completed"},
                        headers=busy_h,
                    )
                    for lecture in lectures
                )
            )
            assert [r.status_code for r in done] == [200] * WRITERS, [
                r.text for r in done if r.status_code != 200
            ]
            progress = await client.get(f"/api/v1/courses/{course.id}/progress", headers=busy_h)
            assert progress.status_code == 200, progress.text
            body = progress.json()
            # 50 lectures + the assignment, which is not submitted yet.
            assert (body["completed_items"], body["total_items"]) == (WRITERS, WRITERS + 1)

            # 50 submissions at once against a limit of 5 attempts.
            url = f"/api/v1/courses/{course.id}/assignments/{assignment.id}/submissions"
            submitted = await asyncio.gather(
                *(
                    client.post(url, json={"answers": {str(question.id): 1}}, headers=busy_h)
                    for _ in range(WRITERS)
                )
            )
            statuses = Counter(r.status_code for r in submitted)
            assert statuses == {201: 5, 409: WRITERS - 5}, [
                r.text for r in submitted if r.status_code >= 500
            ]
            attempts = sorted(r.json()["attempt"] for r in submitted if r.status_code == 201)
            assert attempts == [1, 2, 3, 4, 5]
            codes = {r.json()["error"] for r in submitted if r.status_code == 409}
            assert codes == {"MAX_ATTEMPTS_REACHED"}

            # 50 students' progress on one lecture: one row each, none lost.
            await asyncio.gather(
                *(client.post(f"/api/v1/courses/{course.id}/enroll", headers=h) for h in tokens[1:])
            )
            same = await asyncio.gather(
                *(
                    client.post(
                        f"/api/v1/courses/{course.id}/lectures/{lectures[0].id}/progress",
                        json={"state": "completed"},
                        headers=h,
                    )
                    for h in tokens
                )
            )
            assert [r.status_code for r in same] == [200] * WRITERS
            stats = await client.get(
                f"/api/v1/courses/{course.id}/progress/summary", headers=teacher_h
            )
            assert stats.status_code == 200, stats.text
            [first] = [
                i
                for i in stats.json()["items"]
                if i["type"] == "lecture" and i["id"] == lectures[0].id
            ]
            assert first["completed_count"] == WRITERS
        assert app.terminate(), app.stderr()[-3000:]
    log = app.stderr()
    assert "database is locked" not in log
    assert "Traceback" not in log, log[-5000:]
