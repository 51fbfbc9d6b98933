from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from studyhub.core.errors import Conflict
from studyhub.core.passwords import PasswordHasher
from studyhub.users.exceptions import EmailTaken, UsernameTaken
from studyhub.users.models import User, UserRole
from studyhub.users.repository import UserRepository


@dataclass(frozen=True, slots=True)
class NewUser:
    username: str
    email: str
    password: str
    role: UserRole
    first_name: str = ""
    last_name: str = ""
    is_active: bool = True

    def normalized(self) -> NewUser:
        """Usernames and emails are stored lower-case (case-insensitive uniqueness)."""
        return NewUser(
            self.username.strip().lower(),
            self.email.strip().lower(),
            self.password,
            self.role,
            self.first_name,
            self.last_name,
            self.is_active,
        )


class UserService:
    """User rules shared by the API, the CLI and the seed. Flushes, never commits."""

    def __init__(self, users: UserRepository, passwords: PasswordHasher) -> None:
        self.users = users
        self.passwords = passwords

    async def ensure_email_free(self, email: str) -> None:
        if await self.users.exists(email=email):
            raise EmailTaken(details={"email": ["taken"]})

    async def create(self, new: NewUser) -> User:
        new = new.normalized()
        # Hash before the first statement: a write transaction holds SQLite's lock from there.
        password_hash = await self.passwords.hash(new.password)
        if await self.users.exists(username=new.username):
            raise UsernameTaken(details={"username": ["taken"]})
        await self.ensure_email_free(new.email)
        return await self.users.add(_build(new, password_hash))

    async def create_many(self, rows: Sequence[NewUser]) -> list[User | Conflict]:
        """Create each row that can be created; the others get their conflict, in row order.

        A username or email repeated within `rows` loses to its first occurrence. Existing ones
        are found in one query; passwords are hashed concurrently but never more at once than the
        hasher has threads; each insert runs in its own savepoint, so a row that loses a race
        with a concurrent request fails alone.
        """
        rows = [row.normalized() for row in rows]
        # Hash before the first statement (the write lock; see `create`). Rows that turn out to
        # conflict with stored users waste their hash: the price of not blocking other writers.
        hashes_by_row = await self._hash_all([row.password for row in rows])
        taken_names, taken_emails = await self.users.taken(
            {r.username for r in rows}, {r.email for r in rows}
        )
        outcomes: list[User | Conflict | None] = []
        seen_names: set[str] = set()
        seen_emails: set[str] = set()
        for row in rows:
            conflict = _conflict(row, taken_names, taken_emails, seen_names, seen_emails)
            outcomes.append(conflict)
            if conflict is None:  # only a row that will be created claims its name and email
                seen_names.add(row.username)
                seen_emails.add(row.email)

        todo = [i for i, outcome in enumerate(outcomes) if outcome is None]
        for i in todo:
            try:
                outcomes[i] = await self.users.add(_build(rows[i], hashes_by_row[i]))
            except Conflict as exc:
                outcomes[i] = exc
        # Every row now has its outcome: the conflicts above, the inserts for the rest.
        return cast(list[User | Conflict], outcomes)

    async def _hash_all(self, passwords: list[str]) -> list[str]:
        limit = asyncio.Semaphore(self.passwords.max_concurrency)

        async def one(password: str) -> str:
            async with limit:
                return await self.passwords.hash(password)

        return list(await asyncio.gather(*(one(p) for p in passwords)))


def _build(new: NewUser, password_hash: str) -> User:
    return User(
        username=new.username,
        email=new.email,
        password_hash=password_hash,
        role=new.role,
        first_name=new.first_name,
        last_name=new.last_name,
        is_active=new.is_active,
    )


def _conflict(
    row: NewUser,
    taken_names: set[str],
    taken_emails: set[str],
    seen_names: set[str],
    seen_emails: set[str],
) -> Conflict | None:
    if row.username in taken_names:
        return UsernameTaken(details={"username": ["taken"]})
    if row.username in seen_names:
        return UsernameTaken(details={"username": ["repeated earlier in this batch"]})
    if row.email in taken_emails:
        return EmailTaken(details={"email": ["taken"]})
    if row.email in seen_emails:
        return EmailTaken(details={"email": ["repeated earlier in this batch"]})
    return None
