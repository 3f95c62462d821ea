"""The notification loop of the service process: the outbox drained through the sender, on
the kit's poll loop (the messages are written by matching's placement feed, applied in
``main.py``'s consumer)."""

from __future__ import annotations

import logging

import anyio
from fastapi import FastAPI

from services.registry.notifications import service
from services.registry.notifications.senders import Sender
from services.registry.settings import RegistrySettings
from shared.kit.background import poll_loop
from shared.kit.database import Database

logger = logging.getLogger("sinergi.registry.notifications")


async def send_due(db: Database, sender: Sender, settings: RegistrySettings) -> int:
    """One pass over the outbox: every message whose time has come gets one attempt; a failed
    one is rescheduled with backoff (service.record_outcome). Returns how many were tried."""
    claimed = await anyio.to_thread.run_sync(service.claim_due, db, settings.notify_batch_size)
    for message in claimed:
        outcome = await sender.send(message)
        await anyio.to_thread.run_sync(
            service.record_outcome, db, message.message_id, outcome, settings
        )
    return len(claimed)


async def notification_sender(app: FastAPI) -> None:
    settings: RegistrySettings = app.state.settings
    sender: Sender = app.state.sender
    try:
        if not settings.consume_feeds:
            await anyio.sleep_forever()

        async def step() -> bool:
            return await send_due(app.state.db, sender, settings) >= settings.notify_batch_size

        await poll_loop("notification sender", step, settings.notify_poll_seconds, logger=logger)
    finally:
        await sender.aclose()
        await app.state.matching_as_registry.aclose()
