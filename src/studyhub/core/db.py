"""Database plumbing: `Base`, the engine, and the one-transaction-per-request session.

SQLite needs care to be correct under concurrency: pysqlite's own transaction handling is switched
off so that SQLAlchemy's `begin` event can emit `BEGIN IMMEDIATE` for requests that write. Without
it two concurrent read-modify-write transactions both read, then one fails or silently loses the
other's update.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import DateTime, MetaData, event, func
from sqlalchemy.engine import Connection, Dialect, make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util import await_only

from studyhub.core.config import Settings
from studyhub.core.errors import AppError, ServiceUnavailable

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_IMMEDIATE = "studyhub_begin_immediate"
WAL_AUTOCHECKPOINT_PAGES = 4000
_HOLDS_WRITE_LOCK = "studyhub_holds_write_lock"


def utcnow() -> datetime:
    return datetime.now(UTC)


def utc_text(value: datetime) -> str:
    """An aware timestamp as naive UTC text, `YYYY-MM-DD HH:MM:SS.ffffff`: what SQLite stores for
    a `UTCDateTime` (byte for byte SQLAlchemy's `DATETIME` storage format), and what PostgreSQL
    reads as a `timestamp` in UTC. For values sent inside a document rather than bound."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    # astimezone returns the value itself when it is already in UTC.
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite stores no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def bind_processor(self, dialect: Dialect) -> Callable[[datetime | None], Any] | None:
        """`process_bind_param` and the dialect's own processor fused into one call per value.

        The generic TypeDecorator chain costs two or three Python calls per value, and SQLite's
        `DATETIME` formats through a dict of seven fields: a batch of events binds a thousand
        timestamps. `isoformat(" ", "microseconds")` of the naive UTC value is byte for byte
        SQLite's storage format (`YYYY-MM-DD HH:MM:SS.ffffff`), so stored values, and the string
        comparisons SQL makes between them, are unchanged."""
        if dialect.name == "sqlite":
            return lambda value: None if value is None else utc_text(value)
        if self.impl_instance.bind_processor(dialect) is not None:
            return super().bind_processor(dialect)  # a driver that converts: keep its chain

        def process(value: datetime | None) -> datetime | None:
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            return value.astimezone(UTC)

        return process


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        default=utcnow, onupdate=utcnow, server_default=func.now()
    )


def _install_sqlite_hooks(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when a transaction begins (see module docstring).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # A checkpoint copies each changed page back once, however many commits changed it since
        # the last one, and runs inside the COMMIT that fills the WAL (under the write lock). A
        # batch of progress events changes a few hundred pages, mostly the same ones batch after
        # batch (the student's stretch of the events' primary key): at the default of 1,000
        # pages a checkpoint ran every other batch; at 4,000 (16 MB of WAL at most) a COMMIT
        # takes half the time on average under four concurrent writers.
        cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
        cursor.close()

    # One writer at a time in this process, queued fairly on the event loop. SQLite allows one
    # write transaction; without this queue every waiting writer polls the lock in SQLite's busy
    # handler, which sleeps longer and longer between tries: under sustained load the lock sits
    # idle while waiters sleep, queues grow and writers hit the busy timeout (the soak's 503s).
    # Other processes on the same file still wait in the busy handler.
    writers = asyncio.Lock()
    wait_seconds = busy_timeout_ms / 1000

    def _release(record_info: dict[str, Any]) -> None:
        if record_info.pop(_HOLDS_WRITE_LOCK, False):
            writers.release()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if not conn.get_execution_options().get(_IMMEDIATE, False):
            conn.exec_driver_sql("BEGIN")
            return
        try:
            await_only(asyncio.wait_for(writers.acquire(), wait_seconds))
        except TimeoutError as exc:
            raise ServiceUnavailable("The database is busy; retry shortly") from exc
        conn.connection.info[_HOLDS_WRITE_LOCK] = True
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release(conn.connection.info)
            raise

    # Released when the transaction ends, and at the latest when the connection goes back to the
    # pool (an invalidated connection ends no transaction), so a failure cannot leak the lock.
    # SQLAlchemy's commit and rollback events run *before* the driver's commit or rollback: a
    # rollback writes nothing, so releasing first costs little.
    def _info(conn: Connection) -> dict[str, Any] | None:
        try:
            return conn.connection.info
        except SQLAlchemyError:  # an invalidated connection: released at checkin instead
            return None

    @event.listens_for(sync_engine, "rollback")
    def _on_end(conn: Connection) -> None:
        info = _info(conn)
        if info is not None:
            _release(info)

    # A COMMIT writes the WAL (milliseconds for a batch of events). Released before it, the lock
    # let the next writer's BEGIN IMMEDIATE run meanwhile: SQLITE_BUSY, then a sleep in SQLite's
    # busy handler (1, 2, 5, 10 ms...) well past the commit. So a write transaction commits here
    # (pysqlite's own commit then finds none open) and only then lets the next writer in; a
    # failed COMMIT raises as any statement does, and the rollback that follows releases.
    @event.listens_for(sync_engine, "commit")
    def _on_commit(conn: Connection) -> None:
        info = _info(conn)
        if info is None:
            return
        if info.get(_HOLDS_WRITE_LOCK):
            conn.exec_driver_sql("COMMIT")
        _release(info)

    @event.listens_for(sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        _release(record.info)


def create_engine(settings: Settings) -> AsyncEngine:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, pool_size=settings.db_pool_size, max_overflow=0)
        _install_sqlite_hooks(engine, settings.sqlite_busy_timeout_ms)
        return engine
    return create_async_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=True,
        pool_recycle=1800,
        pool_timeout=10,
    )


class Database:
    """The engine and two session factories: one for reads, one whose transactions take the
    write lock up front (`BEGIN IMMEDIATE` on SQLite; the same as a plain BEGIN elsewhere)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.read_sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
        writer = engine.execution_options(**{_IMMEDIATE: True})
        self.write_sessions = async_sessionmaker(writer, expire_on_commit=False, autoflush=False)

    def session(self, *, write: bool = True) -> AsyncSession:
        return (self.write_sessions if write else self.read_sessions)()

    async def dispose(self) -> None:
        await self.engine.dispose()


AfterCommit = Callable[[], Awaitable[None]]


def after_commit(session: AsyncSession, callback: AfterCommit) -> None:
    """Run `callback` once the request's transaction has committed (before the response is sent).

    For side effects that must not precede the commit, such as bumping a cache version: done
    earlier, a concurrent reader could cache pre-commit data under the new version."""
    session.info.setdefault("after_commit", []).append(callback)


def after_rollback(session: AsyncSession, callback: AfterCommit) -> None:
    """Run `callback` if the request's transaction is rolled back (e.g. remove a stored upload)."""
    session.info.setdefault("after_rollback", []).append(callback)


async def guarded_write(
    session: AsyncSession,
    change: Callable[[], None],
    on_conflict: Callable[[IntegrityError], AppError],
) -> None:
    """Apply `change` and flush inside a savepoint. A unique-key race lost to a concurrent request
    becomes the same domain error as the up-front check (e.g. 409), and the request's transaction
    stays usable (PostgreSQL aborts a transaction on any error outside a savepoint)."""
    try:
        async with session.begin_nested():  # flushes earlier pending changes outside it first
            change()
            await session.flush()
    except IntegrityError as exc:
        raise on_conflict(exc) from exc


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed before the response is sent.

    Used with `scope="function"`, so the commit runs after the handler and response serialisation
    but before a byte reaches the client: a failed commit becomes an error response, never a 2xx.
    """
    database: Database = request.app.state.database
    session = database.session(write=request.method not in SAFE_METHODS)
    try:
        yield session
        # A request answered from caches never began a transaction: nothing to commit or close
        # (skipping both is a measurable share of a cached read).
        if session.in_transaction():
            await session.commit()
    except AppError as exc:
        if exc.keep_changes:
            await session.commit()
            await _run_hooks(session, "after_commit")
        else:
            await _rollback(session)
        raise
    except BaseException:
        await _rollback(session)
        raise
    finally:
        if session.in_transaction() or session.identity_map:
            await session.close()
    await _run_hooks(session, "after_commit")


async def _rollback(session: AsyncSession) -> None:
    await session.rollback()
    await _run_hooks(session, "after_rollback")


async def _run_hooks(session: AsyncSession, name: str) -> None:
    for callback in session.info.pop(name, []):
        await callback()


SessionDep = Annotated[AsyncSession, Depends(_request_session, scope="function")]
