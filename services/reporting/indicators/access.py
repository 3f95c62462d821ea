"""Who sees which numbers (DESIGN.md, "read reports"), resolved once per request, and the
session a report runs in.

- admin, government agencies, regional agencies: everything; regional agencies with small
  cells suppressed.
- village and district governments: their own region; a filter outside it answers 404.
- providers: only the numbers of their own opportunities and placements, no resident counts.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Annotated

from fastapi import Depends, Query
from sqlalchemy.orm import Session

from services.reporting.deps import ReportsReader, SettingsDep
from services.reporting.indicators import service
from services.reporting.indicators.models import ReportScope
from services.reporting.settings import ReportingSettings
from shared.kit.database import SessionDep
from shared.kit.problems import Forbidden, NotFound, UnprocessableEntity
from shared.programme.codes import DISTRICT_CODE, VILLAGE_CODE
from shared.programme.dates import IsoDate
from shared.programme.organisations import (
    LOCAL_GOVERNMENT_TYPES,
    PROVIDER_TYPES,
    REGENCY_REPORT_TYPES,
)
from shared.programme.regions import is_known, within


def local_today(settings: ReportingSettings) -> date:
    """Today in the regency's time zone."""
    return datetime.now(timezone(timedelta(hours=settings.utc_offset_hours))).date()


def _cutoff(as_of: date, settings: ReportingSettings) -> datetime:
    """The first instant after ``as_of`` in the regency's time zone, in UTC."""
    zone = timezone(timedelta(hours=settings.utc_offset_hours))
    return datetime.combine(as_of + timedelta(days=1), time(0), zone).astimezone(UTC)


def _narrow(principal_region: str | None, wanted: str | None) -> str | None:
    if wanted is None:
        return principal_region
    if principal_region is not None and not within(wanted, principal_region):
        # Out-of-region answers 404, never 403, so regions cannot be probed (contracts.md).
        raise NotFound(f"region {wanted} is not one you report on")
    return wanted


def report_scope(
    settings: SettingsDep,
    principal: ReportsReader,
    district_code: Annotated[
        str | None, Query(max_length=20, description="Only this district, e.g. 63.02.17")
    ] = None,
    village_code: Annotated[
        str | None, Query(max_length=20, description="Only this village, e.g. 63.02.17.2002")
    ] = None,
    as_of: Annotated[
        IsoDate | None, Query(description="Count what had happened by the end of this day (WITA)")
    ] = None,
) -> ReportScope:
    who = principal
    if district_code is not None and not (
        DISTRICT_CODE.match(district_code) and is_known(district_code, "district")
    ):
        raise UnprocessableEntity(["query", "district_code"], "not a known district code")
    if village_code is not None:
        if not (VILLAGE_CODE.match(village_code) and is_known(village_code, "village")):
            raise UnprocessableEntity(["query", "village_code"], "not a known village code")
        if district_code is not None and not within(village_code, district_code):
            raise UnprocessableEntity(["query", "village_code"], "not in the district given")
    wanted = village_code or district_code
    if as_of is not None and as_of > local_today(settings):
        raise UnprocessableEntity(["query", "as_of"], "is in the future")

    provider: str | None = None
    residents_visible = True
    suppress = 0
    if who.org_type in REGENCY_REPORT_TYPES:
        region = wanted
        if who.org_type == "regional_agency" and settings.small_cell_threshold > 1:
            suppress = settings.small_cell_threshold
    elif who.org_type in LOCAL_GOVERNMENT_TYPES:
        if who.region is None:
            raise Forbidden("your organisation has no region to report on")
        region = _narrow(who.region, wanted)
    elif who.org_type in PROVIDER_TYPES:
        region = wanted
        provider = who.org_id
        residents_visible = False
    else:
        raise Forbidden("your organisation may not read reports")
    day = as_of or local_today(settings)
    return ReportScope(
        region=region,
        provider_org_id=provider,
        residents_visible=residents_visible,
        suppress_below=suppress,
        cutoff=_cutoff(as_of, settings) if as_of is not None else None,
        as_of=day,
    )


ReportScopeDep = Annotated[ReportScope, Depends(report_scope)]


def report_session(session: SessionDep, settings: SettingsDep) -> Session:
    service.tune(session, settings.report_work_mem)
    return session


ReportSessionDep = Annotated[Session, Depends(report_session)]
"""The request's session, given the room a report's GROUP BYs need."""
