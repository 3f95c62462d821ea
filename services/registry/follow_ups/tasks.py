"""The reader of matching's placement feed that keeps the visit plan (``plan.py``): the kit's
feed consumer with the registry's own service token, polled until the app stops (off with
``REGISTRY_CONSUME_PLACEMENTS=false``; tests drive ``catch_up()`` by hand)."""

from __future__ import annotations

from functools import partial

import httpx
from fastapi import FastAPI

from services.registry.follow_ups.plan import apply_placement_changes
from services.registry.settings import RegistrySettings
from services.registry.tables import feed_tables
from shared.kit.background import close_on_shutdown
from shared.kit.database import Database
from shared.kit.feed import FeedConsumer, HttpFeedSource
from shared.kit.http import ClientCredentialsTokenSource, service_client


def placement_consumer(
    settings: RegistrySettings,
    db: Database,
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
        partial(apply_placement_changes, settings=settings),
        batch_size=settings.feed_batch_size,
    )
    return consumer, client


async def placement_feed(app: FastAPI) -> None:
    settings: RegistrySettings = app.state.settings
    if settings.consume_placements:
        await app.state.placement_consumer.run(settings.feed_poll_seconds)


async def close_placement_client(app: FastAPI) -> None:
    await close_on_shutdown([app.state.placement_client])
