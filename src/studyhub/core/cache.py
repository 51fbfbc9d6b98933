"""The `Cache` interface and its two implementations.

`RedisCache` is shared between workers; `MemoryCache` is the single-process default. A dead Redis
must never stall a request: calls have short timeouts and a circuit breaker that, once open, fails
at once with `CacheUnavailable`. What a caller does then (treat as a miss, fail open or closed) is
the caller's policy (DESIGN.md §9).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    import redis.asyncio as aioredis

logger = logging.getLogger("studyhub.cache")
T = TypeVar("T")


class CacheUnavailable(Exception):
    """The cache backend cannot be reached right now."""


class Cache(Protocol):
    name: str

    async def get(self, key: str) -> bytes | None: ...

    async def get_many(self, *keys: str) -> list[bytes | None]: ...

    async def set(self, key: str, value: bytes, ttl_seconds: float | None = None) -> None: ...

    async def delete(self, *keys: str) -> None: ...

    async def add(self, key: str, value: bytes, ttl_seconds: float) -> bytes:
        """Store `value` unless the key exists; return what the key holds afterwards."""
        ...

    async def incr(self, key: str, ttl_seconds: float) -> int:
        """Add one to a counter, starting its time-to-live when it is created."""
        ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


class CircuitBreaker:
    """Opens after `threshold` consecutive failures; lets one probe through after `cooldown`."""

    def __init__(
        self,
        threshold: int = 3,
        cooldown_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = threshold
        self.cooldown = cooldown_seconds
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None

    @property
    def is_open(self) -> bool:
        if self.opened_at is None:
            return False
        # After the cooldown the breaker is half-open: the next call is the probe.
        return self.clock() - self.opened_at < self.cooldown

    def record_success(self) -> None:
        self.failures = 0
        self.opened_at = None

    def record_failure(self) -> None:
        self.failures += 1
        if self.failures >= self.threshold:
            self.opened_at = self.clock()


class MemoryCache:
    """An LRU dictionary with expiry; correct for one process."""

    name = "memory"

    def __init__(self, max_entries: int = 10_000) -> None:
        self._data: OrderedDict[str, tuple[bytes, float | None]] = OrderedDict()
        self._max = max_entries

    def _live(self, key: str) -> tuple[bytes, float | None] | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        if entry[1] is not None and entry[1] <= time.monotonic():
            del self._data[key]
            return None
        self._data.move_to_end(key)
        return entry

    async def get(self, key: str) -> bytes | None:
        entry = self._live(key)
        return entry[0] if entry else None

    async def get_many(self, *keys: str) -> list[bytes | None]:
        return [await self.get(key) for key in keys]

    async def set(self, key: str, value: bytes, ttl_seconds: float | None = None) -> None:
        expires = time.monotonic() + ttl_seconds if ttl_seconds else None
        self._data[key] = (value, expires)
        self._data.move_to_end(key)
        while len(self._data) > self._max:
            self._data.popitem(last=False)

    async def delete(self, *keys: str) -> None:
        for key in keys:
            self._data.pop(key, None)

    async def add(self, key: str, value: bytes, ttl_seconds: float) -> bytes:
        entry = self._live(key)
        if entry is not None:
            return entry[0]
        await self.set(key, value, ttl_seconds)
        return value

    async def incr(self, key: str, ttl_seconds: float) -> int:
        entry = self._live(key)
        if entry is None:
            await self.set(key, b"1", ttl_seconds)
            return 1
        count = int(entry[0]) + 1
        self._data[key] = (str(count).encode(), entry[1])
        return count

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._data.clear()


class RedisCache:
    """Redis behind a key prefix, short timeouts and a circuit breaker."""

    name = "redis"

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "studyhub:",
        timeout_seconds: float = 0.25,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        # redis is imported here, not at module level: without REDIS_URL it is never needed, and
        # importing it costs ~40 ms of every process's startup.
        import redis.asyncio as aioredis
        from redis.exceptions import RedisError

        self.prefix = prefix
        self.breaker = breaker or CircuitBreaker()
        self._errors: tuple[type[BaseException], ...] = (TimeoutError, RedisError, OSError)
        self.client: aioredis.Redis = aioredis.Redis.from_url(
            url,
            socket_timeout=timeout_seconds,
            socket_connect_timeout=timeout_seconds,
            health_check_interval=30,
            retry_on_timeout=False,
        )

    def _key(self, key: str) -> str:
        return self.prefix + key

    async def _call(self, op: str, awaitable: Awaitable[T]) -> T:
        if self.breaker.is_open:
            _close_quietly(awaitable)
            raise CacheUnavailable(f"redis circuit open ({op})")
        try:
            result = await awaitable
        except self._errors as exc:
            self.breaker.record_failure()
            logger.warning("redis %s failed: %s", op, type(exc).__name__)
            raise CacheUnavailable(str(exc)) from exc
        self.breaker.record_success()
        return result

    async def get(self, key: str) -> bytes | None:
        value = await self._call("get", self.client.get(self._key(key)))
        return value if isinstance(value, bytes) else None

    async def get_many(self, *keys: str) -> list[bytes | None]:
        if not keys:
            return []
        values = await self._call("mget", self.client.mget([self._key(k) for k in keys]))
        return [v if isinstance(v, bytes) else None for v in values]

    async def set(self, key: str, value: bytes, ttl_seconds: float | None = None) -> None:
        px = int(ttl_seconds * 1000) if ttl_seconds else None
        await self._call("set", self.client.set(self._key(key), value, px=px))

    async def delete(self, *keys: str) -> None:
        if keys:
            await self._call("delete", self.client.delete(*(self._key(k) for k in keys)))

    async def add(self, key: str, value: bytes, ttl_seconds: float) -> bytes:
        full = self._key(key)

        async def _add() -> bytes:
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.set(full, value, px=int(ttl_seconds * 1000), nx=True)
                pipe.get(full)
                _, stored = await pipe.execute()
            return stored if isinstance(stored, bytes) else value

        return await self._call("add", _add())

    async def incr(self, key: str, ttl_seconds: float) -> int:
        full = self._key(key)

        async def _incr() -> int:
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.incr(full)
                # NX: only the first increment starts the window.
                pipe.pexpire(full, int(ttl_seconds * 1000), nx=True)
                count, _ = await pipe.execute()
            return int(count)

        return await self._call("incr", _incr())

    async def ping(self) -> None:
        await self._call("ping", self.client.ping())

    async def close(self) -> None:
        await self.client.aclose()


def _close_quietly(awaitable: object) -> None:
    close = getattr(awaitable, "close", None)
    if callable(close):
        close()


def build_cache(redis_url: str | None, *, prefix: str, timeout_seconds: float) -> Cache:
    if redis_url:
        return RedisCache(redis_url, prefix=prefix, timeout_seconds=timeout_seconds)
    return MemoryCache()
