"""The import worker of the service process: resumes jobs that were queued or whose worker
died (its lease ran out), so a crash in the middle of an import is finished after restart."""

from __future__ import annotations

import asyncio
import logging

import anyio
from fastapi import FastAPI

from services.registry.imports.service import pending_jobs, run_job
from services.registry.settings import RegistrySettings
from shared.kit.database import Database

logger = logging.getLogger("sinergi.registry.imports")


async def import_worker(app: FastAPI) -> None:
    db: Database = app.state.db
    settings: RegistrySettings = app.state.settings
    while True:
        try:
            for job_id in await anyio.to_thread.run_sync(pending_jobs, db):
                await anyio.to_thread.run_sync(run_job, db, job_id, settings)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the loop must outlive a failing job
            # A failing job is retried when its lease runs out. The error's type only:
            # database errors quote the offending values (NIKs).
            logger.error("import worker: %s", type(exc).__name__)
        await asyncio.sleep(settings.import_poll_seconds)
