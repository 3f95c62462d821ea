"""``/openapi.json``, merged across services; its pages (``/docs``, ``/redoc``) are the kit's."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from services.gateway.openapi.service import MergedOpenAPI

router = APIRouter(include_in_schema=False)


@router.get("/openapi.json")
async def openapi(request: Request) -> JSONResponse:
    merged: MergedOpenAPI = request.app.state.openapi
    base: dict[str, Any] = request.app.openapi()
    return JSONResponse(await merged.document(base))
