"""The three feed consumers that keep the read model caught up, and ``GET /v1/reports/sync``.

They are built with the app (so tests can drive them with ``catch_up()``) and run as lifespan
background tasks, each polling its producer every ``feed_poll_seconds``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel

from services.reporting.readmodel.appliers import (
    apply_matching,
    apply_opportunities,
    apply_registry,
)
from services.reporting.settings import ReportingSettings
from services.reporting.tables import feed_tables
from shared.kit.auth import require_scopes
from shared.kit.database import Database
from shared.kit.feed import FeedConsumer, FeedState, HttpFeedSource
from shared.kit.http import service_client
from shared.kit.problems import Forbidden
from shared.programme.scopes import REPORTS_READ

FEEDS = ("registry", "opportunities", "matching")
OPERATOR_TYPES = frozenset({"admin", "government_agency"})
APPLIERS = {
    "registry": apply_registry,
    "opportunities": apply_opportunities,
    "matching": apply_matching,
}


class GatewayTokenSource:
    """This service's client-credentials token from the gateway, renewed a minute before it
    expires. Unlike ``shared.kit.http.ClientCredentialsTokenSource`` it uses a client we pass in,
    so tests can route it to an app through a transport."""

    def __init__(self, client: httpx.AsyncClient, client_id: str, client_secret: str) -> None:
        self.client = client
        self.client_id = client_id
        self.client_secret = client_secret
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def __call__(self) -> str:
        loop = asyncio.get_running_loop()
        async with self._lock:
            if self._token is None or loop.time() > self._expires_at - 60:
                response = await self.client.post(
                    "/v1/auth/token",
                    data={"grant_type": "client_credentials"},
                    auth=(self.client_id, self.client_secret),
                )
                response.raise_for_status()
                body = response.json()
                self._token = str(body["access_token"])
                self._expires_at = loop.time() + float(body.get("expires_in", 300))
            return self._token


def build_consumers(
    settings: ReportingSettings,
    db: Database,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> tuple[dict[str, FeedConsumer], list[httpx.AsyncClient]]:
    transports = transports or {}
    timeout = settings.request_timeout_seconds
    gateway = service_client(
        settings.gateway_url, timeout_seconds=timeout, transport=transports.get("gateway")
    )
    tokens = GatewayTokenSource(gateway, settings.client_id, settings.client_secret)
    urls = {
        "registry": settings.registry_url,
        "opportunities": settings.opportunities_url,
        "matching": settings.matching_url,
    }
    clients = [gateway]
    consumers: dict[str, FeedConsumer] = {}
    for name in FEEDS:
        client = service_client(
            urls[name], token_source=tokens, timeout_seconds=timeout, transport=transports.get(name)
        )
        clients.append(client)
        consumers[name] = FeedConsumer(
            name,
            db,
            feed_tables,
            HttpFeedSource(client),
            APPLIERS[name],
            batch_size=settings.feed_batch_size,
        )
    return consumers, clients


def consumer_task(name: str) -> Callable[[FastAPI], Coroutine[Any, Any, None]]:
    async def run(app: FastAPI) -> None:
        settings: ReportingSettings = app.state.settings
        await app.state.consumers[name].run(settings.feed_poll_seconds)

    return run


async def close_clients(app: FastAPI) -> None:
    """A background task that only waits: on shutdown it closes the feed clients."""
    try:
        await asyncio.Event().wait()
    finally:
        for client in app.state.feed_clients:
            with contextlib.suppress(Exception):
                await client.aclose()


async def catch_up_all(app: FastAPI) -> int:
    """Apply everything the producers have now (tests, and a manual resync)."""
    total = 0
    for consumer in app.state.consumers.values():
        total += await consumer.catch_up()
    return total


class SyncState(BaseModel):
    feeds: list[FeedState]
    caught_up: bool


router = APIRouter(prefix="/v1/reports", tags=["reports"])


@router.get("/sync", response_model=SyncState, summary="Feed cursors and lag of the read model")
def sync_state(
    request: Request,
    principal: require_scopes(REPORTS_READ),  # type: ignore[valid-type]
) -> Any:
    if principal.org_type not in OPERATOR_TYPES:
        raise Forbidden("the sync state is for the programme's operators")
    states = [c.state() for c in request.app.state.consumers.values()]
    return SyncState(feeds=states, caught_up=all(s.caught_up for s in states))
