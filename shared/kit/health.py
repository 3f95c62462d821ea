"""``/healthz`` (the process is alive) and ``/readyz`` (database reachable, migrations at head)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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


Readiness = Callable[[Request], Awaitable[tuple[bool, dict[str, Any]]]]


def database_ready(service_dir: Path | None) -> Readiness:
    """A service's readiness: its database reachable and (with ``service_dir``) migrated to
    head."""

    async def readiness(request: Request) -> tuple[bool, dict[str, Any]]:
        database = await database_readiness(request.app.state.db, service_dir)
        ready = bool(database.get("ok"))
        return ready, {"status": "ready" if ready else "not ready", "database": database}

    return readiness


def health_router(
    readiness: Readiness,
    *,
    liveness_summary: str = "Liveness: the process answers",
    readiness_summary: str = "Readiness: database reachable and migrations at head",
    not_ready_description: str = "Not ready",
) -> APIRouter:
    """``/healthz`` and ``/readyz``, the latter 200 or 503 with the body ``readiness`` gives:
    every service's probes, the gateway's (which asks the others) included."""
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary=liveness_summary)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary=readiness_summary,
        responses={503: {"description": not_ready_description}},
    )
    async def readyz(request: Request) -> JSONResponse:
        ready, body = await readiness(request)
        return JSONResponse(body, status_code=200 if ready else 503)

    return router
