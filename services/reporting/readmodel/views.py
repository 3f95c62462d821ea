"""``GET /v1/reports/sync``: where the read model stands in each feed, for the programme's
operators."""

from __future__ import annotations

from fastapi import APIRouter, Request

from services.reporting.deps import ReportsReader
from services.reporting.readmodel.models import SyncState
from services.reporting.readmodel.tasks import sync_state_of
from shared.kit.problems import Forbidden
from shared.programme.organisations import PROGRAMME_TYPES

router = APIRouter(prefix="/v1/reports", tags=["reports"])


@router.get("/sync", response_model=SyncState, summary="Feed cursors and lag of the read model")
def sync_state(request: Request, principal: ReportsReader) -> SyncState:
    if principal.org_type not in PROGRAMME_TYPES:
        raise Forbidden("the sync state is for the programme's operators")
    return sync_state_of(request.app.state.consumers)
