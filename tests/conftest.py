"""Test fixtures: one app per session on the database named by TEST_DATABASE_URL (SQLite file by
default), tables emptied after each test, Redis real when TEST_CACHE=redis.

`make test` runs the suite twice: SQLite + in-memory cache, then PostgreSQL + Redis.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
import redis.asyncio as aioredis
from fastapi import FastAPI
from sqlalchemy import delete

import studyhub.models  # noqa: F401  (all tables on Base.metadata)
from studyhub.app import create_app
from studyhub.core.config import Environment, Settings
from studyhub.core.db import Base, Database, create_engine

pytest_plugins = ["tests.support.indexer_fixtures"]

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")
TEST_CACHE = os.environ.get("TEST_CACHE", "memory")


def _reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), 1):
            return True
    except OSError:
        return False


REDIS_AVAILABLE = _reachable(REDIS_TEST_URL)


def pytest_report_header() -> list[str]:
    db = os.environ.get("TEST_DATABASE_URL", "sqlite (temporary file)")
    redis_state = "reachable" if REDIS_AVAILABLE else "NOT REACHABLE: redis tests will be SKIPPED"
    return [f"studyhub: database={db} cache={TEST_CACHE} redis={redis_state}"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if REDIS_AVAILABLE:
        return
    if IN_CI or TEST_CACHE == "redis":
        raise pytest.UsageError(
            f"Redis is required (CI or TEST_CACHE=redis) but {REDIS_TEST_URL} is not reachable"
        )
    skip = pytest.mark.skip(reason=f"Redis not reachable at {REDIS_TEST_URL}")
    for item in items:
        if "redis" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def redis_url() -> str:
    return REDIS_TEST_URL


@pytest.fixture(scope="session")
def cache_prefix() -> str:
    return f"studyhub-test:{uuid.uuid4().hex[:8]}:"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def make_settings(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, cache_prefix: str
) -> Callable[..., Settings]:
    uploads = tmp_path_factory.mktemp("uploads")

    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "environment": Environment.TEST,
            "database_url": database_url,
            "redis_url": REDIS_TEST_URL if TEST_CACHE == "redis" else None,
            "cache_prefix": cache_prefix,
            "upload_dir": uploads,
            "log_dir": None,
            "log_level": "WARNING",
            "password_hash_fast": True,
            "cors_origins": ["http://frontend.test"],
            # Suites make hundreds of requests from one test IP; limits are tested with their own.
            "rate_limit_per_minute": 100_000,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)

    return build


@pytest.fixture(scope="session")
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture(scope="session")
async def database(settings: Settings) -> AsyncIterator[Database]:
    """The test's own handle on the database (factories, assertions, cleanup)."""
    db = Database(create_engine(settings))
    async with db.engine.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
        await conn.run_sync(Base.metadata.create_all)
    yield db
    async with db.engine.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
    await db.dispose()


@pytest.fixture(scope="session")
def schema(database: Database) -> None:
    return None


@pytest.fixture(scope="session")
async def app(settings: Settings, schema: None) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


async def _empty_tables(database: Database) -> None:
    async with database.session() as session:
        for table in reversed(Base.metadata.sorted_tables):
            await session.execute(delete(table))
        await session.commit()


@pytest.fixture(autouse=True)
async def _isolation(request: pytest.FixtureRequest, cache_prefix: str) -> AsyncIterator[None]:
    """Every test starts with empty tables and an empty cache."""
    yield
    if "database" in request.fixturenames:
        await _empty_tables(request.getfixturevalue("database"))
    if "settings" in request.fixturenames:
        shutil.rmtree(request.getfixturevalue("settings").upload_dir, ignore_errors=True)
    if "app" in request.fixturenames:
        application: FastAPI = request.getfixturevalue("app")
        cache = application.state.cache
        if not hasattr(cache, "client"):
            await cache.close()
        # In-process state: rate-limit counters (and their fallback) and the block-list snapshot.
        await application.state.rate_limiter.reset_local()
        application.state.ip_blocklist.forget()
        application.state.course_cache.local.clear()
    if TEST_CACHE == "redis" and REDIS_AVAILABLE:
        # Every app of the run shares the key prefix, apps from `make_app` included: rate-limit
        # counters and lockouts must not leak from one test into the next.
        client = aioredis.Redis.from_url(REDIS_TEST_URL)
        try:
            await _flush_prefix(client, cache_prefix)
        finally:
            await client.aclose()


async def _flush_prefix(client: aioredis.Redis, prefix: str) -> None:
    keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=500)]
    if keys:
        await client.delete(*keys)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.10", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def make_app(make_settings: Callable[..., Settings], schema: None) -> Callable[..., FastAPI]:
    """A fresh app (same database) for tests that add routes or change settings."""

    def build(**overrides: Any) -> FastAPI:
        return create_app(make_settings(**overrides))

    return build


@pytest.fixture
def tmp_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path
