"""Real processes for the fault, multi-worker and soak tests (`process` marker): the service
(`studyhub serve` in a subprocess, stderr kept in a file), a private `redis-server` that a test may
kill and restart, and scratch PostgreSQL databases created and dropped per test.

Nothing here touches the shared Redis on 6379 or the shared `test` database: faults are injected
only into processes and databases the test started itself.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

import studyhub.models  # noqa: F401  (all tables on Base.metadata)
from studyhub.core.config import Environment, Settings
from studyhub.core.db import Base, Database, create_engine
from tests.support.server import free_port

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
SECRET_KEY = "fault-tests-shared-secret-key-0123456789abcdef"
STARTUP_TIMEOUT_SECONDS = 30


def pg_base_url() -> str:
    """The PostgreSQL the scratch databases are created next to (as the Makefile derives it)."""
    explicit = os.environ.get("PG_TEST_URL")
    if explicit:
        return explicit
    test_url = os.environ.get("TEST_DATABASE_URL", "")
    return test_url if test_url.startswith("postgres") else DEFAULT_PG_URL


def _reachable(url: str) -> bool:
    parsed = make_url(url)
    try:
        with socket.create_connection((parsed.host or "127.0.0.1", parsed.port or 5432), 1):
            return True
    except OSError:
        return False


POSTGRES_AVAILABLE = _reachable(pg_base_url())
REDIS_SERVER = shutil.which("redis-server")


def require_postgres() -> None:
    """Skip loudly outside CI, fail in CI (DESIGN.md §12)."""
    if POSTGRES_AVAILABLE:
        return
    message = f"PostgreSQL is not reachable at {pg_base_url()} (scratch databases needed)"
    if IN_CI:
        pytest.fail(f"CI cannot skip this: {message}")
    pytest.skip(f"SKIPPED LOUDLY: {message}")


def require_redis_server() -> str:
    if REDIS_SERVER:
        return REDIS_SERVER
    message = "redis-server is not installed (apt-get install redis-server)"
    if IN_CI:
        pytest.fail(f"CI cannot skip this: {message}")
    pytest.skip(f"SKIPPED LOUDLY: {message}")


# -- waiting: polling for a condition with a deadline (never for timing) --------------------------


async def wait_for(
    condition: Callable[[], Awaitable[bool]], what: str, deadline_seconds: float = 20.0
) -> None:
    deadline = time.monotonic() + deadline_seconds
    while True:
        if await condition():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {deadline_seconds} s waiting for {what}")
        await asyncio.sleep(0.05)


# -- the service ----------------------------------------------------------------------------------


class Service:
    """`studyhub serve` in a subprocess. The same object can be started again (same port, same
    environment) after a stop or a kill: a restart of the app on its database."""

    def __init__(
        self,
        env: dict[str, str],
        workdir: Path,
        *,
        workers: int = 1,
        name: str = "studyhub",
    ) -> None:
        self.workdir = workdir
        self.workers = workers
        self.port = free_port()
        self.name = name
        self.env = {
            **os.environ,
            "ENVIRONMENT": "test",
            "SECRET_KEY": SECRET_KEY,
            "PASSWORD_HASH_FAST": "true",
            "LOG_DIR": "",
            "LOG_LEVEL": "WARNING",
            "UPLOAD_DIR": str(workdir / "uploads"),
            "REDIS_URL": "",
            "INDEXER_URL": "",
            "RATE_LIMIT_PER_MINUTE": "1000000",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def stderr_path(self) -> Path:
        return self.workdir / f"{self.name}-{self.starts}.stderr"

    def start(self) -> Service:
        assert self.process is None or self.process.poll() is not None, "already running"
        self.starts += 1
        with self.stderr_path.open("wb") as stderr:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "studyhub",
                    "serve",
                    "--port",
                    str(self.port),
                    "--workers",
                    str(self.workers),
                ],
                env=self.env,
                cwd=self.workdir,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        self._wait_live()
        return self

    def _wait_live(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"server exited with {self.process.returncode}:\n{self.stderr()[-3000:]}"
                )
            with suppress(httpx.TransportError):
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            time.sleep(0.05)  # polling for startup
        raise RuntimeError(f"server on {self.url} did not become live:\n{self.stderr()[-3000:]}")

    def stderr(self, start: int | None = None) -> str:
        path = self.workdir / f"{self.name}-{start or self.starts}.stderr"
        return path.read_text(errors="replace") if path.exists() else ""

    def terminate(self, timeout: float = 30) -> bool:
        """SIGTERM and wait: uvicorn's graceful shutdown (in-flight requests, then lifespan).
        True when it exited cleanly: uvicorn re-raises the signal after a graceful shutdown, so
        "killed by SIGTERM" is a clean exit here, like 0."""
        self.signal(signal.SIGTERM)
        return self.wait_clean(timeout)

    def signal(self, signum: int) -> None:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signum)

    def wait_clean(self, timeout: float = 30) -> bool:
        assert self.process is not None
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"server did not stop within {timeout} s of SIGTERM") from None
        return code in {0, -signal.SIGTERM}

    def kill(self) -> None:
        """SIGKILL: no shutdown of any kind (workers of a supervisor die with their group)."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> Service:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def tracebacks(text: str) -> list[str]:
    return [line for line in text.splitlines() if "Traceback" in line or '"level": "ERROR"' in line]


# -- a private Redis ------------------------------------------------------------------------------


class PrivateRedis:
    """A `redis-server` of our own on a free port (no persistence), to kill and restart."""

    def __init__(self, workdir: Path) -> None:
        self.binary = require_redis_server()
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                out = subprocess.run(
                    ["redis-cli", "-p", str(self.port), "ping"],
                    capture_output=True,
                    text=True,
                    timeout=2,
                    check=False,
                ).stdout
            except subprocess.TimeoutExpired:
                out = ""
            if out.strip() == "PONG":
                return self
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"private redis-server on {self.port} did not start")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL our own redis-server (never the shared one: we started this pid)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> PrivateRedis:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.kill()


# -- scratch databases ----------------------------------------------------------------------------


def scratch_name(purpose: str) -> str:
    return f"test_faults_{purpose}_{os.getpid()}_{uuid.uuid4().hex[:6]}"


async def _admin(base_url: str, statement: str) -> None:
    parsed = make_url(base_url)
    conn = await asyncpg.connect(
        host=parsed.host,
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
        database=parsed.database,
    )
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@asynccontextmanager
async def scratch_postgres(purpose: str) -> AsyncIterator[str]:
    """A fresh PostgreSQL database (`test_faults_…`) next to PG_TEST_URL, dropped afterwards."""
    require_postgres()
    base = pg_base_url()
    name = scratch_name(purpose)
    await _admin(base, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        await _admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sqlite_url(workdir: Path) -> str:
    return f"sqlite:///{workdir / 'studyhub.db'}"


@asynccontextmanager
async def seeded_database(url: str) -> AsyncIterator[Database]:
    """The schema created on `url` and a handle for factories and assertions."""
    settings = Settings(
        _env_file=None,
        environment=Environment.TEST,
        database_url=url,
        log_dir=None,
        password_hash_fast=True,
        db_pool_size=2,
        db_max_overflow=0,
    )
    database = Database(create_engine(settings))
    async with database.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    try:
        yield database
    finally:
        await database.dispose()


def assert_error_body(response: httpx.Response, status: int, code: str | None = None) -> None:
    """The one error body of API.md §0."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) >= {"error", "message", "details", "request_id"}, body
    if code is not None:
        assert body["error"] == code, body
