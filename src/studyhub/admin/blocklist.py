"""Enforcement of the admin IP block list without a database query per request.

The active list lives in the `Cache` under a version key that the service replaces on every change;
every request reads only that version (one cache round trip), so a change reaches every worker at
once. The service publishes the list as its own transaction sees it (its change included), so
workers never reload a pre-commit view from the database. Lost publications (Redis down, two
admins racing) heal within `LIST_TTL_SECONDS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from studyhub.admin.models import IpBlock
from studyhub.admin.repository import IpBlockRepository
from studyhub.core.cache import Cache, CacheUnavailable
from studyhub.core.clientip import Network
from studyhub.core.db import Database, utcnow

logger = logging.getLogger("studyhub.admin")

VERSION_KEY = "admin:ip-blocks:version"
LIST_TTL_SECONDS = 60
# A worker re-reads the list at least this often even if no version change is seen.
SNAPSHOT_MAX_AGE_SECONDS = 30.0
RETRY_AFTER_FAILURE_SECONDS = 2.0

Entry = tuple[Network, float | None]  # network, expiry (epoch seconds)


def _list_key(version: bytes) -> str:
    return f"admin:ip-blocks:list:{version.decode()}"


def _encode(blocks: Sequence[IpBlock]) -> bytes:
    return json.dumps(
        [[b.network, b.expires_at.timestamp() if b.expires_at else None] for b in blocks]
    ).encode()


def _decode(raw: bytes) -> tuple[Entry, ...]:
    return tuple((ipaddress.ip_network(net), exp) for net, exp in json.loads(raw))


def client_address(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address blocks are matched against (None if `ip` is not an address)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    # An IPv4 client seen through a dual-stack socket must match IPv4 blocks.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


async def publish(cache: Cache, active: Sequence[IpBlock]) -> None:
    """Store the active list under a fresh version and make it current (best effort)."""
    version = uuid.uuid4().hex.encode()
    try:
        await cache.set(_list_key(version), _encode(active), LIST_TTL_SECONDS)
        await cache.set(VERSION_KEY, version)
    except CacheUnavailable:
        logger.warning("ip block list not published; workers refresh within %ss", LIST_TTL_SECONDS)


@dataclass(frozen=True, slots=True)
class _Snapshot:
    version: bytes | None
    loaded_at: float
    entries: tuple[Entry, ...]


class IpBlockList:
    """`core.ratelimit.BlockList`: is this client address inside an active block?"""

    def __init__(
        self, database: Database, cache: Cache, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.database = database
        self.cache = cache
        self.clock = clock
        self._snapshot: _Snapshot | None = None
        self._lock = asyncio.Lock()

    def forget(self) -> None:
        self._snapshot = None

    async def is_blocked(self, ip: str) -> bool:
        snapshot = await self._current()
        if not snapshot.entries:
            return False
        address = client_address(ip)
        if address is None:
            return False
        now = time.time()
        return any(address in net and (exp is None or exp > now) for net, exp in snapshot.entries)

    async def _current(self) -> _Snapshot:
        try:
            version, reachable = await self.cache.get(VERSION_KEY), True
        except CacheUnavailable:
            version, reachable = None, False
        snapshot = self._snapshot
        if self._usable(snapshot, version, reachable):
            return snapshot  # type: ignore[return-value]
        async with self._lock:  # one reload per worker, not one per waiting request
            if self._usable(self._snapshot, version, reachable):
                return self._snapshot  # type: ignore[return-value]
            loaded_at = self.clock()
            try:
                entries = await self._load(version)
            except (SQLAlchemyError, OSError) as exc:
                # A database outage must not turn every API request into a 500: keep what we
                # had (fail open for blocks not yet seen) and retry shortly.
                logger.warning("ip block list not loaded: %s", type(exc).__name__)
                entries = snapshot.entries if snapshot else ()
                loaded_at -= SNAPSHOT_MAX_AGE_SECONDS - RETRY_AFTER_FAILURE_SECONDS
            self._snapshot = _Snapshot(version, loaded_at, entries)
            return self._snapshot

    def _usable(self, snapshot: _Snapshot | None, version: bytes | None, reachable: bool) -> bool:
        if snapshot is None or self.clock() - snapshot.loaded_at >= SNAPSHOT_MAX_AGE_SECONDS:
            return False
        return not reachable or snapshot.version == version

    async def _load(self, version: bytes | None) -> tuple[Entry, ...]:
        if version is not None:
            try:
                raw = await self.cache.get(_list_key(version))
            except CacheUnavailable:
                raw = None
            if raw is not None:
                return _decode(raw)
        async with self.database.session(write=False) as session:
            active = await IpBlockRepository(session).active(utcnow())
        if version is not None:
            with contextlib.suppress(CacheUnavailable):
                await self.cache.set(_list_key(version), _encode(active), LIST_TTL_SECONDS)
        return _decode(_encode(active))
