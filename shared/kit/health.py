"""``/healthz`` (the process is alive) and ``/readyz`` (database reachable, migrations at head)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from shared.kit.database import Database
from shared.kit.migrations import current_revision, head_revision

READINESS_TIMEOUT_SECONDS = 4.0


def check_database(db: Database, service_dir: Path | None) -> dict[str, Any]:
    try:
        db.ping()
        if service_dir is None:
            return {"ok": True}
        current = current_revision(db.engine)
        head = head_revision(service_dir)
    except Exception as exc:  # noqa: BLE001 - readiness reports, it does not raise
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": current == head, "revision": current, "head": head}


async def database_readiness(db: Database, service_dir: Path | None) -> dict[str, Any]:
    """:func:`check_database` off the event loop, reported as a timeout when it takes longer
    than ``READINESS_TIMEOUT_SECONDS`` (a hung database must not hang the probe)."""
    database: dict[str, Any] = {"ok": False, "error": "timeout"}
    with anyio.move_on_after(READINESS_TIMEOUT_SECONDS):
        database = await anyio.to_thread.run_sync(
            check_database, db, service_dir, abandon_on_cancel=True
        )
    return database


def health_router(service_dir: Path | None) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="Readiness: database reachable and migrations at head",
        responses={503: {"description": "Not ready"}},
    )
    async def readyz(request: Request) -> JSONResponse:
        database = await database_readiness(request.app.state.db, service_dir)
        ready = bool(database.get("ok"))
        body = {"status": "ready" if ready else "not ready", "database": database}
        return JSONResponse(body, status_code=200 if ready else 503)

    return router
