"""A stand-in producer of a change feed: an outbox in its own database, served under
``GET /v1/changes`` by the kit's feed router in a service app, as the real services serve it.
Payloads are the caller's, shaped as docs/contracts.md says."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import Column, Integer, MetaData, String, Table, UniqueConstraint, func, select

from shared.kit.app import create_service_app
from shared.kit.database import Database
from shared.kit.feed import FeedTables, record_change
from shared.kit.settings import ServiceSettings
from tests.support.tokens import TestKeys


class FeedProducer:
    """``extra`` adds the producer's other endpoints (behind the same token check)."""

    def __init__(self, url: str, keys: TestKeys, extra: APIRouter | None = None) -> None:
        metadata = MetaData()
        self.tables = FeedTables(metadata, producer=True, consumer=False)
        self.db = Database(url)
        metadata.create_all(self.db.engine)
        self.app = create_service_app(
            ServiceSettings(database_url=url, jwks_url=""),
            title="producer",
            description="test producer",
            service_dir=None,  # type: ignore[arg-type]
            feed_tables=self.tables,
            public_routers=[extra] if extra else [],
            verifier=keys.verifier(),
            configure_logs=False,
        )
        self.versions: dict[str, int] = {}

    def publish(self, entity: str, entity_id: str, event: str, payload: dict[str, Any]) -> int:
        """Record the entity's next version; returns it."""
        version = self.versions.get(entity_id, 0) + 1
        self.versions[entity_id] = version
        self.replay(entity, entity_id, event, version, payload)
        return version

    def replay(
        self, entity: str, entity_id: str, event: str, version: int, payload: dict[str, Any]
    ) -> None:
        """Record a change at a version the caller chooses (a stale or repeated one, say)."""
        with self.db.session() as session:
            record_change(
                session,
                self.tables,
                entity=entity,
                entity_id=entity_id,
                event=event,
                version=version,
                payload={**payload, "id": entity_id, "version": version},
            )

    def published(self) -> int:
        with self.db.session(write=False) as session:
            return int(session.scalar(select(func.count()).select_from(self.tables.outbox)) or 0)


def applying_consumer(url: str) -> tuple[Database, FeedTables, Table]:
    """A consumer's database: the kit's consumer tables and ``applied``, a row per change in
    the order applied (``n``), to tell whether each change was applied exactly once."""
    metadata = MetaData()
    tables = FeedTables(metadata, producer=False, consumer=True)
    applied = Table(
        "applied",
        metadata,
        Column("n", Integer, primary_key=True),
        Column("entity_id", String(36)),
        Column("version", Integer),
        Column("event", String(20)),
        UniqueConstraint("entity_id", "version"),
    )
    db = Database(url)
    metadata.create_all(db.engine)
    return db, tables, applied
