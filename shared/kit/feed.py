"""Change feeds: an outbox written in the same transaction as each change, the endpoint that
serves it, and a consumer that applies it exactly once.

The late-commit trap: a sequence number is taken before commit, so a reader that has seen
seq 11 can miss seq 10 when its transaction commits later. We avoid it by ordering the feed
by the writing transaction's id and serving only rows of transactions older than every
transaction still running:

- PostgreSQL: each outbox row stores ``pg_current_xact_id()``; the feed serves rows whose
  ``txid`` is below the oldest transaction that was still running when the read began
  (``pg_current_snapshot()``), ordered by ``(txid, id)``. A transaction still open holds back
  every later row until it commits or rolls back. Transactions seen running in *other*
  databases of the same server cannot write our outbox, so they are not waited for; any
  transaction we cannot place (it ended meanwhile, or its session is hidden from our role) is
  waited for, which only delays a row, never skips it.
- SQLite: writers are serialised (``BEGIN IMMEDIATE``), so ids are already in commit order;
  ``txid`` is 0.

The cursor is ``"<txid>.<id>"``, opaque to clients. A consumer applies a batch and stores its
cursor in its own database in one transaction, so a crash applies a batch wholly or not at all.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

import anyio
import httpx
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session

from shared.kit.auth import scoped
from shared.kit.background import poll_loop
from shared.kit.database import Database, DatabaseDep
from shared.kit.problems import UnprocessableEntity
from shared.kit.time import as_utc
from shared.kit.tokens import Principal

logger = logging.getLogger("sinergi.feed")

CURSOR_PATTERN = re.compile(r"^(\d{1,19})\.(\d{1,19})$")
START = "0.0"
MAX_FEED_LIMIT = 1000


CHANGES_READ = "changes:read"
"""The scope a service client needs to read another service's change feed (the kit owns it, as it
owns the feed; shared.programme.scopes names it among the programme's scopes)."""


class FeedTables:
    """The outbox a producer writes and the cursor table a consumer keeps, in one metadata."""

    outbox: Table
    cursors: Table

    def __init__(self, metadata: MetaData, *, producer: bool = True, consumer: bool = True):
        if producer:
            self._define_outbox(metadata)
        if consumer:
            self._define_cursors(metadata)

    def _define_outbox(self, metadata: MetaData) -> None:
        self.outbox = Table(
            "outbox",
            metadata,
            Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
            Column("txid", BigInteger, nullable=False),
            Column("entity", String(40), nullable=False),
            Column("entity_id", String(64), nullable=False),
            Column("event", String(40), nullable=False),
            Column("version", Integer, nullable=False),
            Column("payload", JSON, nullable=False),
            Column("occurred_at", DateTime(timezone=True), nullable=False),
            Index("ix_outbox_txid_id", "txid", "id"),
        )

    def _define_cursors(self, metadata: MetaData) -> None:
        self.cursors = Table(
            "feed_cursor",
            metadata,
            Column("feed", String(60), primary_key=True),
            Column("position", String(40), nullable=False),
            Column("applied", BigInteger, nullable=False),
            Column("last_change_at", DateTime(timezone=True), nullable=True),
            Column("updated_at", DateTime(timezone=True), nullable=False),
        )


class Change(BaseModel):
    cursor: str
    entity: str
    entity_id: str
    event: str
    version: int
    occurred_at: datetime
    payload: dict[str, Any]


class FeedState(BaseModel):
    """A consumer's position in one feed, as ``FeedConsumer.state()`` reports it."""

    feed: str
    cursor: str
    applied: int
    last_change_at: datetime | None
    last_polled_at: datetime | None
    caught_up: bool
    lag_seconds: float
    last_error: str | None


class ChangePage(BaseModel):
    items: list[Change]
    next_cursor: str
    has_more: bool


def parse_cursor(cursor: str | None) -> tuple[int, int]:
    if not cursor:
        return (0, 0)
    match = CURSOR_PATTERN.match(cursor)
    if match is None:
        raise UnprocessableEntity(["query", "after"], "not a feed cursor (expected '<txid>.<id>')")
    return int(match.group(1)), int(match.group(2))


def record_change(
    session: Session,
    tables: FeedTables,
    *,
    entity: str,
    entity_id: str,
    event: str,
    version: int,
    payload: Mapping[str, Any],
) -> None:
    """Append a change to the outbox inside the caller's transaction."""
    postgres = session.get_bind().dialect.name == "postgresql"
    txid: Any = literal_column("pg_current_xact_id()::text::bigint") if postgres else 0
    session.execute(
        tables.outbox.insert().values(
            txid=txid,
            entity=entity,
            entity_id=entity_id,
            event=event,
            version=version,
            payload=dict(payload),
            occurred_at=datetime.now(UTC),
        )
    )


def record_changes(
    session: Session, tables: FeedTables, changes: Sequence[Mapping[str, Any]]
) -> None:
    """Append many changes at once (bulk imports); each mapping has the keyword arguments of
    :func:`record_change`. The transaction id is read once, so the rows are plain parameters
    of one executemany (pipelined by psycopg)."""
    if not changes:
        return
    outbox = tables.outbox
    txid = 0
    if session.get_bind().dialect.name == "postgresql":
        txid = int(
            session.execute(
                select(literal_column("pg_current_xact_id()::text::bigint"))
            ).scalar_one()
        )
    now = datetime.now(UTC)
    session.execute(
        outbox.insert(),
        [
            {
                "txid": txid,
                "entity": change["entity"],
                "entity_id": change["entity_id"],
                "event": change["event"],
                "version": change["version"],
                "payload": dict(change["payload"]),
                "occurred_at": now,
            }
            for change in changes
        ],
    )


# The oldest transaction id, as of this statement's snapshot, that may still commit rows into
# our outbox: in-progress ids (``pg_snapshot_xip``) less those seen running in another
# database, else the snapshot's ``xmax``. pg_stat_activity shows 32-bit xids, the snapshot
# 64-bit ones, hence the mask.
_POSTGRES_HORIZON = """
WITH snapshot AS (SELECT pg_current_snapshot() AS s),
elsewhere AS (
    SELECT backend_xid::text::bigint AS xid FROM pg_stat_activity
    WHERE backend_xid IS NOT NULL AND datname IS DISTINCT FROM current_database()
)
SELECT least(
    (SELECT min(x::text::bigint) FROM snapshot, pg_snapshot_xip(snapshot.s) AS x
     WHERE (x::text::bigint & 4294967295) NOT IN (SELECT xid FROM elsewhere)),
    (SELECT pg_snapshot_xmax(s)::text::bigint FROM snapshot)
)
"""


def read_changes(session: Session, tables: FeedTables, after: str | None, limit: int) -> ChangePage:
    outbox = tables.outbox
    txid, row_id = parse_cursor(after)
    statement = select(outbox).where(
        or_(outbox.c.txid > txid, and_(outbox.c.txid == txid, outbox.c.id > row_id))
    )
    if session.get_bind().dialect.name == "postgresql":
        # Taken in a statement before the read, so the read's snapshot is no older than it.
        horizon = session.execute(text(_POSTGRES_HORIZON)).scalar_one()
        statement = statement.where(outbox.c.txid < horizon)
    rows = session.execute(statement.order_by(outbox.c.txid, outbox.c.id).limit(limit + 1)).all()
    has_more = len(rows) > limit
    # A change is its outbox row as it is, with the row's position as its cursor.
    items = [
        Change.model_validate({**row._mapping, "cursor": f"{row.txid}.{row.id}"})
        for row in rows[:limit]
    ]
    next_cursor = items[-1].cursor if items else f"{txid}.{row_id}"
    return ChangePage(items=items, next_cursor=next_cursor, has_more=has_more)


def changes_router(tables: FeedTables) -> APIRouter:
    """``GET /v1/changes``: the service's change feed, for internal service clients only."""
    router = APIRouter(tags=["changes"])

    @router.get("/v1/changes", response_model=ChangePage, summary="Change feed (services only)")
    def list_changes(
        db: DatabaseDep,
        _principal: Annotated[Principal, Depends(scoped(CHANGES_READ))],
        after: Annotated[str | None, Query(max_length=40, description="Cursor")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_FEED_LIMIT)] = 500,
    ) -> ChangePage:
        # Always a read: a service whose reads write (``reads_write``) must not make its
        # pollers queue behind every writer.
        with db.session(write=False) as session:
            return read_changes(session, tables, after, limit)

    return router


FeedFetcher = Callable[[str, int], Awaitable[ChangePage]]
Applier = Callable[[Session, list[Change]], None]


class HttpFeedSource:
    """Fetches a producer's ``/v1/changes`` over REST with a service client."""

    def __init__(self, client: httpx.AsyncClient, path: str = "/v1/changes") -> None:
        self.client = client
        self.path = path

    async def __call__(self, after: str, limit: int) -> ChangePage:
        response = await self.client.get(self.path, params={"after": after, "limit": limit})
        response.raise_for_status()
        return ChangePage.model_validate(response.json())


class FeedConsumer:
    """Applies one producer's feed to this service's read model, exactly once per change."""

    def __init__(
        self,
        name: str,
        db: Database,
        tables: FeedTables,
        fetch: FeedFetcher,
        apply: Applier,
        *,
        batch_size: int = 500,
    ) -> None:
        self.name = name
        self.db = db
        self.tables = tables
        self.fetch = fetch
        self.apply = apply
        self.batch_size = batch_size
        self.last_error: str | None = None
        self.last_polled_at: datetime | None = None
        self.behind = True

    def position(self) -> str:
        with self.db.session(write=False) as session:
            value = session.execute(
                select(self.tables.cursors.c.position).where(
                    self.tables.cursors.c.feed == self.name
                )
            ).scalar_one_or_none()
        return value or START

    def state(self) -> FeedState:
        with self.db.session(write=False) as session:
            row = session.execute(
                select(self.tables.cursors).where(self.tables.cursors.c.feed == self.name)
            ).first()
        last_change_at = as_utc(row.last_change_at) if row else None
        lag = 0.0
        if self.behind and last_change_at is not None:
            lag = max(0.0, (datetime.now(UTC) - last_change_at).total_seconds())
        return FeedState(
            feed=self.name,
            cursor=row.position if row else START,
            applied=row.applied if row else 0,
            last_change_at=last_change_at,
            last_polled_at=self.last_polled_at,
            caught_up=not self.behind,
            lag_seconds=lag,
            last_error=self.last_error,
        )

    def _apply_batch(self, expected: str, page: ChangePage) -> bool:
        cursors = self.tables.cursors
        with self.db.session(write=True) as session:
            row = session.execute(
                select(cursors).where(cursors.c.feed == self.name).with_for_update()
            ).first()
            current = row.position if row else START
            if current != expected:
                # Another worker applied this batch meanwhile; applying it again would count twice.
                return False
            self.apply(session, page.items)
            values = {
                "position": page.next_cursor,
                "applied": (row.applied if row else 0) + len(page.items),
                "last_change_at": page.items[-1].occurred_at,
                "updated_at": datetime.now(UTC),
            }
            if row is None:
                session.execute(cursors.insert().values(feed=self.name, **values))
            else:
                session.execute(
                    cursors.update().where(cursors.c.feed == self.name).values(**values)
                )
        return True

    async def poll_once(self) -> int:
        """Fetch and apply one batch; returns how many changes were applied."""
        expected = await anyio.to_thread.run_sync(self.position)
        page = await self.fetch(expected, self.batch_size)
        self.last_polled_at = datetime.now(UTC)
        self.behind = page.has_more
        if not page.items:
            return 0
        applied = await anyio.to_thread.run_sync(self._apply_batch, expected, page)
        return len(page.items) if applied else 0

    async def catch_up(self, max_batches: int = 10_000) -> int:
        total = 0
        for _ in range(max_batches):
            count = await self.poll_once()
            total += count
            if count == 0 or not self.behind:
                break
        return total

    async def run(self, interval_seconds: float = 0.5) -> None:
        """Keep caught up until cancelled, on the kit's one poll loop: a failing pass is kept
        in ``last_error`` for the service's ``/sync`` page (operators only) and retried, never
        fatal, since a producer that is down comes back."""

        def failed(exc: Exception) -> None:
            self.last_error = f"{type(exc).__name__}: {exc}"

        def succeeded() -> None:
            self.last_error = None

        await poll_loop(
            f"feed {self.name}",
            self.catch_up,
            interval_seconds,
            logger=logger,
            on_error=failed,
            on_success=succeeded,
        )


async def run_consumers(consumers: Iterable[FeedConsumer], interval_seconds: float) -> None:
    """Every feed consumer of a service, until the app stops: one lifespan task holding a task
    group, so each service wires its feeds the same way whatever their number. A consumer's
    pass never raises (``run`` keeps its failures), so one producer down stops no other."""
    async with anyio.create_task_group() as group:
        for consumer in consumers:
            group.start_soon(consumer.run, interval_seconds)
