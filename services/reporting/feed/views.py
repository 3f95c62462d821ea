"""``GET /v1/reports/feed``: status events since a cursor, for regional agencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from services.reporting.feed.models import StatusEventPage
from services.reporting.feed.service import read_events
from services.reporting.indicators.access import EVERYTHING_TYPES, settings_of
from shared.auth import require_scopes
from shared.database import SessionDep
from shared.problems import Forbidden, problem_responses
from shared.scopes import LOCAL_GOVERNMENT_TYPES, REPORTS_READ

router = APIRouter(prefix="/v1/reports", tags=["reports"])


@router.get(
    "/feed",
    response_model=StatusEventPage,
    summary="Status events (verified, placed, completed, independent) with pseudonymous ids",
    responses=problem_responses(401, 403, 422),
)
def status_feed(
    request: Request,
    session: SessionDep,
    principal: require_scopes(REPORTS_READ),  # type: ignore[valid-type]
    after: Annotated[
        str | None, Query(max_length=20, description="next_cursor of the last page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> StatusEventPage:
    if principal.org_type in EVERYTHING_TYPES:
        region = None
    elif principal.org_type in LOCAL_GOVERNMENT_TYPES and principal.region:
        region = principal.region
    else:
        # Providers see their own opportunities' numbers, not residents' paths.
        raise Forbidden("the status feed is for agencies and governments")
    key = settings_of(request).pseudonym_key
    return read_events(session, key, region, after, limit)
