"""The three feed consumers that keep the read model caught up.

They are built with the app (so tests can drive them with ``catch_up_all()``) and run in
one lifespan background task, each the kit's poll loop over its ``FeedConsumer``, polling its
producer every ``feed_poll_seconds``.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx
from fastapi import FastAPI

from services.reporting.readmodel.appliers import (
    apply_matching,
    apply_opportunities,
    apply_registry,
)
from services.reporting.readmodel.models import SyncState
from services.reporting.settings import ReportingSettings
from services.reporting.tables import feed_tables
from shared.kit.background import close_on_shutdown
from shared.kit.database import Database
from shared.kit.feed import Applier, FeedConsumer, HttpFeedSource, run_consumers
from shared.kit.http import ClientCredentialsTokenSource, service_client

APPLIERS: dict[str, Applier] = {
    "registry": apply_registry,
    "opportunities": apply_opportunities,
    "matching": apply_matching,
}
FEEDS = tuple(APPLIERS)


def build_consumers(
    settings: ReportingSettings,
    db: Database,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> tuple[dict[str, FeedConsumer], list[httpx.AsyncClient]]:
    """A consumer per feed, each reading its producer with this service's own token; and the
    clients, to close at shutdown. ``transports`` route them to apps in process (tests)."""
    transports = transports or {}
    timeout = settings.request_timeout_seconds
    tokens = ClientCredentialsTokenSource(
        settings.token_url,
        settings.client_id,
        settings.client_secret,
        timeout=timeout,
        transport=transports.get("gateway"),
    )
    urls = {
        "registry": settings.registry_url,
        "opportunities": settings.opportunities_url,
        "matching": settings.matching_url,
    }
    clients: list[httpx.AsyncClient] = []
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


async def run_feeds(app: FastAPI) -> None:
    settings: ReportingSettings = app.state.settings
    await run_consumers(app.state.consumers.values(), settings.feed_poll_seconds)


async def close_clients(app: FastAPI) -> None:
    await close_on_shutdown(app.state.feed_clients)


async def catch_up_all(app: FastAPI) -> int:
    """Apply everything the producers have now (tests, and a manual resync)."""
    total = 0
    for consumer in app.state.consumers.values():
        total += await consumer.catch_up()
    return total


def sync_state_of(consumers: Mapping[str, FeedConsumer]) -> SyncState:
    states = [consumer.state() for consumer in consumers.values()]
    return SyncState(feeds=states, caught_up=all(state.caught_up for state in states))
