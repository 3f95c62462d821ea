"""Background work on placements: the disclosure sender (placements/disclosures.py) and the
sweep that expires proposed and offered placements of closed or lapsed opportunities."""

from __future__ import annotations

import logging
from datetime import date

import anyio
from fastapi import FastAPI

from services.matching.placements.disclosures import deliver_due
from services.matching.placements.service import expire_stale
from services.matching.settings import MatchingSettings
from shared.kit.background import poll_loop
from shared.kit.database import Database

logger = logging.getLogger("sinergi.matching.placements")


async def run_disclosures(app: FastAPI) -> None:
    db: Database = app.state.db
    settings: MatchingSettings = app.state.settings
    client = app.state.clients["registry"]

    async def step() -> None:
        # Not "go again at once" when some were delivered: those that failed wait for
        # their backoff, and the next pass comes soon enough for the rest.
        await deliver_due(db, client, settings.disclosure_retry_seconds)

    await poll_loop("disclosure sender", step, settings.disclosure_retry_seconds, logger=logger)


def sweep_expired(db: Database) -> int:
    with db.session() as session:
        return expire_stale(session, date.today())


async def run_expiry(app: FastAPI) -> None:
    db: Database = app.state.db
    settings: MatchingSettings = app.state.settings

    async def step() -> None:
        await anyio.to_thread.run_sync(sweep_expired, db)

    await poll_loop("expiry sweep", step, settings.expiry_sweep_seconds, logger=logger)
