"""The login guard interface the auth service calls around every password check.

The real implementation (failed-attempt counters per account and per IP, lockouts, automatic IP
blocks) lives in `studyhub.core.ratelimit`; `NoLoginThrottle` is for tools that need none.
"""

from __future__ import annotations

from typing import Protocol


class LoginThrottle(Protocol):
    async def ensure_allowed(self, ip: str, account: str) -> None:
        """Raise `RateLimited` while the IP or the account is locked."""
        ...

    async def record_failure(self, ip: str, account: str) -> None: ...

    async def record_success(self, ip: str, account: str) -> None: ...


class NoLoginThrottle:
    async def ensure_allowed(self, ip: str, account: str) -> None:
        return None

    async def record_failure(self, ip: str, account: str) -> None:
        return None

    async def record_success(self, ip: str, account: str) -> None:
        return None
