"""Fixtures for tests that talk to StudyIndexer: the fake (one per run, reset per test) and an app
configured for it, with the relay's background loop off (tests call `run_once()` themselves)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from studyhub.app import create_app
from studyhub.core.config import Settings
from studyhub.core.db import utcnow
from studyhub.outbox.relay import OutboxRelay, RoundResult
from tests.support.fake_indexer import API_KEY, FakeIndexer


@pytest.fixture(scope="session")
def _fake_indexer_server() -> Iterator[FakeIndexer]:
    fake = FakeIndexer()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_indexer(_fake_indexer_server: FakeIndexer) -> Iterator[FakeIndexer]:
    fake = _fake_indexer_server
    fake.reset()
    if not fake.is_up:
        fake.start()
    yield fake
    if fake.search_gate is not None:
        fake.search_gate.set()
    fake.reset()
    if not fake.is_up:
        fake.start()


@pytest.fixture
def indexer_settings(
    make_settings: Callable[..., Settings], fake_indexer: FakeIndexer
) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "indexer_url": fake_indexer.url,
            "indexer_api_key": API_KEY,
            "outbox_relay_enabled": False,
            "indexer_timeout_seconds": 2.0,
            "indexer_read_timeout_seconds": 1.0,
            "indexer_upload_timeout_seconds": 5.0,
            **overrides,
        }
        return make_settings(**values)

    return build


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.20", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield app, c


@pytest.fixture
async def indexed(
    indexer_settings: Callable[..., Settings], schema: None
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """An app wired to the fake StudyIndexer, and a client for it."""
    async with running_app(indexer_settings()) as pair:
        yield pair


async def drain(relay: OutboxRelay, rounds: int = 6) -> list[RoundResult]:
    """Run relay rounds, each one hour later than the last, so that backed-off jobs and status
    polls are due at once: deterministic, no sleeping."""
    results = []
    for step in range(rounds):
        results.append(await relay.run_once(now=utcnow() + timedelta(hours=step)))
    return results
