"""Progress at scale: 2,000 students x 100 lectures (~200k progress rows, seeded with bulk SQL).

Runs the real server (uvicorn on loopback) and measures the staff table (page of 50), the
summary, one student's course progress (p50/p99 over sequential requests) and batch ingestion
throughput (events/s, batches of 500). SQLite by default; PostgreSQL with --database-url (an
empty scratch database: the schema is created by `studyhub init-db`).

    .venv/bin/python -m bench.progress [--students 2000] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from bench._server import serve, studyhub
from studyhub.core.config import Settings
from studyhub.core.db import create_engine
from studyhub.core.passwords import PasswordHasher
from studyhub.courses.models import Course, Lecture, Week
from studyhub.enrollments.models import Enrollment
from studyhub.progress.models import LectureProgress
from studyhub.progress.rollups import RollupRepository
from studyhub.users.models import User

PASSWORD = "bench-password-1"
WEEKS, LECTURES_PER_WEEK, DURATION = 10, 10, 600


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


async def seed(database_url: str, students: int) -> dict[str, int]:
    settings = Settings(_env_file=None, database_url=database_url, log_dir=None)
    engine = create_engine(settings)
    now = datetime.now(UTC)
    password_hash = PasswordHasher(fast=True).hash_sync(PASSWORD)
    rnd = random.Random(7)
    users: list[dict[str, Any]] = [
        {
            "username": "teacher0",
            "email": "teacher0@example.org",
            "role": "teacher",
        },
        *(
            {"username": f"s{i}", "email": f"s{i}@example.org", "role": "student"}
            for i in range(students)
        ),
    ]
    for n, user in enumerate(users):
        user.update(
            password_hash=password_hash,
            first_name="First",
            last_name=f"Last{n:05d}",
            is_active=True,
            created_at=now,
            updated_at=now,
        )
    async with engine.begin() as conn:
        await conn.execute(insert(_table(User)), users)
        teacher_id = 1
        course = {
            "id": 1,
            "code": "BENCH",
            "name": "Bench",
            "description": "",
            "status": "published",
            "instructor_id": teacher_id,
            "enrollment_type": "open",
            "enrollment_count": students,
            "created_at": now,
            "updated_at": now,
        }
        await conn.execute(insert(_table(Course)), [course])
        weeks = [
            {"id": w, "course_id": 1, "number": w, "title": f"Week {w}", "description": ""}
            | {"is_published": True, "created_at": now, "updated_at": now}
            for w in range(1, WEEKS + 1)
        ]
        await conn.execute(insert(_table(Week)), weeks)
        lectures = [
            {
                "id": (w - 1) * LECTURES_PER_WEEK + n,
                "course_id": 1,
                "week_id": w,
                "number": n,
                "title": f"Lecture {w}.{n}",
                "description": "",
                "content_type": "youtube",
                "body": "",
                "transcript": "",
                "duration_seconds": DURATION,
                "is_published": True,
                "index_status": "not_indexed",
                "created_at": now,
                "updated_at": now,
            }
            for w in range(1, WEEKS + 1)
            for n in range(1, LECTURES_PER_WEEK + 1)
        ]
        await conn.execute(insert(_table(Lecture)), lectures)
        enrollments = [
            {"course_id": 1, "user_id": uid, "role": "student" if uid > 1 else "teacher"}
            | {"status": "active", "enrolled_at": now, "updated_at": now}
            for uid in range(1, students + 2)
        ]
        await conn.execute(insert(_table(Enrollment)), enrollments)
        rows = []
        for uid in range(2, students + 2):
            done = rnd.randint(0, len(lectures))
            start = now - timedelta(days=rnd.randint(0, 30), hours=2)
            for index, lecture in enumerate(lectures):
                at = start + timedelta(minutes=index)
                complete = index < done
                rows.append(
                    {
                        "user_id": uid,
                        "lecture_id": lecture["id"],
                        "course_id": 1,
                        "state": "completed" if complete else "in_progress",
                        "first_viewed_at": at,
                        "last_viewed_at": at,
                        "position_seconds": DURATION if complete else 60,
                        "position_at": at,
                        "position_event_id": f"seed-{uid}-{index}",
                        "furthest_position_seconds": DURATION if complete else 60,
                        "active_seconds_raw": 120,
                        "watched_at": at if complete else None,
                        "manual_completed_at": None,
                        "completed_at": at if complete else None,
                        "active_seconds": 120,
                        "updated_at": now,
                    }
                )
            if len(rows) >= 20_000:
                await conn.execute(insert(_table(LectureProgress)), rows)
                rows = []
        if rows:
            await conn.execute(insert(_table(LectureProgress)), rows)
    # Bulk-inserted progress bypasses the service, so its rollups are computed here.
    async with AsyncSession(engine) as session:
        await RollupRepository(session).refresh_course(1)
        await session.commit()
    await engine.dispose()
    return {"course_id": 1, "lectures": len(lectures), "progress_rows": students * len(lectures)}


def timed(
    client: httpx.Client, path: str, headers: dict[str, str], rounds: int
) -> dict[str, float]:
    client.get(path, headers=headers)  # warm-up
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p99_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))], 2),
        "rounds": rounds,
    }


def login(client: httpx.Client, username: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def ingest(url: str, headers: dict[str, str], batches: int, size: int) -> int:
    """Send `batches` batches of `size` fresh events; returns the events applied."""
    rnd = random.Random()
    applied = 0
    now = datetime.now(UTC)
    with httpx.Client(base_url=url, timeout=60) as client:
        for _ in range(batches):
            events = [
                {
                    "event_id": uuid.uuid4().hex,
                    "course_id": 1,
                    "lecture_id": rnd.randint(1, WEEKS * LECTURES_PER_WEEK),
                    "type": rnd.choice(["heartbeat", "position", "view"]),
                    "occurred_at": (now - timedelta(seconds=rnd.randint(0, 3600))).isoformat(),
                    "position_seconds": rnd.randint(0, DURATION),
                    "active_seconds": rnd.randint(0, 30),
                }
                for _ in range(size)
            ]
            response = client.post(
                "/api/v1/progress/batch", json={"events": events}, headers=headers
            )
            assert response.status_code == 200, response.text
            applied += sum(r["status"] == "applied" for r in response.json()["results"])
    return applied


def throughput(run: Callable[[], int]) -> tuple[int, float]:
    started = time.perf_counter()
    events = run()
    return events, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        database_url = args.database_url or f"sqlite:///{cwd / 'bench.db'}"
        env = {
            "ENVIRONMENT": "development",
            "DATABASE_URL": database_url,
            "LOG_DIR": "",
            "LOG_LEVEL": "WARNING",
            "PASSWORD_HASH_FAST": "true",
            "RATE_LIMIT_PER_MINUTE": "10000000",
            "LOGIN_MAX_FAILURES_PER_IP": "1000000",
        }
        studyhub(["init-db"], env, cwd)
        started = time.perf_counter()
        seeded = asyncio.run(seed(database_url, args.students))
        seed_seconds = round(time.perf_counter() - started, 1)
        result: dict[str, Any] = {
            "database": database_url.split(":", 1)[0],
            "students": args.students,
            **seeded,
            "seed_seconds": seed_seconds,
        }
        with serve(env, cwd) as url, httpx.Client(base_url=url, timeout=60) as client:
            teacher = login(client, "teacher0")
            student = login(client, "s17")
            base = "/api/v1/courses/1/progress"
            result["students_page_50_by_percentage"] = timed(
                client, f"{base}/students?per_page=50&sort=-percentage", teacher, args.rounds
            )
            result["students_page_50_by_name_page_20"] = timed(
                client, f"{base}/students?per_page=50&page=20&sort=name", teacher, args.rounds
            )
            result["summary"] = timed(client, f"{base}/summary", teacher, max(10, args.rounds // 2))
            result["one_student_course_progress"] = timed(client, base, student, args.rounds * 2)
            one = [login(client, "s1")]
            events, seconds = throughput(lambda: ingest(url, one[0], args.batches, 500))
            result["batch_ingest_sequential"] = {
                "events": events,
                "seconds": round(seconds, 2),
                "events_per_second": round(events / seconds),
            }
            four = [login(client, f"s{i}") for i in range(2, 6)]

            def parallel() -> int:
                with ThreadPoolExecutor(4) as pool:
                    runs = [pool.submit(ingest, url, h, args.batches // 4, 500) for h in four]
                    return sum(r.result() for r in runs)

            events, seconds = throughput(parallel)
            result["batch_ingest_4_clients"] = {
                "events": events,
                "seconds": round(seconds, 2),
                "events_per_second": round(events / seconds),
            }
    print(json.dumps(result, indent=2))
    out = Path(__file__).parent / "results" / "progress.json"
    out.parent.mkdir(exist_ok=True)
    existing = json.loads(out.read_text()) if out.exists() else {}
    existing[result["database"]] = result
    out.write_text(json.dumps(existing, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
