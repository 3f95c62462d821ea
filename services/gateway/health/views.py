"""``/healthz`` (the gateway process answers) and ``/readyz`` (its database and all four
services ready, each named in the body)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request

from services.gateway.health.service import readiness
from shared.kit.health import health_router

SERVICE_DIR = Path(__file__).resolve().parents[1]


async def _readiness(request: Request) -> tuple[bool, dict[str, Any]]:
    return await readiness(request.app.state.db, SERVICE_DIR, request.app.state.service_clients)


router = health_router(
    _readiness,
    liveness_summary="Liveness: the gateway answers",
    readiness_summary="Readiness: own database and every service ready",
    not_ready_description="Not ready; the body names what is not",
)
