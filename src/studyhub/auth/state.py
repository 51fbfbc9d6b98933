"""Per-request auth state: the user's role/active flag/`tokens_valid_after` (cached, invalidated by
whoever changes them) and the denylist of logged-out tokens and revoked sessions.

Redis-down policy (DESIGN.md §9): user state falls back to the database (always correct); the
denylist fails open for non-admin tokens (access tokens live ≤ 15 min) and closed (503) for admins.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import math
import time
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from studyhub.core.cache import Cache, CacheUnavailable
from studyhub.core.db import after_commit
from studyhub.core.errors import ServiceUnavailable
from studyhub.users.models import User, UserRole

logger = logging.getLogger("studyhub.auth")

# Bounds staleness if an invalidation is lost while Redis is unreachable.
USER_STATE_TTL_SECONDS = 30


@dataclass(frozen=True, slots=True)
class UserAuthState:
    role: UserRole
    is_active: bool
    tokens_valid_after: float | None

    def to_bytes(self) -> bytes:
        return json.dumps([self.role.value, self.is_active, self.tokens_valid_after]).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> UserAuthState:
        return _decode_state(raw)


@functools.lru_cache(maxsize=4096)
def _decode_state(raw: bytes) -> UserAuthState:
    """Every authenticated request decodes its user's cached state; few distinct values exist."""
    role, active, valid_after = json.loads(raw)
    return UserAuthState(UserRole(role), bool(active), valid_after)


def _user_key(user_id: int) -> str:
    return f"auth:user:{user_id}"


def _jti_key(jti: str) -> str:
    return f"auth:deny:jti:{jti}"


def _sid_key(session_id: int) -> str:
    return f"auth:deny:sid:{session_id}"


class UserLookup(Protocol):
    async def get(self, user_id: int) -> User | None: ...


@dataclass(frozen=True, slots=True)
class TokenCheck:
    state: UserAuthState | None
    denied: bool


class AuthStateStore:
    def __init__(self, cache: Cache, session: AsyncSession | None = None) -> None:
        self.cache = cache
        self.session = session

    async def check(
        self, users: UserLookup, *, user_id: int, jti: str, session_id: int
    ) -> TokenCheck:
        """One cache round trip for the denylist and the user's state; the database on a miss."""
        try:
            denied_jti, denied_sid, raw_state = await self.cache.get_many(
                _jti_key(jti), _sid_key(session_id), _user_key(user_id)
            )
        except CacheUnavailable:
            state = await self._load(users, user_id, cache_it=False)
            if state is not None and state.role is UserRole.ADMIN:
                raise ServiceUnavailable(
                    "Cannot verify admin credentials right now; retry shortly"
                ) from None
            return TokenCheck(state=state, denied=False)
        state = UserAuthState.from_bytes(raw_state) if raw_state else None
        if state is None:
            state = await self._load(users, user_id, cache_it=True)
        return TokenCheck(state=state, denied=bool(denied_jti or denied_sid))

    async def _load(
        self, users: UserLookup, user_id: int, *, cache_it: bool
    ) -> UserAuthState | None:
        user = await users.get(user_id)
        if user is None:
            return None
        valid_after = user.tokens_valid_after.timestamp() if user.tokens_valid_after else None
        state = UserAuthState(user.role, user.is_active, valid_after)
        if cache_it:
            with contextlib.suppress(CacheUnavailable):
                await self.cache.set(_user_key(user_id), state.to_bytes(), USER_STATE_TTL_SECONDS)
        return state

    async def forget_user(self, user_id: int) -> None:
        """Drop the cached state now and again after the commit: a request running in between
        could otherwise cache the pre-commit state for USER_STATE_TTL_SECONDS."""

        async def forget() -> None:
            try:
                await self.cache.delete(_user_key(user_id))
            except CacheUnavailable:
                logger.warning("could not invalidate cached auth state of user %s", user_id)

        await forget()
        if self.session is not None:
            after_commit(self.session, forget)

    async def deny(
        self, *, jti: str | None = None, session_ids: list[int] | None = None, until: float
    ) -> None:
        """Deny a token id and/or sessions until `until` (epoch seconds: the last expiry)."""
        ttl = math.ceil(until - time.time())
        if ttl <= 0:
            return
        keys = ([_jti_key(jti)] if jti else []) + [_sid_key(s) for s in session_ids or []]
        for key in keys:
            try:
                await self.cache.set(key, b"1", ttl)
            except CacheUnavailable:
                # The session row is revoked in the database anyway; the access token may live
                # out its ≤ 15 minutes (fail-open policy for the denylist).
                logger.warning("denylist write failed")
                return
