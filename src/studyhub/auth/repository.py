from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from studyhub.auth.models import AuthSession, RefreshToken


@dataclass(frozen=True, slots=True)
class ClaimedToken:
    session_id: int
    user_id: int


@dataclass(frozen=True, slots=True)
class SpentToken:
    session_id: int
    used_at: datetime
    is_latest_used: bool


class SessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, auth_session: AuthSession, token_hash: str) -> AuthSession:
        self.session.add(auth_session)
        await self.session.flush()
        self.session.add(RefreshToken(session_id=auth_session.id, token_hash=token_hash))
        await self.session.flush()
        return auth_session

    async def claim(
        self, token_hash: str, now: datetime, idle_cutoff: datetime
    ) -> ClaimedToken | None:
        """Mark a live token used, atomically: of concurrent claims of one token, one wins."""
        live_session = (
            select(AuthSession.id)
            .where(
                AuthSession.id == RefreshToken.session_id,
                AuthSession.revoked_at.is_(None),
                AuthSession.expires_at > now,
                AuthSession.last_used_at > idle_cutoff,
            )
            .exists()
        )
        result = await self.session.execute(
            update(RefreshToken)
            .where(
                RefreshToken.token_hash == token_hash,
                RefreshToken.used_at.is_(None),
                live_session,
            )
            .values(used_at=now)
            .returning(RefreshToken.session_id)
        )
        session_id = result.scalar_one_or_none()
        if session_id is None:
            return None
        result = await self.session.execute(
            update(AuthSession)
            .where(AuthSession.id == session_id)
            .values(last_used_at=now)
            .returning(AuthSession.user_id)
        )
        return ClaimedToken(session_id=session_id, user_id=result.scalar_one())

    async def find_spent(self, token_hash: str) -> SpentToken | None:
        token = (
            await self.session.execute(
                select(RefreshToken).where(RefreshToken.token_hash == token_hash)
            )
        ).scalar_one_or_none()
        if token is None or token.used_at is None:
            return None
        newer_used = await self.session.scalar(
            select(RefreshToken.id)
            .where(
                RefreshToken.session_id == token.session_id,
                RefreshToken.used_at.is_not(None),
                RefreshToken.id > token.id,
            )
            .limit(1)
        )
        return SpentToken(token.session_id, token.used_at, is_latest_used=newer_used is None)

    async def add_token(self, session_id: int, token_hash: str) -> None:
        self.session.add(RefreshToken(session_id=session_id, token_hash=token_hash))
        await self.session.flush()

    async def session_of_token(self, token_hash: str) -> AuthSession | None:
        result = await self.session.execute(
            select(AuthSession)
            .join(RefreshToken, RefreshToken.session_id == AuthSession.id)
            .where(RefreshToken.token_hash == token_hash)
        )
        return result.scalar_one_or_none()

    async def get(self, session_id: int) -> AuthSession | None:
        return await self.session.get(AuthSession, session_id)

    async def list_live(
        self, user_id: int, now: datetime, idle_cutoff: datetime
    ) -> list[AuthSession]:
        result = await self.session.execute(
            select(AuthSession)
            .where(
                AuthSession.user_id == user_id,
                AuthSession.revoked_at.is_(None),
                AuthSession.expires_at > now,
                AuthSession.last_used_at > idle_cutoff,
            )
            .order_by(AuthSession.last_used_at.desc())
        )
        return list(result.scalars())

    async def revoke(
        self,
        *,
        now: datetime,
        reason: str,
        session_id: int | None = None,
        user_id: int | None = None,
        except_session_id: int | None = None,
    ) -> list[int]:
        """Revoke one session, or all of a user's (optionally but one). Returns the revoked ids."""
        conditions: list[ColumnElement[bool]] = [AuthSession.revoked_at.is_(None)]
        if session_id is not None:
            conditions.append(AuthSession.id == session_id)
        if user_id is not None:
            conditions.append(AuthSession.user_id == user_id)
        if except_session_id is not None:
            conditions.append(AuthSession.id != except_session_id)
        result = await self.session.execute(
            update(AuthSession)
            .where(and_(*conditions))
            .values(revoked_at=now, revoked_reason=reason)
            .returning(AuthSession.id)
        )
        return list(result.scalars())

    async def is_live(self, session_id: int, now: datetime) -> bool:
        found = await self.session.scalar(
            select(AuthSession.id).where(
                AuthSession.id == session_id,
                AuthSession.revoked_at.is_(None),
                AuthSession.expires_at > now,
            )
        )
        return found is not None
