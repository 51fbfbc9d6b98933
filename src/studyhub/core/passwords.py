"""Password hashing: argon2id through libpass (`passlib`), off the event loop.

Hashing costs ~64 MiB and tens of milliseconds by design, so it runs in a small dedicated thread
pool whose size caps how many hashes run at once; the loop stays free for other requests. Off the
loop is not enough on a small machine: argon2's lanes (p=4) would take every core, so the hashing
threads run at a lower scheduling priority (nice +10, inherited by argon2's own lane threads) and
the event loop keeps answering while logins queue.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from passlib.context import CryptContext

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
HASHING_NICENESS = 10


def _yield_to_the_loop() -> None:
    """Thread initializer: lower this hashing thread's priority (Linux sets niceness per thread;
    elsewhere this changes nothing)."""
    try:
        current = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), max(current, HASHING_NICENESS))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        pass


def _crypt_context(fast: bool) -> CryptContext:
    # passlib (and argon2 behind it) is imported by the first hash or check, not at startup:
    # ~10 ms that a process serving no login never needs.
    from passlib.context import CryptContext

    if fast:
        # Tests only (settings refuse it in production): the same algorithm, cheap parameters.
        params = {"argon2__memory_cost": 1024, "argon2__rounds": 1, "argon2__parallelism": 1}
    else:
        params = {"argon2__memory_cost": 65536, "argon2__rounds": 3, "argon2__parallelism": 4}
    return CryptContext(schemes=["argon2"], argon2__type="ID", **params)


class PasswordHasher:
    def __init__(self, *, fast: bool = False, max_concurrency: int | None = None) -> None:
        self._fast = fast
        workers = max_concurrency or max(1, os.cpu_count() or 1)
        # How many hashes run at once; batch callers bound their in-flight work by it so one big
        # batch cannot queue hundreds of jobs ahead of other requests' logins.
        self.max_concurrency = workers
        self._executor = ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="argon2", initializer=_yield_to_the_loop
        )

    @cached_property
    def _context(self) -> CryptContext:
        return _crypt_context(self._fast)

    @cached_property
    def _dummy_hash(self) -> str:
        return str(self._context.hash(secrets.token_urlsafe(16)))

    def hash_sync(self, password: str) -> str:
        return str(self._context.hash(password))

    def _verify_sync(self, password: str, stored: str | None) -> tuple[bool, str | None]:
        if stored is None:
            # Unknown user: spend the same work as a real check so timing reveals nothing.
            self._context.verify(password, self._dummy_hash)
            return False, None
        try:
            ok, new_hash = self._context.verify_and_update(password, stored)
        except (ValueError, TypeError):
            # A legacy or corrupt hash is a failed login, never a server error. Still spend the
            # time of a real check.
            self._context.verify(password, self._dummy_hash)
            return False, None
        return bool(ok), (str(new_hash) if new_hash else None)

    async def hash(self, password: str) -> str:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.hash_sync, password)

    async def verify(self, password: str, stored: str | None) -> tuple[bool, str | None]:
        """Check a password; returns (matches, new hash when the stored one should be upgraded)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._verify_sync, password, stored)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
