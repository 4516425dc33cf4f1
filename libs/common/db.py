"""Async SQLAlchemy engines and transactions: SQLite (aiosqlite) or PostgreSQL (asyncpg) by URL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import MetaData, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Dialect, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    """A service's own metadata, with names Alembic can diff reliably."""
    return MetaData(naming_convention=NAMING_CONVENTION)


class ServiceBase(DeclarativeBase):
    """Abstract root; each service declares ``class Base(ServiceBase)`` with its own metadata."""

    __abstract__ = True


class DatabaseUnavailable(Exception):
    """The database cannot be reached now (refused, reset, timed out): retry later, not a bug."""


#: What a database out of reach surfaces as; ``unavailable`` tells which of these mean that.
DATABASE_ERRORS: tuple[type[Exception], ...] = (DatabaseUnavailable, PoolTimeout, DBAPIError)


def unavailable(error: BaseException) -> bool:
    """Whether ``error`` means the database is out of reach for now rather than a fault of ours.

    That is a connection that could not be made, one lost mid-statement or mid-commit (the
    pool then replaces it), a pool with no free connection in time, or SQLite's lock timeout.
    """
    if isinstance(error, DatabaseUnavailable | PoolTimeout):
        return True
    return isinstance(error, DBAPIError) and (
        error.connection_invalidated or isinstance(error, OperationalError)
    )


def _connect_or_unavailable(
    dialect: Dialect, _record: Any, cargs: tuple[Any, ...], cparams: dict[str, Any]
) -> Any:
    # asyncpg raises the socket's own OSError (refused, reset, unreachable, timed out) when it
    # cannot connect; SQLAlchemy passes it on unwrapped, so name it here for every caller.
    try:
        return dialect.connect(*cargs, **cparams)
    except (OSError, dialect.loaded_dbapi.Error) as error:
        raise DatabaseUnavailable(f"cannot connect to the database: {error!r}") from error


def is_sqlite(url: str | URL) -> bool:
    """Whether the URL names a SQLite database."""
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_engine(url: URL, *, immediate: bool, pool_size: int) -> AsyncEngine:
    # SQLite has one writer at a time: writers queue for the one pooled connection (woken the
    # moment it is free) instead of polling the file lock in SQLite's busy handler, whose sleeps
    # grow to 100 ms. Readers (WAL) run side by side on a pool kept warm: every new aiosqlite
    # connection costs a thread.
    # No overflow: every new aiosqlite connection starts a thread and opens the file again,
    # which under a burst of reads cost more than waiting for a pooled one.
    engine = create_async_engine(
        url,
        connect_args={"timeout": 30},
        pool_size=1 if immediate else 2 * pool_size,
        max_overflow=0,
        pool_timeout=30,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so BEGIN is ours (see the begin hook).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=30000")
        # WAL is a property of the file: switch once; switching needs a lock others may hold.
        cursor.execute("PRAGMA journal_mode")
        if cursor.fetchone()[0] != "wal":
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Any) -> None:
        # A writer takes the lock up front: a deferred transaction that later writes fails
        # at once with SQLITE_BUSY when another writer got in first, whatever the timeout.
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    """One service's database: a writer and a reader session factory."""

    def __init__(self, url: str, *, schema: str | None = None, pool_size: int = 10) -> None:
        self.url = make_url(url)
        self.schema = None if is_sqlite(self.url) else schema
        if is_sqlite(self.url):
            if self.url.database and self.url.database != ":memory:":
                Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
            self.engine = _sqlite_engine(self.url, immediate=True, pool_size=pool_size)
            self._read_engine = _sqlite_engine(self.url, immediate=False, pool_size=pool_size)
        else:
            connect_args: dict[str, Any] = {}
            if self.schema:
                connect_args["server_settings"] = {"search_path": self.schema}
            self.engine = create_async_engine(
                self.url,
                pool_size=pool_size,
                max_overflow=pool_size,
                # No ping before each checkout: with asyncpg it is a transaction of its own,
                # which cost more than the query it guards. A connection the server dropped
                # fails its first statement instead; SQLAlchemy then discards the whole pool,
                # and the caller gets a 503 it may retry (tests/integration/test_database_faults).
                pool_recycle=1800,
                connect_args=connect_args,
            )
            event.listen(self.engine.sync_engine, "do_connect", _connect_or_unavailable)
            self._read_engine = self.engine
        self._writer = async_sessionmaker(self.engine, expire_on_commit=False)
        self._reader = async_sessionmaker(self._read_engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.url.get_backend_name()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction: committed when the block ends, rolled back on error."""
        async with self._writer() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for queries that write nothing."""
        async with self._reader() as session, session.begin():
            yield session

    async def ping(self) -> None:
        """Raise unless the database answers."""
        async with self._read_engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
        if self._read_engine is not self.engine:
            await self._read_engine.dispose()


def aware(moment: datetime) -> datetime:
    """An instant read back from the database, timezone-aware (SQLite returns naive UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


#: Keys one statement may name (``IN``): well under SQLite's limit of bound parameters.
KEYS_PER_STATEMENT = 2000

Key = TypeVar("Key")


def key_chunks(keys: Iterable[Key], size: int = KEYS_PER_STATEMENT) -> Iterator[list[Key]]:
    """The distinct ``keys``, sorted, in lists short enough for one statement each."""
    ordered = sorted(set(keys))  # type: ignore[type-var]
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


def dialect_insert(session: AsyncSession) -> Callable[[Any], Any]:
    """``INSERT`` with the ``ON CONFLICT`` clauses of the session's database."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


async def upsert(
    session: AsyncSession, target: Any, rows: Sequence[dict[str, Any]], keys: list[str]
) -> None:
    """Insert ``rows`` into a model or table, replacing the other columns on a key conflict."""
    if not rows:
        return
    statement = dialect_insert(session)(target)
    changed = {k: statement.excluded[k] for k in rows[0] if k not in keys}
    # Parameters apart from the statement: one compiled (and cached) statement for any number
    # of rows, sent in batches by SQLAlchemy's insertmanyvalues.
    await session.execute(
        statement.on_conflict_do_update(index_elements=keys, set_=changed), list(rows)
    )
