"""Database plumbing: UTC timestamps, SQLite pragmas and write locking, transient errors → 503."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, select, text, update
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.types import TypeDecorator

from studyhub.core.config import Settings
from studyhub.core.db import WAL_AUTOCHECKPOINT_PAGES, Database, SessionDep, UTCDateTime
from studyhub.users.models import User
from tests.factories import make_user

sqlite_only = pytest.mark.skipif(
    os.environ.get("TEST_DATABASE_URL", "sqlite").startswith("postgres"),
    reason="SQLite-specific behaviour",
)


async def test_timestamps_round_trip_as_aware_utc(database: Database) -> None:
    user = await make_user(database)
    moment = datetime(2026, 3, 1, 12, 30, tzinfo=timezone(timedelta(hours=2)))
    async with database.session() as session:
        await session.execute(update(User).where(User.id == user.id).values(last_login_at=moment))
        await session.commit()
    async with database.session(write=False) as session:
        row = (await session.execute(select(User).where(User.id == user.id))).scalar_one()
    assert row.last_login_at == moment
    assert row.last_login_at is not None
    assert row.last_login_at.tzinfo is UTC
    assert row.created_at.tzinfo is UTC


@pytest.mark.parametrize("driver", ["sqlite+aiosqlite", "postgresql+asyncpg"])
def test_utc_bind_processor_binds_what_the_generic_chain_binds(driver: str) -> None:
    """`UTCDateTime.bind_processor` fuses the TypeDecorator chain (and SQLite's formatting):
    the values sent to the database, so what is stored and compared in SQL, are the same."""
    dialect: Dialect = make_url(f"{driver}://").get_dialect()()
    impl = UTCDateTime().dialect_impl(dialect)
    assert isinstance(impl, UTCDateTime)
    fused, generic = impl.bind_processor(dialect), TypeDecorator.bind_processor(impl, dialect)
    assert fused is not None and generic is not None
    moments = [
        datetime(2026, 3, 1, 12, 30, 5, 7, tzinfo=UTC),
        datetime(2026, 3, 1, 0, 0, tzinfo=timezone(timedelta(hours=2))),  # a day earlier in UTC
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        None,
    ]
    for moment in moments:
        assert fused(moment) == generic(moment)
    with pytest.raises(ValueError, match="naive datetime"):
        fused(datetime(2026, 1, 1))


async def test_naive_datetimes_are_refused(database: Database) -> None:
    user = await make_user(database)
    async with database.session() as session:
        with pytest.raises(Exception, match="naive datetime"):
            await session.execute(
                update(User).where(User.id == user.id).values(last_login_at=datetime(2026, 1, 1))
            )


@sqlite_only
async def test_sqlite_connections_use_wal_and_foreign_keys(database: Database) -> None:
    async with database.engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
        assert int((await conn.execute(text("PRAGMA busy_timeout"))).scalar() or 0) > 0
        checkpoint = (await conn.execute(text("PRAGMA wal_autocheckpoint"))).scalar()
        assert checkpoint == WAL_AUTOCHECKPOINT_PAGES


@sqlite_only
async def test_sqlite_write_sessions_serialise_read_modify_write(database: Database) -> None:
    """Without BEGIN IMMEDIATE, concurrent read-then-write transactions lose updates or fail."""
    user = await make_user(database)

    async def bump() -> None:
        async with database.session(write=True) as session:
            current = await session.scalar(select(User.first_name).where(User.id == user.id))
            await asyncio.sleep(0)  # let the others interleave between read and write
            await session.execute(
                update(User).where(User.id == user.id).values(first_name=str(int(current or 0) + 1))
            )
            await session.commit()

    async with database.session() as session:
        await session.execute(update(User).where(User.id == user.id).values(first_name="0"))
        await session.commit()
    await asyncio.gather(*(bump() for _ in range(20)))
    async with database.session(write=False) as session:
        assert await session.scalar(select(User.first_name).where(User.id == user.id)) == "20"


@sqlite_only
async def test_a_locked_sqlite_database_is_a_503_not_a_500(
    make_app: Callable[..., FastAPI], settings: Settings
) -> None:
    app = make_app(sqlite_busy_timeout_ms=50)

    @app.post("/api/v1/_test/touch", name="test-touch")
    async def touch(session: SessionDep) -> dict[str, str]:
        await session.execute(update(User).values(first_name="x"))
        return {"ok": "yes"}

    path = make_url(settings.database_url).database
    assert path
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                response = await client.post("/api/v1/_test/touch")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert response.status_code == 503
    assert response.json()["error"] == "SERVICE_UNAVAILABLE"
    assert response.headers["retry-after"] == "1"


@sqlite_only
async def test_sqlite_writers_queue_in_the_process_instead_of_polling_the_lock(
    database: Database,
) -> None:
    """Only one write transaction of the process asks SQLite for the lock at a time; the others
    wait their turn on the event loop. Without the queue every waiter sat in SQLite's busy
    handler, sleeping between retries: under the soak's load writers timed out with 503s."""
    user = await make_user(database)
    active, overlaps = 0, 0
    engine = database.engine.sync_engine

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        nonlocal overlaps
        if statement == "BEGIN IMMEDIATE" and active:
            overlaps += 1

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        nonlocal active
        if statement == "BEGIN IMMEDIATE":
            active += 1

    def ended(conn: Any) -> None:
        nonlocal active
        active = max(0, active - 1)

    listeners: list[tuple[str, Callable[..., None]]] = [
        ("before_cursor_execute", before),
        ("after_cursor_execute", after),
        ("commit", ended),
        ("rollback", ended),
    ]
    for name, listener in listeners:
        event.listen(engine, name, listener)
    try:

        async def write(n: int) -> None:
            async with database.session(write=True) as session:
                await session.execute(
                    update(User).where(User.id == user.id).values(first_name=str(n))
                )
                await asyncio.sleep(0)  # hold the transaction across a loop turn
                await session.commit()

        await asyncio.gather(*(write(n) for n in range(10)))
    finally:
        for name, listener in listeners:
            event.remove(engine, name, listener)
    assert overlaps == 0


@sqlite_only
async def test_sqlite_write_lock_passes_on_only_once_the_commit_is_done(
    database: Database, settings: Settings
) -> None:
    """SQLAlchemy's commit event runs before the driver's COMMIT: a lock released there let the
    next writer's BEGIN IMMEDIATE run while the COMMIT was still writing the WAL, so it got
    SQLITE_BUSY and slept in SQLite's busy handler (1, 2, 5 ms...) while nobody wrote. At every
    BEGIN IMMEDIATE, no other write transaction may still be open in the file."""
    user = await make_user(database)
    path = make_url(settings.database_url).database
    assert path
    probe = sqlite3.connect(path, isolation_level=None, timeout=0)
    engine = database.engine.sync_engine
    begins, collisions = 0, 0

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        nonlocal begins, collisions
        if statement != "BEGIN IMMEDIATE":
            return
        begins += 1
        try:
            probe.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:  # "database is locked": a writer has not finished
            collisions += 1
        else:
            probe.execute("ROLLBACK")

    async def write(n: int) -> None:
        async with database.session(write=True) as session:
            # A large row, so that each COMMIT has hundreds of pages to write.
            await session.execute(
                update(User).where(User.id == user.id).values(first_name=str(n) * 1_000_000)
            )
            await session.commit()

    event.listen(engine, "before_cursor_execute", before)
    try:
        await asyncio.gather(*(write(n) for n in range(6)))
    finally:
        event.remove(engine, "before_cursor_execute", before)
        probe.close()
    assert begins == 6
    assert collisions == 0
