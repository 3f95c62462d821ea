"""The reader of matching's placement feed: the kit's feed consumer with the registry's own
service token, polled until the app stops (off with ``REGISTRY_CONSUME_FEEDS=false``; tests
drive ``catch_up()`` by hand). What it applies is the app's to say (``main.py``: the visit
plan of ``plan.py`` and the residents' messages)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from services.registry.settings import RegistrySettings
from services.registry.tables import feed_tables
from shared.kit.database import Database
from shared.kit.feed import Applier, FeedConsumer, HttpFeedSource
from shared.kit.http import ClientCredentialsTokenSource, service_client


def placement_consumer(
    settings: RegistrySettings,
    db: Database,
    apply: Applier,
    *,
    matching_transport: httpx.AsyncBaseTransport | None = None,
    gateway_transport: httpx.AsyncBaseTransport | None = None,
) -> tuple[FeedConsumer, httpx.AsyncClient]:
    tokens = ClientCredentialsTokenSource(
        settings.token_url,
        settings.client_id,
        settings.client_secret,
        timeout=settings.request_timeout_seconds,
        transport=gateway_transport,
    )
    client = service_client(
        settings.matching_url,
        token_source=tokens,
        timeout_seconds=settings.request_timeout_seconds,
        transport=matching_transport,
    )
    consumer = FeedConsumer(
        "matching",
        db,
        feed_tables,
        HttpFeedSource(client),
        apply,
        batch_size=settings.feed_batch_size,
    )
    return consumer, client


async def placement_feed(app: FastAPI) -> None:
    settings: RegistrySettings = app.state.settings
    if settings.consume_feeds:
        await app.state.consumers["matching"].run(settings.feed_poll_seconds)
