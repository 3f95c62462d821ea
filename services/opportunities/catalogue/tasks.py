"""The background sweep that stores the closing of opportunities past their valid_through,
so the change feed (matching, reporting) learns of it without anyone reading the offer."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import anyio
from fastapi import FastAPI

from services.opportunities.idempotency.service import purge_expired
from services.opportunities.catalogue.service import expire_due
from services.opportunities.settings import OpportunitiesSettings
from shared.kit.database import Database

logger = logging.getLogger("sinergi.opportunities.expiry")


def sweep(db: Database, settings: OpportunitiesSettings) -> int:
    """One pass; returns how many opportunities it closed."""
    closed = 0
    while True:
        with db.session() as session:
            count = expire_due(session, datetime.now(UTC))
        closed += count
        if count < 500:
            break
    with db.session() as session:
        purge_expired(session, timedelta(hours=settings.idempotency_retention_hours))
    return closed


async def expiry_loop(app: FastAPI) -> None:
    settings: OpportunitiesSettings = app.state.settings
    while True:
        try:
            closed = await anyio.to_thread.run_sync(sweep, app.state.db, settings)
            if closed:
                logger.info("expired opportunities", extra={"count": closed})
        except asyncio.CancelledError:
            raise
        except Exception:  # a database blip is retried at the next pass
            logger.exception("expiry sweep failed")
        await asyncio.sleep(settings.expiry_interval_seconds)
