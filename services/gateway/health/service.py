"""Readiness of the whole system as the gateway sees it: its own database and each service's
``/readyz``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import httpx

from shared.kit.database import Database
from shared.kit.health import READINESS_TIMEOUT_SECONDS, database_readiness


async def service_state(client: httpx.AsyncClient) -> str:
    try:
        response = await client.get("/readyz", timeout=READINESS_TIMEOUT_SECONDS)
    except httpx.TimeoutException:
        return "timeout"
    except httpx.HTTPError:
        return "unreachable"
    return "ready" if response.status_code == 200 else "not ready"


async def readiness(
    db: Database, service_dir: Path, clients: dict[str, httpx.AsyncClient]
) -> tuple[bool, dict[str, Any]]:
    states: dict[str, str] = {}

    async def check(name: str, client: httpx.AsyncClient) -> None:
        states[name] = await service_state(client)

    database: dict[str, Any] = {}

    async def check_own() -> None:
        nonlocal database
        database = await database_readiness(db, service_dir)

    async with anyio.create_task_group() as group:
        group.start_soon(check_own)
        for name, client in clients.items():
            group.start_soon(check, name, client)
    services = {name: states.get(name, "unknown") for name in clients}
    ready = bool(database.get("ok")) and all(s == "ready" for s in services.values())
    return ready, {
        "status": "ready" if ready else "not ready",
        "database": database,
        "services": services,
    }
