"""The import worker of the service process: resumes jobs that were queued or whose worker
died (its lease ran out), so a crash in the middle of an import is finished after restart."""

from __future__ import annotations

import logging

import anyio
from fastapi import FastAPI

from services.registry.imports import service
from services.registry.imports.jobs import pending_jobs
from services.registry.settings import RegistrySettings
from shared.kit.background import poll_loop
from shared.kit.database import Database

logger = logging.getLogger("sinergi.registry.imports")


async def import_worker(app: FastAPI) -> None:
    db: Database = app.state.db
    settings: RegistrySettings = app.state.settings

    async def step() -> None:
        # A failing job is retried when its lease runs out; the loop logs the error's type
        # only, since database errors quote the offending values (NIKs).
        for job_id in await anyio.to_thread.run_sync(pending_jobs, db):
            await anyio.to_thread.run_sync(service.run_job, db, job_id, settings)

    await poll_loop("import worker", step, settings.import_poll_seconds, logger=logger)
