"""The `studyhub` command line, run in-process against a throwaway database."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
import uvicorn
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from studyhub.cli import app
from studyhub.core.config import Settings
from studyhub.core.db import Database, create_engine
from studyhub.core.passwords import PasswordHasher
from studyhub.outbox.models import OutboxEvent
from studyhub.users.models import User, UserRole
from tests.factories import attach_text_file, make_course, make_lecture, make_week

runner = CliRunner()
ON_POSTGRES = os.environ.get("TEST_DATABASE_URL", "").startswith("postgres")


async def _admin_database(url: str, sql: str) -> None:
    parsed = make_url(url)
    conn = await asyncpg.connect(
        host=parsed.host, port=parsed.port, user=parsed.username, database=parsed.database
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
def cli_env(tmp_cwd: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh empty database for the CLI: a SQLite file, or a new PostgreSQL database."""
    for key in ("DATABASE_URL", "SEED_PASSWORD", "ENVIRONMENT"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PASSWORD_HASH_FAST", "true")
    monkeypatch.setenv("LOG_DIR", str(tmp_cwd / "logs"))
    if not ON_POSTGRES:
        url = f"sqlite:///{tmp_cwd / 'cli.db'}"
        monkeypatch.setenv("DATABASE_URL", url)
        yield url
        return
    base = os.environ["TEST_DATABASE_URL"]
    name = f"studyhub_cli_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin_database(base, f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    monkeypatch.setenv("DATABASE_URL", url)
    try:
        yield url
    finally:
        asyncio.run(_admin_database(base, f'DROP DATABASE "{name}" WITH (FORCE)'))


async def _users(url: str) -> list[User]:
    database = Database(create_engine(Settings(_env_file=None, database_url=url)))
    try:
        async with database.session(write=False) as session:
            return list((await session.execute(select(User).order_by(User.id))).scalars())
    finally:
        await database.dispose()


def test_init_db_then_seed_is_idempotent(cli_env: str, tmp_cwd: Path) -> None:
    result = runner.invoke(app, ["init-db"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["init-db"]).exit_code == 0  # upgrading twice is harmless

    first = runner.invoke(app, ["seed"])
    assert first.exit_code == 0, first.output
    assert "Demo logins" in first.output
    users = asyncio.run(_users(cli_env))
    assert {u.role for u in users} == set(UserRole)
    assert "SE101" in first.output

    again = runner.invoke(app, ["seed"])
    assert again.exit_code == 0
    assert "nothing to add" in again.output
    assert len(asyncio.run(_users(cli_env))) == len(users)
    assert "skipped" in runner.invoke(app, ["seed", "--if-empty"]).output

    # Generated passwords are printed once and work.
    logins = (tmp_cwd / "instance" / "demo-logins.txt").read_text().splitlines()
    username, _role, password = logins[0].split("\t")
    assert password in first.output
    assert oct((tmp_cwd / "instance" / "demo-logins.txt").stat().st_mode & 0o777) == "0o600"
    stored = next(u for u in users if u.username == username)
    assert asyncio.run(PasswordHasher(fast=True).verify(password, stored.password_hash))[0]


def test_seed_takes_passwords_from_env(
    cli_env: str, tmp_cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert runner.invoke(app, ["init-db"]).exit_code == 0
    monkeypatch.setenv("SEED_PASSWORD", "demo-password-42")
    result = runner.invoke(app, ["seed"])
    assert result.exit_code == 0
    users = asyncio.run(_users(cli_env))
    hasher = PasswordHasher(fast=True)
    assert all(asyncio.run(hasher.verify("demo-password-42", u.password_hash))[0] for u in users)
    assert not (tmp_cwd / "instance" / "demo-logins.txt").exists()


def test_create_admin_reads_the_password_from_stdin(cli_env: str) -> None:
    assert runner.invoke(app, ["init-db"]).exit_code == 0
    args = ["create-admin", "--username", "Root", "--email", "root@example.org", "--password-stdin"]
    result = runner.invoke(app, args, input="a-long-password\n")
    assert result.exit_code == 0, result.output
    assert "a-long-password" not in result.output
    (admin,) = asyncio.run(_users(cli_env))
    assert (admin.username, admin.role) == ("root", UserRole.ADMIN)
    assert admin.password_hash.startswith("$argon2id$")

    duplicate = runner.invoke(app, args, input="another-password\n")
    assert duplicate.exit_code == 2
    assert "taken" in duplicate.output


@pytest.mark.parametrize(
    ("username", "email", "password", "message"),
    [
        ("ok_name", "a@b.org", "short", "password must be"),
        ("ok_name", "a@b.org", "x" * 129, "password must be"),
        ("no", "a@b.org", "long-enough-pw", "username must be"),
        ("ok_name", "not-an-email", "long-enough-pw", "email"),
    ],
)
def test_create_admin_refuses_bad_input(
    cli_env: str, username: str, email: str, password: str, message: str
) -> None:
    assert runner.invoke(app, ["init-db"]).exit_code == 0
    result = runner.invoke(
        app,
        ["create-admin", "--username", username, "--email", email, "--password-stdin"],
        input=password + "\n",
    )
    assert result.exit_code == 2
    assert message in result.output
    assert asyncio.run(_users(cli_env)) == []


def test_openapi_writes_the_schema(tmp_cwd: Path) -> None:
    result = runner.invoke(app, ["openapi", "--output", "out.json"])
    assert result.exit_code == 0, result.output
    schema = json.loads((tmp_cwd / "out.json").read_text())
    assert schema["info"]["title"] == "StudyHub API"
    assert "/health" in schema["paths"]


def test_the_console_script_explains_itself() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "studyhub", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("serve", "init-db", "create-admin", "seed", "openapi"):
        assert command in result.stdout


async def _course_with_a_file(url: str, root: Path) -> str:
    database = Database(create_engine(Settings(_env_file=None, database_url=url)))
    try:
        course = await make_course(database, code="BIO101")
        lecture = await make_lecture(database, await make_week(database, course))
        await attach_text_file(database, lecture, root)
        await make_lecture(database, await make_week(database, course, number=2))  # no file
        async with database.session(write=False) as session:
            assert await session.scalar(select(func.count()).select_from(OutboxEvent)) == 0
        return course.code
    finally:
        await database.dispose()


async def _jobs(url: str) -> list[tuple[str, str]]:
    database = Database(create_engine(Settings(_env_file=None, database_url=url)))
    try:
        async with database.session(write=False) as session:
            rows = await session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))
            return [(e.kind.value, e.status.value) for e in rows]
    finally:
        await database.dispose()


def test_reindex_queues_lecture_files(cli_env: str, tmp_cwd: Path) -> None:
    assert runner.invoke(app, ["init-db"]).exit_code == 0
    code = asyncio.run(_course_with_a_file(cli_env, tmp_cwd / "uploads" / "files"))
    result = runner.invoke(app, ["reindex", "--course", code.lower()])
    assert result.exit_code == 0, result.output
    assert "Queued 1 lecture file(s)" in result.output
    assert asyncio.run(_jobs(cli_env)) == [("index", "pending")]
    unknown = runner.invoke(app, ["reindex", "--course", "NOPE"])
    assert unknown.exit_code == 2
    assert "no course" in unknown.output


@pytest.mark.parametrize(
    ("args", "paused"), [([], True), (["--workers", "2"], False), (["--reload"], False)]
)
def test_serve_pauses_the_collector_only_while_it_builds_the_app_in_process(
    cli_env: str, monkeypatch: pytest.MonkeyPatch, args: list[str], paused: bool
) -> None:
    seen: dict[str, bool] = {}

    def fake_run(app: str, *, factory: bool, **_: object) -> None:
        from studyhub.app import create_app

        assert (app, factory) == ("studyhub.app:create_app", True)
        seen["collecting while building"] = gc.isenabled()
        create_app()
        seen["collecting once built"] = gc.isenabled()

    monkeypatch.setattr(uvicorn, "run", fake_run)
    frozen = gc.get_freeze_count()
    try:
        result = runner.invoke(app, ["serve", "--port", "5999", *args])
    finally:
        gc.enable()
        if gc.get_freeze_count() != frozen:
            gc.unfreeze()
    assert result.exit_code == 0, result.output
    assert "StudyHub API on http://127.0.0.1:5999" in result.output
    assert seen == {"collecting while building": not paused, "collecting once built": True}
