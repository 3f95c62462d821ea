"""``/healthz`` (the gateway process answers) and ``/readyz`` (its database and all four
services ready, each named in the body)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from services.gateway.health.service import readiness

SERVICE_DIR = Path(__file__).resolve().parents[1]

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: the gateway answers")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: own database and every service ready",
    responses={503: {"description": "Not ready; the body names what is not"}},
)
async def readyz(request: Request) -> JSONResponse:
    ready, body = await readiness(
        request.app.state.db, SERVICE_DIR, request.app.state.service_clients
    )
    return JSONResponse(body, status_code=200 if ready else 503)
