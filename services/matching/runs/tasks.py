"""The run worker: executes queued runs one at a time, in a thread so the event loop keeps
serving. A new run wakes it at once (``app.state.wake_worker``); otherwise it looks again
every ``worker_poll_seconds``."""

from __future__ import annotations

import asyncio
import logging

import anyio
from fastapi import FastAPI

from services.matching.runs.service import claim_next, execute_run, fail_interrupted
from services.matching.settings import MatchingSettings
from shared.kit.background import poll_loop
from shared.kit.database import Database

logger = logging.getLogger("sinergi.matching.runs")


async def run_worker(app: FastAPI) -> None:
    db: Database = app.state.db
    settings: MatchingSettings = app.state.settings
    wake = asyncio.Event()
    loop = asyncio.get_running_loop()
    app.state.wake_worker = lambda: loop.call_soon_threadsafe(wake.set)
    await anyio.to_thread.run_sync(fail_interrupted, db)

    async def step() -> bool:
        run_id = await anyio.to_thread.run_sync(claim_next, db)
        if run_id is None:
            return False
        await anyio.to_thread.run_sync(execute_run, db, run_id)
        return True  # another run may be queued behind it

    await poll_loop("run worker", step, settings.worker_poll_seconds, logger=logger, wake=wake)
