"""Delivery of disclosures to the registry (docs/contracts.md): the accept transaction writes
a pending row; this loop posts it, and on failure keeps it and retries later, so a consent is
never lost while the registry is down. The registry's endpoint is idempotent per placement."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from functools import partial

import anyio
import httpx
from sqlalchemy import select, update
from sqlmodel import col

from services.matching.placements.models import PendingDisclosure
from shared.kit.database import Database
from shared.kit.time import utcnow

logger = logging.getLogger("sinergi.matching.disclosures")
BATCH = 50
MAX_BACKOFF_SECONDS = 300.0


def _due(db: Database) -> list[PendingDisclosure]:
    with db.session(write=False) as session:
        return list(
            session.scalars(
                select(PendingDisclosure)
                .where(
                    col(PendingDisclosure.delivered_at).is_(None),
                    col(PendingDisclosure.next_attempt_at) <= utcnow(),
                )
                .order_by(col(PendingDisclosure.next_attempt_at))
                .limit(BATCH)
            )
        )


def _mark(
    db: Database, disclosure_id: uuid.UUID, *, error: str | None, retry_seconds: float
) -> None:
    with db.session() as session:
        row = session.get(PendingDisclosure, disclosure_id)
        if row is None:
            return
        if error is None:
            row.delivered_at = utcnow()
            row.last_error = None
        else:
            row.attempts += 1
            backoff = min(MAX_BACKOFF_SECONDS, retry_seconds * 2 ** min(row.attempts - 1, 10))
            row.next_attempt_at = utcnow() + timedelta(seconds=backoff)
            row.last_error = error[:200]


async def deliver_due(db: Database, client: httpx.AsyncClient, retry_seconds: float) -> int:
    """Post every due disclosure once; returns how many the registry recorded."""
    delivered = 0
    for row in await anyio.to_thread.run_sync(_due, db):
        error: str | None = None
        try:
            response = await client.post(
                f"/v1/residents/{row.resident_id}/disclosures",
                json={
                    "org_id": row.org_id,
                    "purpose": "placement",
                    "placement_id": str(row.placement_id),
                    "valid_until": row.valid_until.isoformat(),
                },
            )
            if response.status_code not in (200, 201):
                error = f"registry answered {response.status_code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}"
        if error is None:
            delivered += 1
        else:
            logger.warning("disclosure for placement %s pending: %s", row.placement_id, error)
        await anyio.to_thread.run_sync(
            partial(_mark, db, row.id, error=error, retry_seconds=retry_seconds)
        )
    return delivered


def retry_now(db: Database) -> None:
    """Make every pending disclosure due (after the registry came back, or in tests)."""
    with db.session() as session:
        session.execute(
            update(PendingDisclosure)
            .where(col(PendingDisclosure.delivered_at).is_(None))
            .values(next_attempt_at=utcnow())
        )
