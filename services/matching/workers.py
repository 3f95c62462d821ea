"""Background work of the service process, started in the app's lifespan: the feed consumers
of the read model, the run worker and the disclosure sender."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import date

import anyio
from fastapi import FastAPI

from services.matching.placements.disclosures import deliver_due
from services.matching.placements.service import expire_stale
from services.matching.runs.service import claim_next, execute_run, fail_interrupted
from services.matching.settings import MatchingSettings
from shared.kit.database import Database

logger = logging.getLogger("sinergi.matching.workers")


async def run_feeds(app: FastAPI) -> None:
    settings: MatchingSettings = app.state.settings
    if not settings.consume_feeds:
        return
    async with anyio.create_task_group() as group:
        for consumer in app.state.consumers.values():
            group.start_soon(consumer.run, settings.feed_poll_seconds)


async def run_worker(app: FastAPI) -> None:
    """Executes queued runs one at a time, in a thread so the event loop keeps serving."""
    db: Database = app.state.db
    settings: MatchingSettings = app.state.settings
    wake = asyncio.Event()
    loop = asyncio.get_running_loop()
    app.state.wake_worker = lambda: loop.call_soon_threadsafe(wake.set)
    await anyio.to_thread.run_sync(fail_interrupted, db)
    next_sweep = 0.0
    while True:
        try:
            if loop.time() >= next_sweep:
                await anyio.to_thread.run_sync(sweep_expired, db)
                next_sweep = loop.time() + settings.expiry_sweep_seconds
            run_id = await anyio.to_thread.run_sync(claim_next, db)
            if run_id is not None:
                await anyio.to_thread.run_sync(execute_run, db, run_id)
                continue
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("run worker")
        wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), settings.worker_poll_seconds)


def sweep_expired(db: Database) -> int:
    with db.session() as session:
        return expire_stale(session, date.today())


async def run_disclosures(app: FastAPI) -> None:
    db: Database = app.state.db
    settings: MatchingSettings = app.state.settings
    client = app.state.clients["registry"]
    while True:
        try:
            await deliver_due(db, client, settings.disclosure_retry_seconds)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("disclosure sender")
        await asyncio.sleep(settings.disclosure_retry_seconds)


async def close_clients(app: FastAPI) -> None:
    """Holds the service clients open for the app's life and closes them at shutdown."""
    try:
        await asyncio.Event().wait()
    finally:
        for client in app.state.clients.values():
            await client.aclose()
