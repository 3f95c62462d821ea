"""Engine and request-scoped sessions for SQLite (embedded default) and PostgreSQL.

The session commits when the route returns and rolls back when it raises, before the response
is sent, so a client never sees 2xx for a write that did not commit. Routes and services never
call ``session.commit()`` themselves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy import CursorResult, MetaData, Result, Table, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import registry
from sqlmodel import Session, SQLModel, create_engine

# Stable constraint names, so migrations can drop and alter what they created.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 30_000
POOL_SIZE = 10
POOL_OVERFLOW = 10
# Requests that may hold a session at once: as many as the pool has connections. The rest
# wait their turn without holding a worker thread. Otherwise, under load, every worker thread
# can be waiting for a connection while the requests that hold the connections wait for a
# thread to commit and give them back: a deadlock until the pool times out.
MAX_CONCURRENT_SESSIONS = POOL_SIZE + POOL_OVERFLOW
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# A pooled connection of a StatementPool older than this is replaced before use: the pool does
# not ping, so a server or a proxy that closes idle connections must not be the first to.
STATEMENT_POOL_RECYCLE_SECONDS = 600
T = TypeVar("T")


def new_registry() -> registry:
    """A table registry of one service: its own metadata, so its Alembic sees only its tables.

    Use as ``class Base(SQLModel, registry=new_registry())`` and derive table models from it.
    """
    return registry(metadata=MetaData(naming_convention=NAMING_CONVENTION))


def table_of(model: type[SQLModel]) -> Table:
    """A table model's ``Table`` for SQL Core statements (SQLModel leaves ``__table__`` untyped)."""
    table = model.__table__  # type: ignore[attr-defined]  # set by SQLModel's metaclass
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not a table model")
    return table


def rows_changed(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE matched, for conditional UPDATEs that are concurrency
    checks. Session.execute is typed to return a plain Result; for such a statement it is a
    CursorResult, which counts them."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"not the result of an UPDATE or DELETE: {type(result).__name__}")
    return int(result.rowcount)


RowT = TypeVar("RowT", bound=SQLModel)


def insert_once(
    session: OrmSession, row: RowT, find_winner: Callable[[], RowT | None]
) -> RowT | None:
    """Insert ``row`` unless a concurrent writer committed the same unique key first.

    The insert runs in a savepoint, so losing the race leaves the session usable. Returns None
    when ``row`` was inserted, else the winner's row as ``find_winner`` reads it (visible under
    read committed once PostgreSQL has made us wait for it). A winner that cannot be found
    rolled back; the IntegrityError is raised again so the client retries.
    """
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        winner = find_winner()
        if winner is None:
            raise
        return winner
    return None


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use the psycopg 3 driver for them."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.removeprefix("postgres://")
    return url


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own transaction handling is switched off so that BEGIN is ours (below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A write that reads first must take the write lock at BEGIN: a deferred transaction
        # that upgrades from read to write fails with "database is locked" instead of waiting.
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """One service's database: its engine and the sessions over it."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalise_url(url)
        kwargs: dict[str, Any] = {
            "echo": echo,
            # A statement's error (and echo) would otherwise print the bound values: NIKs,
            # names, phones. The statement itself stays, for the developer.
            "hide_parameters": True,
            "pool_pre_ping": True,
            "pool_size": POOL_SIZE,
            "max_overflow": POOL_OVERFLOW,
            "pool_timeout": 30,
        }
        self.sqlite_file: Path | None = None
        if is_sqlite(self.url):
            path = self.url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                self.sqlite_file = Path(path)
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            # Fail fast when the server is gone, so readiness answers within seconds.
            kwargs["connect_args"] = {"connect_timeout": 3}
        self.engine = create_engine(self.url, **kwargs)
        if is_sqlite(self.url):
            _configure_sqlite(self.engine)
        self.write_engine = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        self._statement_pools: list[StatementPool] = []

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.url)

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """A unit of work: commit on success, roll back on error."""
        bind = self.write_engine if write else self.engine
        with Session(bind, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def ping(self) -> None:
        # A SQLite file moved or deleted under a running service still answers through the
        # connections already open, and whatever they write is lost with the unlinked file:
        # readiness must see that the file is no longer where the service keeps it.
        if self.sqlite_file is not None and not self.sqlite_file.is_file():
            raise FileNotFoundError("the SQLite database file is not at its path")
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def statement_pool(self, pool_size: int) -> StatementPool:
        """A pool for the hot reads that own their transaction (see ``StatementPool``), disposed
        with this database."""
        pool = StatementPool(self.url, pool_size=pool_size)
        self._statement_pools.append(pool)
        return pool

    def dispose(self) -> None:
        self.engine.dispose()
        for pool in self._statement_pools:
            pool.dispose()


class StatementPool:
    """Connections for a hot read that is one statement on PostgreSQL (its audit insert a
    data-modifying CTE of the same statement, so one round trip is the whole transaction) and
    one short transaction on SQLite.

    Unlike ``Database.engine`` it does not ping a connection at checkout (a round trip per
    request): a connection older than ``STATEMENT_POOL_RECYCLE_SECONDS`` is replaced instead,
    and a connection found dropped (the server restarted) fails the work once, which then runs
    again on a new one. ``pool_size`` connections stay open, so the load it is sized for opens
    no new sessions; a burst past it gets as many again, closed when returned.
    """

    def __init__(self, url: str, *, pool_size: int) -> None:
        self.url = normalise_url(url)
        kwargs: dict[str, Any] = {
            "hide_parameters": True,
            "pool_pre_ping": False,
            "pool_recycle": STATEMENT_POOL_RECYCLE_SECONDS,
            "pool_size": pool_size,
            "max_overflow": pool_size,
            "pool_timeout": 30,
        }
        if is_sqlite(self.url):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs["connect_args"] = {"connect_timeout": 3}
            # Each statement commits on its own: no BEGIN and COMMIT round trips around it.
            kwargs["isolation_level"] = "AUTOCOMMIT"
        self.engine = create_engine(self.url, **kwargs)
        if is_sqlite(self.url):
            _configure_sqlite(self.engine)
        self._bind = self.engine.execution_options(sqlite_begin="IMMEDIATE")

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.url)

    def run(self, work: Callable[[Connection], T]) -> T:
        """``work`` on a pooled connection, in a transaction (on PostgreSQL the statement's own,
        on SQLite BEGIN IMMEDIATE, as its reads write), retried once on a new connection when
        the one it had was dropped. A statement the server committed before the connection
        dropped may so run twice: a read's audit then holds two records, never none."""
        try:
            return self._once(work)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
        return self._once(work)

    def _once(self, work: Callable[[Connection], T]) -> T:
        with self._bind.begin() as connection:
            return work(connection)

    def dispose(self) -> None:
        self.engine.dispose()


class AsyncStatementPool:
    """``StatementPool`` on an asyncio driver (psycopg 3's async connection, aiosqlite), for an
    ``async def`` route: no thread-pool hop around the request's one round trip."""

    def __init__(self, url: str, *, pool_size: int) -> None:
        self.url = normalise_url(url)
        kwargs: dict[str, Any] = {
            "hide_parameters": True,
            "pool_pre_ping": False,
            "pool_recycle": STATEMENT_POOL_RECYCLE_SECONDS,
            "pool_size": pool_size,
            "max_overflow": pool_size,
            "pool_timeout": 30,
        }
        if is_sqlite(self.url):
            self.url = self.url.replace("sqlite://", "sqlite+aiosqlite://", 1)
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs["connect_args"] = {"connect_timeout": 3}
            kwargs["isolation_level"] = "AUTOCOMMIT"
        self.engine = create_async_engine(self.url, **kwargs)
        if is_sqlite(self.url):
            _configure_sqlite(self.engine.sync_engine)
        self._bind = self.engine.execution_options(sqlite_begin="IMMEDIATE")

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.url)

    async def run(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """As ``StatementPool.run``: in a transaction, retried once on a dropped connection."""
        try:
            return await self._once(work)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
        return await self._once(work)

    async def _once(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        async with self._bind.begin() as connection:
            return await work(connection)

    async def dispose(self) -> None:
        await self.engine.dispose()


def get_database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _request_session(request: Request) -> Iterator[Session]:
    db = get_database(request)
    # A service whose reads also write (the registry audits every disclosure) opens every
    # session as a writer: on SQLite a read transaction that later writes can fail with
    # "database is locked" instead of waiting its turn.
    reads_write = getattr(request.app.state, "reads_write", False)
    with db.session(write=reads_write or request.method not in SAFE_METHODS) as session:
        yield session


# "function" scope: the commit happens before the response leaves, never after.
SessionDep = Annotated[
    Session,
    Depends(_request_session, scope="function", max_concurrency=MAX_CONCURRENT_SESSIONS),
]
DatabaseDep = Annotated[Database, Depends(get_database)]
