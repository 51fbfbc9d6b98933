from __future__ import annotations

from dataclasses import dataclass

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


class UserService:
    """User rules shared by the API, the CLI and the seed. Flushes, never commits."""

    def __init__(self, users: UserRepository, passwords: PasswordHasher) -> None:
        self.users = users
        self.passwords = passwords

    async def ensure_email_free(self, email: str) -> None:
        if await self.users.exists(email=email):
            raise EmailTaken(details={"email": ["taken"]})

    async def create(self, new: NewUser) -> User:
        username, email = new.username.strip().lower(), new.email.strip().lower()
        if await self.users.exists(username=username):
            raise UsernameTaken(details={"username": ["taken"]})
        await self.ensure_email_free(email)
        user = User(
            username=username,
            email=email,
            password_hash=await self.passwords.hash(new.password),
            role=new.role,
            first_name=new.first_name,
            last_name=new.last_name,
            is_active=new.is_active,
        )
        return await self.users.add(user)
