"""Rate limits and login throttling (DESIGN.md §7 "Abuse", §9), built on the `limits` library.

- `RateLimiter`: `limits` storage in Redis (shared by every worker) or in process. When Redis fails
  or its breaker is open, the call runs against an in-process storage instead: limits then hold
  per worker, which is the §9 policy, rather than failing open or stalling requests.
- `AbuseGuard`: the per-IP API quota, failed-login counters (per account and per IP), the automatic
  temporary IP block, and the `LoginThrottle` protocol of `studyhub.auth.throttle`.
- `RateLimitMiddleware`: pure ASGI, inside `RequestContextMiddleware` (so the 429/403 bodies get the
  request id and security headers); `X-RateLimit-*` on every `/api/` response.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from studyhub.core.cache import CircuitBreaker
from studyhub.core.clientip import Network, client_ip
from studyhub.core.errors import RateLimited, error_response
from studyhub.core.metrics import IP_AUTO_BLOCKS, LOGIN_FAILURES, RATE_LIMIT_HITS

if TYPE_CHECKING:
    import redis.asyncio as aioredis

logger = logging.getLogger("studyhub.ratelimit")
T = TypeVar("T")


class RateLimiter:
    """`limits` storage with an in-process fallback; every call is bounded by a short deadline."""

    def __init__(
        self,
        redis_url: str | None,
        *,
        prefix: str = "studyhub:",
        timeout_seconds: float = 0.25,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.memory = MemoryStorage()
        self.breaker = breaker or CircuitBreaker()
        # Connect plus one command; a blackholed Redis must cost a request no more than this.
        self.deadline = 2 * timeout_seconds
        self._pool: aioredis.ConnectionPool | None = None
        self.redis: RedisStorage | None = None
        self._errors: tuple[type[BaseException], ...] = (TimeoutError, OSError, StorageError)
        if redis_url:
            # Imported only with REDIS_URL set: redis costs ~40 ms of startup otherwise.
            import redis.asyncio as aioredis
            from redis.exceptions import RedisError

            self._errors += (RedisError,)
            self._pool = aioredis.ConnectionPool.from_url(
                redis_url,
                socket_timeout=timeout_seconds,
                socket_connect_timeout=timeout_seconds,
                retry_on_timeout=False,
            )
            self.redis = RedisStorage(
                "async+" + redis_url.replace("unix://", "redis+unix://", 1),
                implementation="redispy",
                key_prefix=f"{prefix}rl",
                # Our pool, so that close() can release it (limits has no close of its own).
                connection_pool=self._pool,  # type: ignore[arg-type]
            )

    @property
    def backend(self) -> str:
        return "redis" if self.redis is not None else "memory"

    async def call(self, op: str, fn: Callable[[Storage], Awaitable[T]]) -> T:
        if self.redis is not None and not self.breaker.is_open:
            try:
                async with asyncio.timeout(self.deadline):
                    result = await fn(self.redis)
            except self._errors as exc:
                self.breaker.record_failure()
                logger.warning("rate limit %s fell back to memory: %s", op, type(exc).__name__)
            else:
                self.breaker.record_success()
                return result
        return await fn(self.memory)

    async def count(self, item: RateLimitItem, *ids: str) -> tuple[int, float]:
        """A fixed-window hit: the count so far in this window and when the window ends (epoch).

        The storage calls of `FixedWindowRateLimiter.hit` + `get_window_stats`, minus one
        round trip: this runs on every API request."""
        key = item.key_for(*ids)

        async def run(storage: Storage) -> tuple[int, float]:
            count = await storage.incr(key, item.get_expiry())
            return count, await storage.get_expiry(key)

        return await self.call("count", run)

    async def current(self, item: RateLimitItem, *ids: str) -> tuple[int, float]:
        key = item.key_for(*ids)

        async def run(storage: Storage) -> tuple[int, float]:
            count = await storage.get(key)
            return count, (await storage.get_expiry(key) if count else time.time())

        return await self.call("current", run)

    async def moving_hit(self, item: RateLimitItem, *ids: str) -> int:
        """Record one event in a moving window; returns how many more the window allows."""

        async def run(storage: Storage) -> int:
            strategy = MovingWindowRateLimiter(storage)
            await strategy.hit(item, *ids)
            return (await strategy.get_window_stats(item, *ids)).remaining

        return await self.call("moving_hit", run)

    async def moving_stats(self, item: RateLimitItem, *ids: str) -> tuple[int, float]:
        """(remaining, reset epoch) of a moving window."""

        async def run(storage: Storage) -> tuple[int, float]:
            stats = await MovingWindowRateLimiter(storage).get_window_stats(item, *ids)
            return stats.remaining, stats.reset_time

        return await self.call("moving_stats", run)

    async def clear(self, item: RateLimitItem, *ids: str) -> None:
        async def run(storage: Storage) -> None:
            await MovingWindowRateLimiter(storage).clear(item, *ids)

        await self.call("clear", run)
        if self.redis is not None:
            # Failures counted in process while Redis was down must be forgotten too.
            await MovingWindowRateLimiter(self.memory).clear(item, *ids)

    async def reset_local(self) -> None:
        """Forget the in-process counters (tests; Redis keys live under the cache prefix)."""
        await self.memory.reset()

    async def close(self) -> None:
        await self.memory.reset()
        if self.memory.timer is not None:
            self.memory.timer.cancel()
        if self._pool is not None:
            await self._pool.aclose()


@dataclass(frozen=True, slots=True)
class Quota:
    allowed: bool
    limit: int
    remaining: int
    reset_after: int  # seconds until the window ends

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_after),
        }

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        return [
            (b"x-ratelimit-limit", b"%d" % self.limit),
            (b"x-ratelimit-remaining", b"%d" % self.remaining),
            (b"x-ratelimit-reset", b"%d" % self.reset_after),
        ]


def _seconds_until(epoch: float) -> int:
    return max(1, math.ceil(epoch - time.time()))


def _account_id(account: str) -> str:
    # Hashed: no usernames or emails in Redis keys, and any string makes a well-formed key.
    return hashlib.sha256(account.strip().lower().encode()).hexdigest()[:32]


class AbuseGuard:
    """The per-IP API quota, failed-login lockouts and the automatic temporary IP block.

    Only failed logins count (API.md §0). A success clears the account's failures but not the
    IP's: otherwise an attacker could log in to an account of their own between guesses.
    """

    def __init__(
        self,
        limiter: RateLimiter,
        *,
        per_minute: int,
        failures_per_account: int,
        failures_per_ip: int,
        lockout_seconds: int,
    ) -> None:
        self.limiter = limiter
        self.api_item = RateLimitItemPerMinute(per_minute, namespace="api")
        self.account_item = RateLimitItemPerSecond(
            failures_per_account, lockout_seconds, namespace="login-account"
        )
        self.ip_item = RateLimitItemPerSecond(
            failures_per_ip, lockout_seconds, namespace="login-ip"
        )
        # A block is one "hit" of a 1-per-lockout limit: it ends when that window expires.
        self.block_item = RateLimitItemPerSecond(1, lockout_seconds, namespace="ip-block")

    async def api_hit(self, ip: str) -> Quota:
        count, reset = await self.limiter.count(self.api_item, ip)
        limit = self.api_item.amount
        return Quota(count <= limit, limit, max(0, limit - count), _seconds_until(reset))

    async def blocked_for(self, ip: str) -> int | None:
        """Seconds left of an automatic block of this IP, or None."""
        count, reset = await self.limiter.current(self.block_item, ip)
        return _seconds_until(reset) if count else None

    # -- LoginThrottle ----------------------------------------------------------------------

    async def ensure_allowed(self, ip: str, account: str) -> None:
        blocked = await self.blocked_for(ip)
        if blocked is not None:
            RATE_LIMIT_HITS.labels("ip_auto_block").inc()
            raise RateLimited(blocked, "Too many failed logins from this address; try later")
        remaining, reset = await self.limiter.moving_stats(self.account_item, _account_id(account))
        if remaining <= 0:
            RATE_LIMIT_HITS.labels("login_lockout").inc()
            raise RateLimited(_seconds_until(reset), "Too many failed logins; try again later")

    async def record_failure(self, ip: str, account: str) -> None:
        LOGIN_FAILURES.inc()
        await self.limiter.moving_hit(self.account_item, _account_id(account))
        if await self.limiter.moving_hit(self.ip_item, ip) <= 0:
            count, _ = await self.limiter.current(self.block_item, ip)
            if not count:
                logger.warning("ip %s blocked after repeated login failures", ip)
                IP_AUTO_BLOCKS.inc()
                await self.limiter.count(self.block_item, ip)

    async def record_success(self, ip: str, account: str) -> None:
        await self.limiter.clear(self.account_item, _account_id(account))


class BlockList(Protocol):
    """Administrator-managed blocks (implemented by the admin domain, wired in app.py)."""

    async def is_blocked(self, ip: str) -> bool: ...


class RateLimitMiddleware:
    """Per-IP quota and IP blocks for every request under `prefix`.

    Every request counts against the quota, blocked ones too, so every API response carries the
    `X-RateLimit-*` headers. `X-RateLimit-Reset` is seconds until the window ends (as `Retry-After`;
    immune to client clock skew). Automatic blocks answer 429 (temporary, with `Retry-After`),
    administrator blocks 403 `IP_BLOCKED`.
    """

    def __init__(self, app: ASGIApp, *, prefix: str = "/api/") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope["app"].state if "app" in scope else None
        guard: AbuseGuard | None = getattr(state, "abuse_guard", None)
        if scope["type"] != "http" or guard is None or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        trusted: list[Network] = scope["app"].state.settings.trusted_proxy_networks
        ip = client_ip(HTTPConnection(scope), trusted)
        quota = await guard.api_hit(ip)
        rejection = await self._rejection(scope, guard, ip, quota)
        if rejection is not None:
            await rejection(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                ours = quota.raw_headers()
                names = {name for name, _ in ours}
                kept = [h for h in message.get("headers", ()) if h[0].lower() not in names]
                message["headers"] = [*kept, *ours]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    @staticmethod
    async def _rejection(
        scope: Scope, guard: AbuseGuard, ip: str, quota: Quota
    ) -> JSONResponse | None:
        request = Request(scope)
        blocklist: BlockList | None = getattr(scope["app"].state, "ip_blocklist", None)
        if blocklist is not None and await blocklist.is_blocked(ip):
            RATE_LIMIT_HITS.labels("ip_admin_block").inc()
            return error_response(
                request,
                403,
                "IP_BLOCKED",
                "Requests from this address are blocked",
                headers=quota.headers(),
            )
        blocked_for = await guard.blocked_for(ip)
        if blocked_for is not None:
            RATE_LIMIT_HITS.labels("ip_auto_block").inc()
            return error_response(
                request,
                429,
                "RATE_LIMITED",
                "Too many failed logins from this address; try again later",
                headers={**quota.headers(), "Retry-After": str(blocked_for)},
            )
        if not quota.allowed:
            RATE_LIMIT_HITS.labels("quota").inc()
            return error_response(
                request,
                429,
                "RATE_LIMITED",
                "Too many requests; slow down",
                {"limit": quota.limit, "window_seconds": 60},
                {**quota.headers(), "Retry-After": str(quota.reset_after)},
            )
        return None
