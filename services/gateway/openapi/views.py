"""``/openapi.json`` (merged across services) and Swagger UI at ``/docs``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from services.gateway.openapi.service import MergedOpenAPI

router = APIRouter(include_in_schema=False)


@router.get("/openapi.json")
async def openapi(request: Request) -> JSONResponse:
    merged: MergedOpenAPI = request.app.state.openapi
    base: dict[str, Any] = request.app.openapi()
    return JSONResponse(await merged.document(base))


@router.get("/docs")
async def docs() -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/openapi.json", title="Sinergi API")
