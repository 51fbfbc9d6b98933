"""Demo data and the first administrator, for the command line.

These run outside a request, so they own their transaction: one commit at the end, all or nothing.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from studyhub.core.config import Environment, Settings
from studyhub.core.db import Database, create_engine
from studyhub.core.errors import AppError
from studyhub.core.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, PasswordHasher
from studyhub.core.storage import FileStore
from studyhub.demo_assignments import seed_assignments
from studyhub.demo_courses import seed_courses
from studyhub.users.models import UserRole
from studyhub.users.repository import UserRepository
from studyhub.users.service import NewUser, UserService

USERNAME_PATTERN = re.compile(r"^[a-zA-Z0-9_.-]{3,50}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
DEMO_LOGINS_FILE = Path("instance/demo-logins.txt")


@dataclass(frozen=True, slots=True)
class DemoLogin:
    username: str
    role: UserRole
    password: str


DEMO_USERS: list[tuple[str, UserRole, str, str]] = [
    ("admin", UserRole.ADMIN, "Grace", "Hopper"),
    ("teacher", UserRole.TEACHER, "Ada", "Lovelace"),
    ("teacher2", UserRole.TEACHER, "Edsger", "Dijkstra"),
    ("ta", UserRole.TA, "Alan", "Turing"),
    ("student", UserRole.STUDENT, "Katherine", "Johnson"),
    ("student2", UserRole.STUDENT, "Barbara", "Liskov"),
    ("student3", UserRole.STUDENT, "Donald", "Knuth"),
]


def validate_new_login(username: str, email: str, password: str) -> None:
    if not USERNAME_PATTERN.match(username):
        raise ValueError("username must be 3-50 characters of letters, digits, '.', '_' or '-'")
    if not EMAIL_PATTERN.match(email):
        raise ValueError("email is not a valid address")
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise ValueError(
            f"password must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters"
        )


@asynccontextmanager
async def _user_service(settings: Settings) -> AsyncIterator[UserService]:
    database = Database(create_engine(settings))
    hasher = PasswordHasher(fast=settings.password_hash_fast)
    try:
        async with database.session() as session:
            yield UserService(UserRepository(session), hasher)
            await session.commit()
    finally:
        hasher.close()
        await database.dispose()


async def create_admin_user(settings: Settings, username: str, email: str, password: str) -> int:
    validate_new_login(username, email, password)
    try:
        async with _user_service(settings) as service:
            user = await service.create(NewUser(username, email, password, UserRole.ADMIN))
            return user.id
    except AppError as exc:
        raise ValueError(exc.message) from exc


@dataclass(frozen=True, slots=True)
class SeedReport:
    logins: list[DemoLogin]
    courses: list[str]


async def seed_demo(settings: Settings, *, if_empty: bool = False) -> SeedReport | None:
    """Create the demo users and courses that are missing, in one transaction. Returns what was
    created, or None when skipped."""
    shared_password = os.environ.get("SEED_PASSWORD")
    created: list[DemoLogin] = []
    async with _user_service(settings) as service:
        if if_empty and await service.users.count() > 0:
            return None
        for username, role, first, last in DEMO_USERS:
            if await service.users.exists(username=username):
                continue
            password = shared_password or secrets.token_urlsafe(12)
            await service.create(
                NewUser(
                    username=username,
                    email=f"{username}@studyhub.example",
                    password=password,
                    role=role,
                    first_name=first,
                    last_name=last,
                )
            )
            created.append(DemoLogin(username, role, password))
        files = FileStore(settings.upload_dir / "files", settings.max_upload_bytes)
        courses = await seed_courses(service.users.session, files)
        if "SE101" in courses:
            await seed_assignments(service.users.session)
    if created and settings.environment is Environment.DEVELOPMENT and not shared_password:
        _remember_logins(created)
    return SeedReport(created, courses)


def _remember_logins(created: list[DemoLogin]) -> None:
    """Development only: keep generated demo passwords in a private file under instance/."""
    DEMO_LOGINS_FILE.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(DEMO_LOGINS_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        for login in created:
            handle.write(f"{login.username}\t{login.role.value}\t{login.password}\n")


def print_report(console: Console, report: SeedReport) -> None:
    if report.courses:
        console.print(f"Demo courses created: {', '.join(report.courses)}")
    created = report.logins
    if not created:
        if not report.courses:
            console.print("Demo data already present; nothing to add.")
        return
    table = Table(title="Demo logins (shown once)")
    for column in ("username", "role", "password"):
        table.add_column(column)
    for login in created:
        table.add_row(login.username, login.role.value, login.password)
    console.print(table)
    if DEMO_LOGINS_FILE.exists():
        console.print(f"Also kept in {DEMO_LOGINS_FILE} (development only, mode 600).")
