"""The benchmark suite: the service under load next to a bare Starlette app, in one run.

    .venv/bin/python -m bench.run [--duration 10] [--connections 32] [--database-url URL]
                                  [--redis-url URL] [--only health,course-hot,...]

Starts the service (1 worker, production settings, argon2 at production cost) and the bare
baseline app with the same uvicorn settings on 127.0.0.1, seeds data through the API, drives each
scenario with `wrk` (Debian package; `/search` answers from the tests' fake StudyIndexer) and
prints req/s, p50, p99, server CPU µs per request and RSS, each also as a ratio to the baseline
measured in the same run. Results go to
bench/results/<name>.json and .md. Nothing here asserts timing: it measures and reports.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
from tests.support.fake_indexer import API_KEY, Document, FakeIndexer

from bench._server import Server, run_server, studyhub, studyhub_command

RESULTS = Path(__file__).parent / "results"
LUA = Path(__file__).parent / "wrk" / "request.lua"
PASSWORD = "bench-password-1"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
WARMUP_SECONDS = 1


@dataclass
class Result:
    scenario: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    cpu_us_per_request: float
    non_2xx: int
    ratio_rps: float = 0.0
    note: str = ""


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def wrk(
    server: Server,
    path: str,
    args: argparse.Namespace,
    *,
    name: str,
    method: str = "GET",
    token: str = "",
    body: str = "",
) -> Result:
    env = {**os.environ, "WRK_METHOD": method, "WRK_TOKEN": token, "WRK_BODY": body}

    def load(seconds: int) -> str:
        command = ["wrk", "-t2", f"-c{args.connections}", f"-d{seconds}s", "--latency"]
        command += ["-s", str(LUA), f"{server.url}{path}"]
        return subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout

    # Steady state: the first requests of a scenario fill caches (all connections missing at
    # once) and warm code paths; cold reads have scenarios of their own.
    load(WARMUP_SECONDS)
    before = cpu_seconds(server.process.pid)
    output = load(args.duration)
    cpu = cpu_seconds(server.process.pid) - before
    total = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return Result(name, rps, p50, p99, cpu / max(total, 1) * 1e6, int(bad.group(1)) if bad else 0)


class Api:
    """Just enough of a client to seed the benchmark's data through the real API."""

    def __init__(self, url: str) -> None:
        self.client = httpx.Client(base_url=url, timeout=60)

    def close(self) -> None:
        self.client.close()

    def token(self, username: str) -> str:
        response = self.client.post(
            "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
        )
        response.raise_for_status()
        return str(response.json()["access_token"])

    def call(self, method: str, path: str, token: str, body: Any = None) -> Any:
        response = self.client.request(
            method, path, json=body, headers={"Authorization": f"Bearer {token}"}
        )
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json() if response.content else None


def seed_big_course(api: Api, teacher: str, student_id: int) -> tuple[int, int]:
    """A 16-week course with 3 published lectures a week, the student enrolled. Returns the
    course id and the id of its last lecture."""
    course = api.call(
        "POST",
        "/api/v1/courses",
        teacher,
        {"code": "BENCH16", "name": "Sixteen weeks", "status": "published"},
    )
    for number in range(1, 17):
        week = api.call(
            "POST",
            f"/api/v1/courses/{course['id']}/weeks",
            teacher,
            {"number": number, "title": f"Week {number}", "is_published": True},
        )
        for lecture in range(1, 4):
            created = api.call(
                "POST",
                f"/api/v1/courses/{course['id']}/weeks/{week['id']}/lectures",
                teacher,
                {
                    "title": f"Lecture {number}.{lecture}",
                    "content_type": "text",
                    "body": "<p>" + "Lorem ipsum " * 40 + "</p>",
                    "is_published": True,
                },
            )
    api.call(
        "POST", f"/api/v1/courses/{course['id']}/enrollments", teacher, {"user_id": student_id}
    )
    return int(course["id"]), int(created["id"])


async def login_under_load(url: str, seconds: float) -> Result:
    """8 logins at a time for `seconds`, while a probe measures /health latency: hashing runs
    off the event loop, so the probe should barely notice."""
    stop = time.monotonic() + seconds
    logins = 0
    probes: list[float] = []

    async with httpx.AsyncClient(base_url=url, timeout=30) as client:

        async def login_loop() -> None:
            nonlocal logins
            while time.monotonic() < stop:
                response = await client.post(
                    "/api/v1/auth/login", json={"username": "student", "password": PASSWORD}
                )
                response.raise_for_status()
                logins += 1

        async def probe_loop() -> None:
            while time.monotonic() < stop:
                started = time.perf_counter()
                (await client.get("/health")).raise_for_status()
                probes.append((time.perf_counter() - started) * 1000)
                await asyncio.sleep(0.01)

        await asyncio.gather(*(login_loop() for _ in range(8)), probe_loop())
    probes.sort()
    return Result(
        "login x8 (+ /health probe)",
        logins / seconds,
        statistics.median(probes),
        probes[int(len(probes) * 0.99) - 1],
        0.0,
        0,
        note="req/s = logins/s; p50/p99 = /health latency meanwhile",
    )


def environment(args: argparse.Namespace, workdir: Path) -> dict[str, str]:
    env = {
        "ENVIRONMENT": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": args.database_url or f"sqlite:///{workdir / 'bench.db'}",
        "UPLOAD_DIR": str(workdir / "uploads"),
        "LOG_DIR": "",
        "LOG_LEVEL": "WARNING",
        "SEED_PASSWORD": PASSWORD,
        "RATE_LIMIT_PER_MINUTE": "100000000",
        "LOGIN_MAX_FAILURES_PER_ACCOUNT": "1000000",
        "LOGIN_MAX_FAILURES_PER_IP": "1000000",
        # The relay would upload the demo files to the fake StudyIndexer during the scenarios.
        "OUTBOX_RELAY_ENABLED": "false",
    }
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
        env["CACHE_PREFIX"] = f"bench-{secrets.token_hex(4)}:"
    return env


def run(args: argparse.Namespace) -> dict[str, Any]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    workdir = Path(tempfile.mkdtemp(prefix="studyhub-bench-"))
    indexer = FakeIndexer()
    indexer.start()
    for n in range(20):  # hits that join with nothing: the permission query still runs
        indexer.documents[f"doc{n}"] = Document(
            f"doc{n}", f"Doc {n}", "enzymes everywhere", "text", "course", [], 1, status="completed"
        )
    env = {**environment(args, workdir), "INDEXER_URL": indexer.url, "INDEXER_API_KEY": API_KEY}
    studyhub(["init-db"], env, workdir)
    studyhub(["seed"], env, workdir)
    results: list[Result] = []
    wanted = set(args.only.split(",")) if args.only else None

    def want(name: str) -> bool:
        return wanted is None or name in wanted

    bare_cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.bare_app:app",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    repo = Path(__file__).resolve().parents[1]
    with run_server(bare_cmd, {"PYTHONPATH": str(repo)}, repo, ready_path="/") as bare:
        baseline = wrk(bare, "/", args, name="bare starlette JSON")
        baseline_rss = rss_mb(bare.process.pid)
    results.append(baseline)

    with run_server(studyhub_command(), env, workdir, ready_path="/health/ready") as server:
        api = Api(server.url)
        teacher, student = api.token("teacher"), api.token("student")
        student_id = api.call("GET", "/api/v1/auth/me", student)["id"]
        course_id, lecture_id = seed_big_course(api, teacher, student_id)
        api.close()
        course = f"/api/v1/courses/{course_id}"
        scenarios = [
            ("health", "/health", ""),
            ("course-hot", course, student),
            ("outline-hot", f"{course}/weeks", student),
            ("courses-list", "/api/v1/courses?per_page=20", student),
            ("search", "/api/v1/search?q=enzymes&scope=courses", student),
        ]
        for name, path, token in scenarios:
            if want(name):
                results.append(wrk(server, path, args, name=name, token=token))
        if want("progress-event"):
            # No event id: the server names each event, so every request is a new event.
            results.append(
                wrk(
                    server,
                    f"{course}/lectures/{lecture_id}/progress",
                    args,
                    name="progress-event (POST, one event)",
                    method="POST",
                    token=student,
                    body=json.dumps({"position_seconds": 30, "active_seconds": 15}),
                )
            )
        if want("login"):
            results.append(asyncio.run(login_under_load(server.url, args.duration)))
        startup = server.startup_seconds
        rss = rss_mb(server.process.pid)

    if want("course-cold"):
        cold_env = {**env, "OUTLINE_CACHE_SECONDS": "0"}
        with run_server(studyhub_command(), cold_env, workdir, ready_path="/health/ready") as cold:
            cold_api = Api(cold.url)
            token = cold_api.token("student")
            cold_api.close()
            results.append(
                wrk(
                    cold,
                    f"/api/v1/courses/{course_id}",
                    args,
                    name="course-cold (16 weeks, no cache)",
                    token=token,
                )
            )
            results.append(
                wrk(
                    cold,
                    f"/api/v1/courses/{course_id}/weeks",
                    args,
                    name="outline-cold (16 weeks, no cache)",
                    token=token,
                )
            )
            rss = max(rss, rss_mb(cold.process.pid))

    indexer.stop()
    for result in results:
        result.ratio_rps = result.requests_per_second / baseline.requests_per_second
    shutil.rmtree(workdir, ignore_errors=True)
    return {
        "database": "postgresql" if args.database_url else "sqlite",
        "cache": "redis" if args.redis_url else "memory",
        "connections": args.connections,
        "duration_seconds": args.duration,
        "startup_to_ready_seconds": round(startup, 3),
        "rss_mb_after_run": round(rss, 1),
        "baseline_rss_mb": round(baseline_rss, 1),
        "results": [asdict(r) for r in results],
    }


def markdown(report: dict[str, Any]) -> str:
    lines = [
        f"database: {report['database']}, cache: {report['cache']}, "
        f"{report['connections']} connections, {report['duration_seconds']} s per scenario, "
        f"startup to ready {report['startup_to_ready_seconds']} s, "
        f"RSS after run {report['rss_mb_after_run']} MB (baseline {report['baseline_rss_mb']} MB)",
        "",
        "| scenario | req/s | × bare | p50 ms | p99 ms | CPU µs/req | non-2xx |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["results"]:
        lines.append(
            f"| {r['scenario']} | {r['requests_per_second']:.0f} | {r['ratio_rps']:.3f} | "
            f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['cpu_us_per_request']:.0f} | "
            f"{r['non_2xx']} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--database-url")
    parser.add_argument("--redis-url")
    parser.add_argument("--only", help="comma-separated scenario names")
    parser.add_argument("--name", default=None, help="results file name (default: by database)")
    args = parser.parse_args()
    report = run(args)
    name = args.name or f"latest-{report['database']}"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown(report))
    sys.stdout.write(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
