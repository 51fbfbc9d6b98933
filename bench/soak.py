"""Soak: the service under a steady, realistic load for minutes; errors, latency and memory.

    .venv/bin/python -m bench.soak [--minutes 10] [--rate R] [--postgres URL] [--students 40]

Starts the service (1 worker, production settings: argon2 at production cost, a random
SECRET_KEY), SQLite by default or `--postgres URL` (a scratch database: its schema is migrated),
and the fake StudyIndexer (tests/support) for search and indexing. Seeds through the API: demo data
(`studyhub seed`), a course with weeks, lectures and a practice assignment, and `--students`
registered students enrolled in it. Measures the peak rate of the mix briefly (closed loop),
then offers ~70 % of it (or `--rate`) as an open loop for `--minutes`: login, catalog, course
outline, progress events, submissions and search. Reports errors, p50/p99 per minute, the
server's RSS per minute (/proc/<pid>/status) and the least-squares RSS slope; writes
bench/results/soak.json (`--minutes` under 1, the smoke mode, writes soak-smoke.json).
Exit status 1 when any request failed. Run the 10-minute soak on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from tests.support.fake_indexer import API_KEY, Document, FakeIndexer

from bench._server import run_server, studyhub, studyhub_command
from bench.run import rss_mb

RESULTS = Path(__file__).parent / "results"
PASSWORD = "bench-password-1"
LECTURES = 12
MIX = {  # operation: weight (percent)
    "login": 4,
    "catalog": 14,
    "outline": 26,
    "progress": 30,
    "submission": 10,
    "search": 16,
}
MAX_IN_FLIGHT = 256


@dataclass
class World:
    course_id: int
    lecture_ids: list[int]
    assignment_id: int
    question_id: int
    students: list[str]
    tokens: dict[str, str] = field(default_factory=dict)


@dataclass
class Sample:
    at: float  # seconds since the run started
    op: str
    ms: float
    ok: bool
    detail: str = ""


def environment(args: argparse.Namespace, workdir: Path, indexer: FakeIndexer) -> dict[str, str]:
    return {
        "ENVIRONMENT": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": args.postgres or f"sqlite:///{workdir / 'soak.db'}",
        "UPLOAD_DIR": str(workdir / "uploads"),
        "LOG_DIR": "",
        "LOG_LEVEL": "WARNING",
        "SEED_PASSWORD": PASSWORD,
        "REDIS_URL": "",
        "INDEXER_URL": indexer.url,
        "INDEXER_API_KEY": API_KEY,
        # One client IP generates all the load: the per-IP limits would be the bottleneck.
        "RATE_LIMIT_PER_MINUTE": "100000000",
        "LOGIN_MAX_FAILURES_PER_ACCOUNT": "1000000",
        "LOGIN_MAX_FAILURES_PER_IP": "1000000",
    }


async def _call(
    client: httpx.AsyncClient, method: str, path: str, token: str | None = None, **kw: Any
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.request(method, path, headers=headers, **kw)
    if response.status_code >= 400:
        raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:300]}")
    return response.json() if response.content else None


async def _login(client: httpx.AsyncClient, username: str) -> str:
    body = await _call(
        client, "POST", "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
    )
    return str(body["access_token"])


async def seed(url: str, students: int) -> World:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        teacher = await _login(client, "teacher")
        course = await _call(
            client,
            "POST",
            "/api/v1/courses",
            teacher,
            json={"code": "SOAK1", "name": "Soak biology", "status": "published"},
        )
        cid = course["id"]
        lecture_ids = []
        for number in range(1, 4):
            week = await _call(
                client,
                "POST",
                f"/api/v1/courses/{cid}/weeks",
                teacher,
                json={"number": number, "title": f"Week {number}", "is_published": True},
            )
            for n in range(LECTURES // 3):
                lecture = await _call(
                    client,
                    "POST",
                    f"/api/v1/courses/{cid}/weeks/{week['id']}/lectures",
                    teacher,
                    json={
                        "title": f"Enzymes {number}.{n}",
                        "content_type": "youtube",
                        "url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
                        "duration_seconds": 600,
                        "is_published": True,
                    },
                )
                lecture_ids.append(lecture["id"])
        question = await _call(
            client,
            "POST",
            f"/api/v1/courses/{cid}/questions",
            teacher,
            json={
                "title": "Catalysts",
                "content": "What speeds up reactions?",
                "type": "mcq",
                "options": ["heat only", "enzymes", "water", "salt"],
                "correct_answer": 1,
                "status": "active",
            },
        )
        assignment = await _call(
            client,
            "POST",
            f"/api/v1/courses/{cid}/weeks/{week['id']}/assignments",
            teacher,
            json={
                "title": "Practice",
                "type": "practice",
                "is_published": True,
                "question_ids": [question["id"]],
            },
        )
        names = [f"soak{n:03d}" for n in range(students)]
        world = World(cid, lecture_ids, assignment["id"], question["id"], names)
        for name in names:
            await _call(
                client,
                "POST",
                "/api/v1/auth/register",
                json={"username": name, "email": f"{name}@example.org", "password": PASSWORD},
            )
            world.tokens[name] = token = await _login(client, name)
            await _call(client, "POST", f"/api/v1/courses/{cid}/enroll", token)
        return world


async def operation(client: httpx.AsyncClient, world: World, op: str, rnd: random.Random) -> str:
    """One request of the mix; returns "" when it answered as expected, else what went wrong."""
    name = rnd.choice(world.students)
    token = world.tokens[name]
    headers = {"Authorization": f"Bearer {token}"}
    course = f"/api/v1/courses/{world.course_id}"
    if op == "login":
        response = await client.post(
            "/api/v1/auth/login", json={"username": name, "password": PASSWORD}
        )
    elif op == "catalog":
        response = await client.get("/api/v1/courses", params={"per_page": 20}, headers=headers)
    elif op == "outline":
        response = await client.get(course, headers=headers)
    elif op == "progress":
        lecture = rnd.choice(world.lecture_ids)
        response = await client.post(
            f"{course}/lectures/{lecture}/progress",
            json={"position_seconds": rnd.randint(0, 600), "active_seconds": 10},
            headers=headers,
        )
    elif op == "submission":
        response = await client.post(
            f"{course}/assignments/{world.assignment_id}/submissions",
            json={"answers": {str(world.question_id): rnd.randint(0, 3)}},
            headers=headers,
        )
    else:
        response = await client.get(
            "/api/v1/search", params={"q": "enzymes catalysts", "scope": "courses"}, headers=headers
        )
    if response.status_code >= 400:
        return f"{op} {response.status_code} {response.text[:200]}"
    return ""


def _pick(rnd: random.Random) -> str:
    return rnd.choices(list(MIX), weights=list(MIX.values()))[0]


async def measure_peak(url: str, world: World, seconds: float, concurrency: int) -> float:
    """Closed loop: `concurrency` clients back to back; completed requests per second."""
    done = 0
    stop = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:

        async def loop(seed_: int) -> None:
            nonlocal done
            rnd = random.Random(seed_)
            while time.monotonic() < stop:
                await operation(client, world, _pick(rnd), rnd)
                done += 1

        await asyncio.gather(*(loop(n) for n in range(concurrency)))
    return done / seconds


async def soak(url: str, pid: int, world: World, rate: float, seconds: float) -> dict[str, Any]:
    samples: list[Sample] = []
    rss: list[tuple[float, float]] = []
    rnd = random.Random(42)
    in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
    limits = httpx.Limits(max_connections=MAX_IN_FLIGHT, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        started = time.monotonic()

        async def one(op: str) -> None:
            async with in_flight:
                begun = time.monotonic()
                try:
                    detail = await operation(client, world, op, rnd)
                except httpx.HTTPError as exc:
                    detail = f"{op} {type(exc).__name__}"
                end = time.monotonic()
                samples.append(
                    Sample(begun - started, op, (end - begun) * 1000, not detail, detail)
                )

        async def sample_rss() -> None:
            while time.monotonic() - started < seconds:
                rss.append((time.monotonic() - started, rss_mb(pid)))
                await asyncio.sleep(5)

        sampler = asyncio.create_task(sample_rss())
        tasks: set[asyncio.Task[None]] = set()
        sent = 0
        while (elapsed := time.monotonic() - started) < seconds:
            due = int(elapsed * rate) + 1
            while sent < due:
                task = asyncio.create_task(one(_pick(rnd)))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                sent += 1
            await asyncio.sleep(max(0.0, (sent / rate) - (time.monotonic() - started)))
        await asyncio.gather(*tasks)
        sampler.cancel()
        rss.append((time.monotonic() - started, rss_mb(pid)))
    return report(samples, rss, rate, seconds)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else 0.0


def slope_mb_per_minute(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of RSS over time."""
    if len(points) < 2:
        return 0.0
    xs = [t / 60 for t, _ in points]
    ys = [mb for _, mb in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var if var else 0.0


def report(
    samples: list[Sample], rss: list[tuple[float, float]], rate: float, seconds: float
) -> dict[str, Any]:
    minutes = []
    for minute in range(max(1, int(-(-seconds // 60)))):
        window = [s for s in samples if minute * 60 <= s.at < (minute + 1) * 60]
        window_rss = [mb for t, mb in rss if minute * 60 <= t < (minute + 1) * 60] or [0.0]
        latencies = [s.ms for s in window]
        minutes.append(
            {
                "minute": minute + 1,
                "requests": len(window),
                "errors": sum(not s.ok for s in window),
                "p50_ms": round(_percentile(latencies, 0.50), 1),
                "p99_ms": round(_percentile(latencies, 0.99), 1),
                "rss_mb": round(max(window_rss), 1),
            }
        )
    errors = [s.detail for s in samples if not s.ok]
    per_op = {
        op: {
            "requests": len(lat := [s.ms for s in samples if s.op == op]),
            "p50_ms": round(_percentile(lat, 0.50), 1),
            "p99_ms": round(_percentile(lat, 0.99), 1),
        }
        for op in MIX
    }
    return {
        "offered_rate_per_second": round(rate, 1),
        "achieved_rate_per_second": round(len(samples) / seconds, 1),
        "requests": len(samples),
        "errors": len(errors),
        "error_kinds": dict(Counter(e.split(" ", 2)[0] + " " + e.split(" ", 2)[1] for e in errors)),
        "first_errors": errors[:10],
        "p50_ms": round(_percentile([s.ms for s in samples], 0.50), 1),
        "p99_ms": round(_percentile([s.ms for s in samples], 0.99), 1),
        "per_minute": minutes,
        "per_operation": per_op,
        "rss_samples_mb": [[round(t, 1), round(mb, 1)] for t, mb in rss],
        "rss_slope_mb_per_minute": round(slope_mb_per_minute(rss), 3),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="studyhub-soak-"))
    indexer = FakeIndexer()
    indexer.start()
    for n in range(30):  # search hits (they join with no lecture: the DB join still runs)
        indexer.documents[f"doc{n}"] = Document(
            f"doc{n}", f"Doc {n}", "enzymes catalysts", "text", "course", [], 1, status="completed"
        )
    try:
        env = environment(args, workdir, indexer)
        studyhub(["init-db"], env, workdir)
        studyhub(["seed"], env, workdir)
        with run_server(studyhub_command(), env, workdir, ready_path="/health/ready") as server:
            world = asyncio.run(seed(server.url, args.students))
            if args.rate:
                peak, rate = None, args.rate
            else:
                peak_seconds = 5.0 if args.minutes < 1 else 20.0
                peak = asyncio.run(measure_peak(server.url, world, peak_seconds, args.concurrency))
                rate = 0.7 * peak
            print(f"peak {peak and round(peak, 1)} req/s; offering {rate:.1f} req/s", flush=True)
            result = asyncio.run(
                soak(server.url, server.process.pid, world, rate, args.minutes * 60)
            )
    finally:
        indexer.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        "database": "postgresql" if args.postgres else "sqlite",
        "minutes": args.minutes,
        "students": args.students,
        "peak_rate_per_second": peak and round(peak, 1),
        "mix_percent": MIX,
        **result,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, help="requests/s to offer (default: 70 %% of peak)")
    parser.add_argument("--postgres", metavar="URL", help="a scratch PostgreSQL database")
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=16, help="clients for the peak")
    parser.add_argument("--output", type=Path, help="default bench/results/soak[-smoke].json")
    args = parser.parse_args()
    result = run(args)
    output = args.output or RESULTS / ("soak.json" if args.minutes >= 1 else "soak-smoke.json")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{'minute':>6} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p99 ms':>8} {'RSS MB':>7}")
    for row in result["per_minute"]:
        print(
            f"{row['minute']:>6} {row['requests']:>8} {row['errors']:>6} {row['p50_ms']:>8} "
            f"{row['p99_ms']:>8} {row['rss_mb']:>7}"
        )
    print(
        f"errors {result['errors']}, p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, "
        f"RSS slope {result['rss_slope_mb_per_minute']} MB/min -> {output}"
    )
    for line in result["first_errors"]:
        print("  error:", line)
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
