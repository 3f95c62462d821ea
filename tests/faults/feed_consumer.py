"""A feed consumer over the registry's real ``/v1/changes``, for fault tests: it records every
change it applies (no unique key, so a change applied twice shows as two rows).

Run as a process (``python -m tests.faults.feed_consumer REGISTRY_URL DB_URL MARKER``, token in
``FEED_TOKEN``), it stops half-way through its second batch, writes MARKER and waits there to be
killed: the test then knows the kill lands mid-batch, not between batches.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select
from sqlalchemy.orm import Session

from shared.kit.database import Database
from shared.kit.feed import Change, FeedConsumer, FeedTables, HttpFeedSource

FEED = "registry"
BATCH_SIZE = 10


class ConsumerStore:
    """The consumer's own database: its cursor and the log of applied changes."""

    def __init__(self, url: str) -> None:
        self.metadata = MetaData()
        self.tables = FeedTables(self.metadata, producer=False, consumer=True)
        self.applied = Table(
            "applied_change",
            self.metadata,
            Column("n", Integer, primary_key=True, autoincrement=True),
            Column("cursor", String(40), nullable=False),
            Column("entity_id", String(64), nullable=False),
            Column("event", String(40), nullable=False),
            Column("version", Integer, nullable=False),
        )
        self.db = Database(url)
        self.metadata.create_all(self.db.engine)

    def record(self, session: Session, changes: list[Change]) -> None:
        for change in changes:
            session.execute(
                insert(self.applied).values(
                    cursor=change.cursor,
                    entity_id=change.entity_id,
                    event=change.event,
                    version=change.version,
                )
            )

    def applied_changes(self) -> list[tuple[str, str, str, int]]:
        table = self.applied
        with self.db.session(write=False) as session:
            rows = session.execute(
                select(table.c.cursor, table.c.entity_id, table.c.event, table.c.version).order_by(
                    table.c.n
                )
            ).all()
        return [(r.cursor, r.entity_id, r.event, r.version) for r in rows]

    def consumer(self, client: httpx.AsyncClient, apply=None) -> FeedConsumer:  # type: ignore[no-untyped-def]
        return FeedConsumer(
            FEED,
            self.db,
            self.tables,
            HttpFeedSource(client),
            apply or self.record,
            batch_size=BATCH_SIZE,
        )


async def _run_until_killed(registry_url: str, db_url: str, marker: Path) -> None:
    store = ConsumerStore(db_url)
    batches = 0

    def apply(session: Session, changes: list[Change]) -> None:
        nonlocal batches
        batches += 1
        if batches < 2:
            store.record(session, changes)
            return
        half = len(changes) // 2
        store.record(session, changes[:half])
        session.flush()  # the half batch is written in the open transaction
        marker.write_text(str(half))
        while True:  # here the process is killed, the transaction still open
            time.sleep(1)

    headers = {"Authorization": f"Bearer {os.environ['FEED_TOKEN']}"}
    async with httpx.AsyncClient(base_url=registry_url, headers=headers, timeout=10) as client:
        consumer = store.consumer(client, apply)
        await consumer.catch_up()


if __name__ == "__main__":
    asyncio.run(_run_until_killed(sys.argv[1], sys.argv[2], Path(sys.argv[3])))
