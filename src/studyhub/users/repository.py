from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from studyhub.core.db import guarded_write
from studyhub.core.errors import AppError
from studyhub.users.exceptions import EmailTaken, UsernameTaken
from studyhub.users.models import User


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: int) -> User | None:
        return await self.session.get(User, user_id)

    async def get_by_login(self, login: str) -> User | None:
        """Find a user by username or email (both stored lower-case)."""
        key = login.strip().lower()
        result = await self.session.execute(
            select(User).where(or_(User.username == key, User.email == key))
        )
        return result.scalars().first()

    async def exists(self, *, username: str | None = None, email: str | None = None) -> bool:
        conditions = []
        if username is not None:
            conditions.append(User.username == username.lower())
        if email is not None:
            conditions.append(User.email == email.lower())
        if not conditions:
            return False
        result = await self.session.execute(select(User.id).where(or_(*conditions)).limit(1))
        return result.first() is not None

    async def count(self) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(User)) or 0)

    async def add(self, user: User) -> User:
        await self._unique_write(lambda: self.session.add(user))
        return user

    async def update(self, user: User, **changes: object) -> User:
        def apply() -> None:
            for name, value in changes.items():
                setattr(user, name, value)

        await self._unique_write(apply)
        return user

    async def flush(self) -> None:
        await self.session.flush()

    async def _unique_write(self, change: Callable[[], None]) -> None:
        await guarded_write(self.session, change, _conflict)


def _conflict(exc: IntegrityError) -> AppError:
    if "email" in str(exc.orig).lower():
        return EmailTaken(details={"email": ["taken"]})
    return UsernameTaken(details={"username": ["taken"]})
