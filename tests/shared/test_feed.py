"""The change feed never skips a change that commits late, and a consumer applies each change
exactly once, across restarts and batches, on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import MetaData, insert, select

from shared.kit.database import Database
from shared.kit.feed import (
    Change,
    ChangePage,
    FeedConsumer,
    FeedTables,
    read_changes,
    record_change,
)
from tests.support.feeds import applying_consumer


def _producer(url: str) -> tuple[Database, FeedTables]:
    metadata = MetaData()
    tables = FeedTables(metadata, producer=True, consumer=False)
    db = Database(url)
    metadata.create_all(db.engine)
    return db, tables


def _write(db: Database, tables: FeedTables, entity_id: str) -> None:
    with db.session() as session:
        record_change(
            session,
            tables,
            entity="thing",
            entity_id=entity_id,
            event="created",
            version=1,
            payload={"id": entity_id},
        )


@contextlib.contextmanager
def _held_open(db: Database, tables: FeedTables, entity: str, entity_id: str) -> Iterator[None]:
    """A change recorded in a transaction another thread holds open until the block ends."""
    started, release = threading.Event(), threading.Event()

    def hold() -> None:
        with db.session() as session:
            record_change(
                session,
                tables,
                entity=entity,
                entity_id=entity_id,
                event="created",
                version=1,
                payload={},
            )
            started.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    assert started.wait(10)
    try:
        yield
    finally:
        release.set()
        thread.join()


def test_late_commit_is_not_skipped_on_postgresql(databases) -> None:  # type: ignore[no-untyped-def]
    db, tables = _producer(databases.new("postgresql", "feedtest", migrated=False))
    _write(db, tables, "a")
    with _held_open(db, tables, "thing", "late"):
        _write(db, tables, "b")  # commits while "late" is still open
        with db.session(write=False) as session:
            first = read_changes(session, tables, None, 100)
        # "b" committed, but it must wait behind the open transaction, or a reader that moved
        # past it would never see "late".
        assert [c.entity_id for c in first.items] == ["a"]

    with db.session(write=False) as session:
        rest = read_changes(session, tables, first.next_cursor, 100)
    assert [c.entity_id for c in rest.items] == ["late", "b"]
    db.dispose()


def test_feed_pages_in_commit_order(backend: str, databases) -> None:  # type: ignore[no-untyped-def]
    db, tables = _producer(databases.new(backend, "feedtest", migrated=False))
    for i in range(7):
        _write(db, tables, f"e{i}")
    seen: list[str] = []
    cursor = None
    with db.session(write=False) as session:
        while True:
            page = read_changes(session, tables, cursor, 3)
            seen += [c.entity_id for c in page.items]
            cursor = page.next_cursor
            if not page.has_more:
                break
    assert seen == [f"e{i}" for i in range(7)]
    db.dispose()


@pytest.mark.anyio
async def test_consumer_applies_each_change_once_across_restart(backend: str, databases) -> None:  # type: ignore[no-untyped-def]
    producer, tables = _producer(databases.new(backend, "feedsrc", migrated=False))
    for i in range(25):
        _write(producer, tables, f"r{i}")

    consumer_db, consumer_tables, applied = applying_consumer(
        databases.new(backend, "feeddst", migrated=False)
    )

    async def fetch(after: str, limit: int) -> ChangePage:
        with producer.session(write=False) as session:
            return read_changes(session, tables, after, limit)

    crash_after = {"batches": 1}

    def apply(session, changes: list[Change]) -> None:  # type: ignore[no-untyped-def]
        for change in changes:
            session.execute(insert(applied).values(entity_id=change.entity_id))
        if crash_after["batches"] == 0:
            raise RuntimeError("killed mid-batch")
        crash_after["batches"] -= 1

    consumer = FeedConsumer("src", consumer_db, consumer_tables, fetch, apply, batch_size=10)
    assert await consumer.poll_once() == 10
    with pytest.raises(RuntimeError):
        await consumer.poll_once()  # the second batch dies half-way: nothing of it may stay

    restarted = FeedConsumer("src", consumer_db, consumer_tables, fetch, apply, batch_size=10)
    crash_after["batches"] = 100
    assert await restarted.catch_up() == 15
    with consumer_db.session(write=False) as session:
        ids = list(session.scalars(select(applied.c.entity_id).order_by(applied.c.n)))
    assert ids == [f"r{i}" for i in range(25)]
    assert restarted.state().applied == 25
    producer.dispose()
    consumer_db.dispose()


@pytest.mark.anyio
async def test_changes_endpoint_requires_service_scope(keys, backend: str, databases) -> None:  # type: ignore[no-untyped-def]
    from services.registry.main import create_app
    from services.registry.settings import RegistrySettings

    app = create_app(
        RegistrySettings(database_url=databases.new(backend, "registry"), jwks_url=""),
        verifier=keys.verifier(),
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://registry") as client:
        assert (await client.get("/v1/changes")).status_code == 401
        denied = await client.get("/v1/changes", headers=keys.headers("government_agency"))
        assert denied.status_code == 403
        assert denied.headers["content-type"] == "application/problem+json"
        ok = await client.get("/v1/changes", headers=keys.headers("service"))
        assert ok.status_code == 200
        assert ok.json() == {"items": [], "next_cursor": "0.0", "has_more": False}
        bad = await client.get("/v1/changes?after=xyz", headers=keys.headers("service"))
        assert bad.status_code == 422
        assert (await client.get("/readyz")).status_code == 200
        assert (await client.get("/healthz")).json() == {"status": "ok"}


def test_open_transactions_of_other_databases_do_not_hold_the_feed(databases) -> None:  # type: ignore[no-untyped-def]
    db, tables = _producer(databases.new("postgresql", "feedtest", migrated=False))
    other, other_tables = _producer(databases.new("postgresql", "feedother", migrated=False))
    with _held_open(other, other_tables, "x", "x"):
        _write(db, tables, "mine")
        with db.session(write=False) as session:
            page = read_changes(session, tables, None, 10)
        assert [c.entity_id for c in page.items] == ["mine"]
    db.dispose()
    other.dispose()
