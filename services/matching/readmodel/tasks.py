"""The feed consumers that keep the read model: the registry's residents and the catalogue's
opportunities, each polled until the app stops (off in tests that feed it by hand)."""

from __future__ import annotations

import anyio
from fastapi import FastAPI

from services.matching.settings import MatchingSettings


async def run_feeds(app: FastAPI) -> None:
    settings: MatchingSettings = app.state.settings
    if not settings.consume_feeds:
        return
    async with anyio.create_task_group() as group:
        for consumer in app.state.consumers.values():
            group.start_soon(consumer.run, settings.feed_poll_seconds)
