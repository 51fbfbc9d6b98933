from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from studyhub.core.db import Database, guarded_write
from studyhub.core.errors import AppError
from studyhub.users.exceptions import EmailTaken, UsernameTaken
from studyhub.users.models import User, UserRole

# Ids outside the column's range cannot exist; asking PostgreSQL for one (int4) is an error.
MAX_ID = 2**31 - 1

SORT_COLUMNS: dict[str, InstrumentedAttribute[Any]] = {
    "username": User.username,
    "email": User.email,
    "created_at": User.created_at,
    "last_login_at": User.last_login_at,
    "role": User.role,
}


@dataclass(frozen=True, slots=True)
class UserQuery:
    role: UserRole | None = None
    is_active: bool | None = None
    search: str | None = None
    sort: str = "username"  # a key of SORT_COLUMNS, "-" prefixed for descending


def _like_pattern(text: str) -> str:
    """A `%substring%` pattern in which the user's own `%`, `_` and `\\` match literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class UserReader:
    """User lookups on short sessions of their own, outside the request's transaction.

    For reads that must not hold a write lock (SQLite takes it at a write transaction's first
    statement) while slow work follows, such as argon2. Each lookup returns its connection to the
    pool at once, so a request never holds two connections: under load that would exhaust the
    pool with every request waiting for a second connection.
    """

    def __init__(self, database: Database) -> None:
        self.database = database

    async def get(self, user_id: int) -> User | None:
        async with self.database.session(write=False) as session:
            return await UserRepository(session).get(user_id)

    async def get_by_login(self, login: str) -> User | None:
        async with self.database.session(write=False) as session:
            return await UserRepository(session).get_by_login(login)


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: int) -> User | None:
        if not 1 <= user_id <= MAX_ID:
            return None
        return await self.session.get(User, user_id)

    async def get_for_update(self, user_id: int) -> User | None:
        """Load a user fresh from the database and lock the row until the transaction ends.

        `FOR UPDATE` on PostgreSQL (SQLAlchemy leaves it out on SQLite, whose write transactions
        already hold the database lock). `populate_existing` makes a copy already in the identity
        map be overwritten by the row as stored now.
        """
        if not 1 <= user_id <= MAX_ID:
            return None
        result = await self.session.execute(
            select(User)
            .where(User.id == user_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return result.scalar_one_or_none()

    async def search(self, query: UserQuery, *, offset: int, limit: int) -> tuple[list[User], int]:
        """One page of users and the total matching count: two queries whatever the page size."""
        conditions = self._conditions(query)
        total = await self.session.scalar(select(func.count()).select_from(User).where(*conditions))
        descending = query.sort.startswith("-")
        column = SORT_COLUMNS[query.sort.removeprefix("-")]
        order = column.desc() if descending else column.asc()
        # NULLS LAST on both backends (they disagree by default); the id breaks ties so pages
        # neither repeat nor skip rows.
        tie = User.id.desc() if descending else User.id.asc()
        result = await self.session.execute(
            select(User)
            .where(*conditions)
            .order_by(order.nulls_last(), tie)
            .offset(offset)
            .limit(limit)
        )
        return list(result.scalars()), int(total or 0)

    @staticmethod
    def _conditions(query: UserQuery) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if query.role is not None:
            conditions.append(User.role == query.role)
        if query.is_active is not None:
            conditions.append(User.is_active == query.is_active)
        if query.search:
            pattern = _like_pattern(query.search.strip())
            full_name = User.first_name + " " + User.last_name
            conditions.append(
                or_(
                    *(
                        column.ilike(pattern, escape="\\")
                        for column in (User.username, User.email, User.first_name, User.last_name)
                    ),
                    full_name.ilike(pattern, escape="\\"),
                )
            )
        return conditions

    async def taken(
        self, usernames: Collection[str], emails: Collection[str]
    ) -> tuple[set[str], set[str]]:
        """Which of these (lower-case) usernames and emails exist already: one query."""
        if not usernames and not emails:
            return set(), set()
        result = await self.session.execute(
            select(User.username, User.email).where(
                or_(User.username.in_(list(usernames)), User.email.in_(list(emails)))
            )
        )
        rows = result.all()
        return {r.username for r in rows} & set(usernames), {r.email for r in rows} & set(emails)

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
