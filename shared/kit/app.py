"""The application factory every domain service uses.

It wires settings, the database, token verification, problem details, request ids, JSON
logging, body size limits, health endpoints and (when the service has one) its change feed.
Routers passed as ``routers`` require a valid token on every route; ``public_routers`` do not.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import APIRouter, Depends, FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.kit.auth import current_principal
from shared.kit.database import Database
from shared.kit.docs import docs_router
from shared.kit.feed import FeedTables, changes_router
from shared.kit.health import database_ready, health_router
from shared.kit.logging import AccessLogMiddleware, configure_logging
from shared.kit.problems import PROBLEM_MEDIA_TYPE, install_problem_handlers
from shared.kit.settings import ServiceSettings
from shared.kit.tokens import TokenVerifier

BackgroundTask = Callable[[FastAPI], Coroutine[Any, Any, None]]


def build_verifier(settings: ServiceSettings) -> TokenVerifier:
    verifier = TokenVerifier(issuer=settings.token_issuer, audience=settings.token_audience)
    if settings.public_key_file:
        verifier.add_public_key(Path(settings.public_key_file).read_text())
    if settings.jwks_url:
        jwks_url = settings.jwks_url

        async def fetch_jwks() -> dict[str, Any]:
            async with httpx.AsyncClient(timeout=5) as client:
                response = await client.get(jwks_url)
                response.raise_for_status()
                document: dict[str, Any] = response.json()
                return document

        verifier.jwks_fetcher = fetch_jwks
    return verifier


class BodySizeLimitMiddleware:
    """413 for bodies over the limit, checked on ``Content-Length`` and on the bytes streamed,
    so a chunked upload cannot slip past. Paths may carry their own limits (imports)."""

    def __init__(self, app: ASGIApp, default_limit: int, limits: dict[str, int]) -> None:
        self.app = app
        self.default_limit = default_limit
        self.limits = limits

    def _limit(self, path: str) -> int:
        return self.limits.get(path, self.default_limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope["path"])
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await _send_413(send, limit)
                return
        received = 0
        too_large = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True
                    raise _BodyTooLarge
            return message

        replaced = False

        async def guarded_send(message: Message) -> None:
            # The app turns a failed body read into its own error (400); the reason was size.
            nonlocal replaced
            if too_large:
                if message["type"] == "http.response.start" and not replaced:
                    replaced = True
                    await _send_413(send, limit)
                return
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _BodyTooLarge:
            if not replaced:
                await _send_413(send, limit)


class RejectNulBytesMiddleware:
    """422 for a NUL byte in the path or a query parameter: PostgreSQL text cannot hold one,
    so it would otherwise surface as a database error. The problem names each parameter."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw_query: bytes = scope.get("query_string", b"")
            query = raw_query.decode("latin-1")
            locs: list[list[str]] = []
            if "\x00" in scope["path"]:
                locs.append(["path"])
            if b"%00" in raw_query.lower() or b"\x00" in raw_query:
                locs += [
                    ["query", name]
                    for name, value in parse_qsl(query, keep_blank_values=True)
                    if "\x00" in name or "\x00" in value
                ] or [["query"]]
            if locs:
                await _send_problem(
                    send,
                    422,
                    {
                        "type": "urn:sinergi:problem:request-validation-failed",
                        "title": "Request validation error.",
                        "status": 422,
                        "detail": "NUL bytes are not allowed",
                        "errors": [
                            {"loc": loc, "msg": "NUL bytes are not allowed", "type": "value_error"}
                            for loc in locs
                        ],
                    },
                )
                return
        await self.app(scope, receive, send)


async def _send_problem(send: Send, status: int, problem: dict[str, Any]) -> None:
    body = json.dumps(problem).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class _BodyTooLarge(Exception):
    pass


async def _send_413(send: Send, limit: int) -> None:
    await _send_problem(
        send,
        413,
        {
            "type": "urn:sinergi:problem:payload-too-large",
            "title": "Payload too large",
            "status": 413,
            "detail": f"request body exceeds {limit} bytes",
        },
    )


def create_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str,
    service_dir: Path,
    routers: Sequence[APIRouter] = (),
    public_routers: Sequence[APIRouter] = (),
    feed_tables: FeedTables | None = None,
    background: Sequence[BackgroundTask] = (),
    body_limits: dict[str, int] | None = None,
    verifier: TokenVerifier | None = None,
    configure_logs: bool = True,
    reads_write: bool = False,
) -> FastAPI:
    settings.check_production()
    if configure_logs:
        configure_logging(settings.service_name, settings.log_level)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(task(app)) for task in background]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            app.state.db.dispose()

    # /docs and /redoc come from docs_router: FastAPI's own pages load their assets from a CDN.
    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.db = Database(settings.effective_database_url())
    app.state.reads_write = reads_write
    app.state.verifier = verifier or build_verifier(settings)
    install_problem_handlers(app)

    app.include_router(health_router(database_ready(service_dir)))
    app.include_router(docs_router(title))
    for router in public_routers:
        app.include_router(router)
    if feed_tables is not None:
        app.include_router(changes_router(feed_tables), dependencies=[Depends(current_principal)])
    for router in routers:
        app.include_router(router, dependencies=[Depends(current_principal)])

    app.add_middleware(
        BodySizeLimitMiddleware,
        default_limit=settings.max_body_bytes,
        limits=body_limits or {},
    )
    app.add_middleware(RejectNulBytesMiddleware)
    app.add_middleware(AccessLogMiddleware)
    app.add_middleware(CorrelationIdMiddleware, header_name="X-Request-ID")
    return app
