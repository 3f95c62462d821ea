"""``GET /v1/matching/sync``: each feed's cursor and lag."""

from __future__ import annotations

import anyio
from fastapi import APIRouter, Request

from services.matching.readmodel.models import SyncPublic
from shared.kit.auth import require_scopes
from shared.programme.scopes import MATCHING_READ

router = APIRouter(prefix="/v1/matching", tags=["matching"])


@router.get("/sync", response_model=SyncPublic, summary="Read-model feeds: cursor and lag")
async def sync_state(
    request: Request,
    _principal: require_scopes(MATCHING_READ),  # type: ignore[valid-type]
) -> SyncPublic:
    consumers = request.app.state.consumers
    states = [await anyio.to_thread.run_sync(consumer.state) for consumer in consumers.values()]
    return SyncPublic(feeds=states)
