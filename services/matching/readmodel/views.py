"""``GET /v1/matching/sync``: each feed's cursor and lag."""

from __future__ import annotations

from fastapi import APIRouter, Request

from services.matching.deps import MatchingReader
from services.matching.readmodel import service
from services.matching.readmodel.models import SyncPublic

router = APIRouter(prefix="/v1/matching", tags=["matching"])


@router.get("/sync", response_model=SyncPublic, summary="Read-model feeds: cursor and lag")
async def sync_state(request: Request, _principal: MatchingReader) -> SyncPublic:
    return await service.sync_state(request.app.state.consumers.values())
