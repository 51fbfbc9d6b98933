"""Both cache implementations against one contract, and Redis failure behaviour."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import AsyncIterator

import pytest

from studyhub.core.cache import Cache, CacheUnavailable, CircuitBreaker, MemoryCache, RedisCache


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def cache(request: pytest.FixtureRequest, redis_url: str) -> AsyncIterator[Cache]:
    impl: Cache
    if request.param == "memory":
        impl = MemoryCache(max_entries=100)
    else:
        impl = RedisCache(redis_url, prefix=f"studyhub-test:{uuid.uuid4().hex}:")
    yield impl
    if isinstance(impl, RedisCache):
        keys = [k async for k in impl.client.scan_iter(match=f"{impl.prefix}*")]
        if keys:
            await impl.client.delete(*keys)
    await impl.close()


async def test_set_get_delete(cache: Cache) -> None:
    assert await cache.get("a") is None
    await cache.set("a", b"1")
    await cache.set("b", b"2")
    assert await cache.get("a") == b"1"
    assert await cache.get_many("a", "missing", "b") == [b"1", None, b"2"]
    await cache.delete("a", "b", "never-set")
    assert await cache.get("a") is None
    assert await cache.get("b") is None


async def test_ttl_expires(cache: Cache) -> None:
    await cache.set("short", b"x", ttl_seconds=0.001)
    await cache.set("long", b"y", ttl_seconds=60)
    deadline = time.monotonic() + 2
    while await cache.get("short") is not None and time.monotonic() < deadline:
        pass  # poll, no fixed sleep: expiry is the server's (or the dict's) business
    assert await cache.get("short") is None
    assert await cache.get("long") == b"y"


async def test_incr_counts_and_keeps_its_window(cache: Cache) -> None:
    assert [await cache.incr("n", 60) for _ in range(3)] == [1, 2, 3]
    assert await cache.get("n") == b"3"


async def test_ping(cache: Cache) -> None:
    await cache.ping()  # raises CacheUnavailable when the backend is down
    await cache.set("after-ping", b"1")
    assert await cache.get("after-ping") == b"1"


async def test_memory_cache_evicts_least_recently_used() -> None:
    cache = MemoryCache(max_entries=2)
    await cache.set("a", b"1")
    await cache.set("b", b"2")
    assert await cache.get("a") == b"1"  # touch a: b is now the oldest
    await cache.set("c", b"3")
    assert await cache.get("b") is None
    assert await cache.get("a") == b"1"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_dead_redis_fails_fast_then_the_breaker_opens() -> None:
    now = [0.0]
    breaker = CircuitBreaker(threshold=2, cooldown_seconds=5, clock=lambda: now[0])
    cache = RedisCache(f"redis://127.0.0.1:{_closed_port()}/0", breaker=breaker)
    calls = 0
    original = cache.client.get

    async def counting_get(key: str) -> object:
        nonlocal calls
        calls += 1
        return await original(key)

    cache.client.get = counting_get  # type: ignore[method-assign, assignment]
    for _ in range(2):
        with pytest.raises(CacheUnavailable):
            await cache.get("k")
    assert calls == 2
    assert breaker.is_open

    with pytest.raises(CacheUnavailable, match="circuit open"):
        await cache.get("k")
    assert calls == 2  # the open breaker never touched the network

    now[0] += 5  # cooldown over: one probe goes through (and fails again)
    with pytest.raises(CacheUnavailable):
        await cache.get("k")
    assert calls == 3
    await cache.close()


def test_breaker_closes_after_a_success() -> None:
    breaker = CircuitBreaker(threshold=1, cooldown_seconds=1, clock=lambda: 0.0)
    breaker.record_failure()
    assert breaker.is_open
    breaker.record_success()
    assert not breaker.is_open
