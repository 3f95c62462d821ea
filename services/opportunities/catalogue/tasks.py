"""The background sweep that stores the closing of opportunities past their valid_through,
so the change feed (matching, reporting) learns of it without anyone reading the offer."""

from __future__ import annotations

import logging
from datetime import timedelta

import anyio
from fastapi import FastAPI

from services.opportunities.catalogue.service import EXPIRE_BATCH, expire_due
from services.opportunities.idempotency.service import purge_expired
from services.opportunities.settings import OpportunitiesSettings
from shared.kit.background import poll_loop
from shared.kit.database import Database
from shared.kit.time import utcnow

logger = logging.getLogger("sinergi.opportunities.expiry")


def sweep(db: Database, settings: OpportunitiesSettings) -> int:
    """One pass; returns how many opportunities it closed."""
    closed = 0
    while True:
        with db.session() as session:
            count = expire_due(session, utcnow())
        closed += count
        if count < EXPIRE_BATCH:
            break
    with db.session() as session:
        purge_expired(session, timedelta(hours=settings.idempotency_retention_hours))
    return closed


async def expiry_loop(app: FastAPI) -> None:
    settings: OpportunitiesSettings = app.state.settings

    async def step() -> bool:
        closed = await anyio.to_thread.run_sync(sweep, app.state.db, settings)
        if closed:
            logger.info("expired opportunities", extra={"count": closed})
        # A pass closes every lapsed offer (in batches); the next one waits for the interval.
        return False

    await poll_loop("expiry sweep", step, settings.expiry_interval_seconds, logger=logger)
