"""``GET /v1/reports/feed``: status events since a cursor, for those who may see residents;
``GET /v1/reports/feed/daily``: counts of events per village and day, for regional agencies
(and anyone else who reads the feed)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.reporting.deps import ReportsReader, SettingsDep
from services.reporting.feed.models import StatusCountPage, StatusEventPage
from services.reporting.feed.service import read_daily, read_events
from services.reporting.indicators.access import local_today
from shared.kit.database import SessionDep
from shared.kit.problems import Forbidden, problem_responses
from shared.kit.tokens import Principal
from shared.programme.dates import IsoDate
from shared.programme.organisations import LOCAL_GOVERNMENT_TYPES, REGENCY_REPORT_TYPES

router = APIRouter(prefix="/v1/reports", tags=["reports"])
REGIONAL_AGENCY = "regional_agency"
FEED_RESPONSES = problem_responses(401, 403, 422)


def _region(principal: Principal) -> str | None:
    if principal.org_type in REGENCY_REPORT_TYPES:
        return None
    if principal.org_type in LOCAL_GOVERNMENT_TYPES and principal.region:
        return principal.region
    # Providers see their own opportunities' numbers, not residents' paths.
    raise Forbidden("the status feed is for agencies and governments")


@router.get(
    "/feed",
    response_model=StatusEventPage,
    summary="Status events (verified, placed, completed, independent) with pseudonymous ids",
    responses=FEED_RESPONSES,
)
def status_feed(
    settings: SettingsDep,
    session: SessionDep,
    principal: ReportsReader,
    after: Annotated[
        str | None, Query(max_length=20, description="next_cursor of the last page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> StatusEventPage:
    region = _region(principal)
    if principal.org_type == REGIONAL_AGENCY:
        # A stable pseudonym, the village and the instant follow one resident through the
        # programme: in a small village that is a person. Regional agencies read aggregates.
        raise Forbidden("regional agencies read the counts of /v1/reports/feed/daily")
    return read_events(session, settings.pseudonym_key, region, after, limit)


@router.get(
    "/feed/daily",
    response_model=StatusCountPage,
    summary="Status events counted per village, day and event (closed days only)",
    responses=FEED_RESPONSES,
)
def status_counts(
    settings: SettingsDep,
    session: SessionDep,
    principal: ReportsReader,
    after: Annotated[
        IsoDate | None, Query(description="next_after of the last page: the last day read")
    ] = None,
    days: Annotated[int, Query(ge=1, le=92, description="How many days at most")] = 31,
) -> StatusCountPage:
    region = _region(principal)
    threshold = settings.small_cell_threshold if principal.org_type == REGIONAL_AGENCY else 0
    return read_daily(
        session,
        region,
        after,
        days,
        today=local_today(settings),
        offset_hours=settings.utc_offset_hours,
        suppress_below=threshold,
    )
