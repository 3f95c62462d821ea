"""API documentation pages that work without internet: Swagger UI at ``/docs`` and ReDoc at
``/redoc``, their JavaScript and CSS served by the app itself from the files the
``fastapi-offline`` package installs, never from a CDN (a government intranet has none).

FastAPI's own pages load those assets from jsDelivr, and ReDoc's also asks Google for fonts;
these pages name only paths of the app, so no request leaves the machine.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import FileResponse, HTMLResponse

ASSETS_PATH = "/docs/assets"
# The files the pages load, and nothing else of the package's folder.
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}
_ASSET_DIR = Path(str(files("fastapi_offline") / "static"))
_OAUTH2_REDIRECT = "/docs/oauth2-redirect"


def _under_root(request: Request, **paths: str) -> dict[str, Any]:
    """The pages' URLs below the ASGI ``root_path`` the app is served under (behind a proxy
    that strips a prefix, the browser must ask for the prefixed paths)."""
    root = request.scope.get("root_path", "")
    return {name: f"{root}{path}" for name, path in paths.items()}


def docs_router(title: str, openapi_url: str = "/openapi.json") -> APIRouter:
    """``/docs``, ``/redoc`` and their assets; paths honour the ASGI ``root_path``."""
    router = APIRouter(include_in_schema=False)

    @router.get("/docs")
    async def swagger_ui(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            title=f"{title} - Swagger UI",
            **_under_root(
                request,
                openapi_url=openapi_url,
                oauth2_redirect_url=_OAUTH2_REDIRECT,
                swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
                swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
                swagger_favicon_url=f"{ASSETS_PATH}/favicon.png",
            ),
        )

    @router.get(_OAUTH2_REDIRECT)
    async def swagger_ui_oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @router.get("/redoc")
    async def redoc(request: Request) -> HTMLResponse:
        return get_redoc_html(
            title=f"{title} - ReDoc",
            with_google_fonts=False,
            **_under_root(
                request,
                openapi_url=openapi_url,
                redoc_js_url=f"{ASSETS_PATH}/redoc.standalone.js",
                redoc_favicon_url=f"{ASSETS_PATH}/favicon.png",
            ),
        )

    @router.get(ASSETS_PATH + "/{name}")
    async def asset(name: str) -> FileResponse:
        media_type = ASSETS.get(name)
        if media_type is None:
            raise HTTPException(status_code=404, detail="no such documentation asset")
        return FileResponse(
            _ASSET_DIR / name,
            media_type=media_type,
            headers={"Cache-Control": "public, max-age=86400"},
        )

    return router
