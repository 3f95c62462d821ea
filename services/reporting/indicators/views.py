"""``/v1/reports/summary``, ``/villages`` and ``/providers``: JSON, CSV or XLSX."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session

from services.reporting.exports.service import (
    CSV_MEDIA_TYPE,
    XLSX_MEDIA_TYPE,
    ReportFormat,
    Sheet,
    csv_response,
    flatten,
    funnel_sheet,
    json_response,
    report_format,
    xlsx_response,
)
from services.reporting.indicators import service
from services.reporting.indicators.access import ReportScope, ReportScopeDep, settings_of
from shared.kit.database import SessionDep
from shared.kit.pagination import PageParamsDep, decode_cursor, encode_cursor
from shared.kit.problems import problem_responses

router = APIRouter(prefix="/v1/reports", tags=["reports"])
FormatDep = Annotated[ReportFormat, Depends(report_format)]


def report_session(request: Request, session: SessionDep) -> Session:
    service.tune(session, settings_of(request).report_work_mem)
    return session


ReportSessionDep = Annotated[Session, Depends(report_session)]
EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The report as JSON (with an ETag), CSV or an XLSX workbook",
        "content": {CSV_MEDIA_TYPE: {}, XLSX_MEDIA_TYPE: {}},
    },
    304: {"description": "Not modified (If-None-Match matched the ETag)"},
    **problem_responses(401, 403, 404, 422),
}


def _filename(kind: str, scope: ReportScope) -> str:
    region = (scope.region or "all").replace(".", "-")
    return f"sinergi-{kind}-{region}-{scope.as_of.isoformat()}"


def _page(
    rows: list[dict[str, Any]], key: str, page: Any
) -> tuple[list[dict[str, Any]], str | None]:
    """Keyset pagination over rows already aggregated and sorted by ``key``."""
    if page.cursor:
        (after,) = decode_cursor(page.cursor, 1)
        rows = [row for row in rows if str(row[key]) > str(after)]
    items = rows[: page.limit]
    more = len(rows) > page.limit
    return items, encode_cursor([items[-1][key]]) if more and items else None


@router.get(
    "/summary",
    summary="Programme indicators for a region as of a date",
    responses=EXPORT_RESPONSES,
)
def get_summary(
    request: Request, session: ReportSessionDep, scope: ReportScopeDep, fmt: FormatDep
) -> Response:
    content = service.summary(session, scope)
    if fmt == ReportFormat.json:
        return json_response(request, content)
    indicators = Sheet("Summary", ("indicator", "value"), flatten(content))
    if fmt == ReportFormat.csv:
        return csv_response(indicators, _filename("summary", scope))
    settings = settings_of(request)
    villages = service.village_rows(session, scope, settings.regency_code)
    return xlsx_response(
        [
            indicators,
            Sheet("Villages", service.VILLAGE_COLUMNS, villages),
            funnel_sheet(service.district_funnels(session, scope)),
        ],
        _filename("summary", scope),
    )


@router.get("/villages", summary="A row per village", responses=EXPORT_RESPONSES)
def get_villages(
    request: Request,
    session: ReportSessionDep,
    scope: ReportScopeDep,
    fmt: FormatDep,
    page: PageParamsDep,
) -> Response:
    rows = service.village_rows(session, scope, settings_of(request).regency_code)
    if fmt == ReportFormat.json:
        items, next_cursor = _page(rows, "village_code", page)
        return json_response(
            request, {"as_of": scope.as_of.isoformat(), "items": items, "next_cursor": next_cursor}
        )
    sheet = Sheet("Villages", service.VILLAGE_COLUMNS, rows)
    if fmt == ReportFormat.csv:
        return csv_response(sheet, _filename("villages", scope))
    return xlsx_response(
        [sheet, funnel_sheet(service.district_funnels(session, scope))],
        _filename("villages", scope),
    )


@router.get("/providers", summary="A row per provider organisation", responses=EXPORT_RESPONSES)
def get_providers(
    request: Request,
    session: ReportSessionDep,
    scope: ReportScopeDep,
    fmt: FormatDep,
    page: PageParamsDep,
) -> Response:
    rows = service.provider_rows(session, scope)
    if fmt == ReportFormat.json:
        items, next_cursor = _page(rows, "provider_org_id", page)
        return json_response(
            request, {"as_of": scope.as_of.isoformat(), "items": items, "next_cursor": next_cursor}
        )
    sheet = Sheet("Providers", service.PROVIDER_COLUMNS, rows)
    if fmt == ReportFormat.csv:
        return csv_response(sheet, _filename("providers", scope))
    return xlsx_response([sheet], _filename("providers", scope))
