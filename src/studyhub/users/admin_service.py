"""User administration (API.md §2): list, create, change, deactivate, revoke, batch create.

Revocation has one implementation, `AuthService.revoke_everything`: it ends every session, makes
access tokens issued so far invalid (`tokens_valid_after`), denies the sessions' live tokens, and
drops the cached auth state. Role and active-flag changes drop the cached auth state too, so the
very next request of that user sees them. Flushes, never commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from studyhub.auth.service import AuthService, Principal
from studyhub.auth.state import AuthStateStore
from studyhub.core.errors import AppError, NotFound, ValidationFailed, validation_details
from studyhub.core.http import check_if_match
from studyhub.core.pagination import PageParams
from studyhub.core.passwords import PasswordHasher
from studyhub.users.exceptions import SelfLockout
from studyhub.users.models import User, UserRole
from studyhub.users.repository import UserQuery, UserRepository
from studyhub.users.schemas import UserCreate, user_etag
from studyhub.users.service import NewUser, UserService


@dataclass(frozen=True, slots=True)
class UserChanges:
    """The fields a PATCH sent; None means "not sent" (the schema refuses explicit nulls)."""

    email: str | None = None
    role: UserRole | None = None
    first_name: str | None = None
    last_name: str | None = None
    is_active: bool | None = None
    password: str | None = None


@dataclass(frozen=True, slots=True)
class RowOutcome:
    index: int
    user: User | None = None
    error: AppError | None = None


def new_user(body: UserCreate) -> NewUser:
    return NewUser(
        username=body.username,
        email=str(body.email),
        password=body.password,
        role=body.role,
        first_name=body.first_name,
        last_name=body.last_name,
        is_active=body.is_active,
    )


class UserAdminService:
    def __init__(
        self,
        *,
        users: UserRepository,
        passwords: PasswordHasher,
        auth: AuthService,
        state: AuthStateStore,
    ) -> None:
        self.users = users
        self.passwords = passwords
        self.auth = auth
        self.state = state
        self.accounts = UserService(users, passwords)

    async def list_users(self, query: UserQuery, page: PageParams) -> tuple[list[User], int]:
        return await self.users.search(query, offset=page.offset, limit=page.limit)

    async def get(self, user_id: int) -> User:
        user = await self.users.get(user_id)
        if user is None:
            raise NotFound("User not found")
        return user

    async def create(self, body: UserCreate) -> User:
        return await self.accounts.create(new_user(body))

    async def update(
        self, actor: Principal, user_id: int, changes: UserChanges, if_match: str | None
    ) -> User:
        # Hash before taking the row lock: argon2 is slow by design and the lock blocks writers.
        new_hash = await self.passwords.hash(changes.password) if changes.password else None
        user = await self._locked(user_id)
        check_if_match(if_match, user_etag(user))
        role_changed = changes.role is not None and changes.role != user.role
        deactivating = changes.is_active is False and user.is_active
        if user.id == actor.user_id and (role_changed or deactivating):
            raise SelfLockout
        access_changed = role_changed or (
            changes.is_active is not None and changes.is_active != user.is_active
        )

        if changes.email is not None and changes.email.lower() != user.email:
            email = changes.email.lower()
            await self.accounts.ensure_email_free(email)
            await self.users.update(user, email=email)  # savepoint: a lost race is a 409 too
        if changes.first_name is not None or changes.last_name is not None:
            await self.auth.names_changed(user.id)
        for name in ("role", "first_name", "last_name", "is_active"):
            value = getattr(changes, name)
            if value is not None:
                setattr(user, name, value)
        if new_hash is not None:
            user.password_hash = new_hash
        await self.users.flush()

        if deactivating:
            await self.auth.revoke_everything(user.id, reason="deactivated")
        elif new_hash is not None:
            # Like a password change: the admin's own current session may go on refreshing.
            keep = actor.session_id if user.id == actor.user_id else None
            await self.auth.revoke_everything(
                user.id, reason="password_reset", keep_session_id=keep
            )
        elif access_changed:
            await self.state.forget_user(user.id)
        return user

    async def deactivate(self, actor: Principal, user_id: int) -> None:
        """DELETE: the account is switched off and signed out everywhere; its data stays."""
        user = await self._locked(user_id)
        if user.id == actor.user_id:
            raise SelfLockout
        user.is_active = False
        await self.users.flush()
        await self.auth.revoke_everything(user.id, reason="deactivated")

    async def revoke_sessions(self, user_id: int) -> None:
        await self.get(user_id)
        await self.auth.revoke_everything(user_id, reason="admin_revoked")

    async def create_many(self, rows: Sequence[dict[str, Any]]) -> list[RowOutcome]:
        """Validate each row on its own, then create the valid ones; results in row order."""
        outcomes: dict[int, RowOutcome] = {}
        valid: list[tuple[int, NewUser]] = []
        for index, row in enumerate(rows):
            try:
                valid.append((index, new_user(UserCreate.model_validate(row))))
            except ValidationError as exc:
                error = ValidationFailed(details=validation_details(exc.errors()))
                outcomes[index] = RowOutcome(index, error=error)
        created = await self.accounts.create_many([new for _, new in valid])
        for (index, _), result in zip(valid, created, strict=True):
            outcomes[index] = (
                RowOutcome(index, user=result)
                if isinstance(result, User)
                else RowOutcome(index, error=result)
            )
        return [outcomes[index] for index in range(len(rows))]

    async def _locked(self, user_id: int) -> User:
        """The user as stored now, locked for this transaction (see `core.http`)."""
        user = await self.users.get_for_update(user_id)
        if user is None:
            raise NotFound("User not found")
        return user
