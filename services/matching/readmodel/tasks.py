"""The feed consumers that keep the read model: the registry's residents and the catalogue's
opportunities, each polled until the app stops (off in tests that feed it by hand)."""

from __future__ import annotations

from fastapi import FastAPI

from services.matching.settings import MatchingSettings
from shared.kit.feed import run_consumers


async def run_feeds(app: FastAPI) -> None:
    settings: MatchingSettings = app.state.settings
    if not settings.consume_feeds:
        return
    await run_consumers(app.state.consumers.values(), settings.feed_poll_seconds)
