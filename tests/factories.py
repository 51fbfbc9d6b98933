"""Typed factories: build rows through the same services the API uses, committed at once."""

from __future__ import annotations

import itertools

from studyhub.core.db import Database
from studyhub.core.passwords import PasswordHasher
from studyhub.users.models import User, UserRole
from studyhub.users.repository import UserRepository
from studyhub.users.service import NewUser, UserService

DEFAULT_PASSWORD = "correct horse battery"
_counter = itertools.count(1)
_hasher = PasswordHasher(fast=True, max_concurrency=2)


async def make_user(
    database: Database,
    *,
    role: UserRole = UserRole.STUDENT,
    username: str | None = None,
    password: str = DEFAULT_PASSWORD,
    is_active: bool = True,
) -> User:
    n = next(_counter)
    username = username or f"{role.value}{n}"
    async with database.session() as session:
        user = await UserService(UserRepository(session), _hasher).create(
            NewUser(
                username=username,
                email=f"{username}@example.org",
                password=password,
                role=role,
                first_name=role.value.title(),
                last_name=f"No{n}",
                is_active=is_active,
            )
        )
        await session.commit()
    return user
