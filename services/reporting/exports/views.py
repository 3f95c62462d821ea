"""``/v1/reports/summary``, ``/villages`` and ``/providers``: JSON (with an ETag), CSV or XLSX,
as ``?format=`` or the ``Accept`` header asks."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from services.reporting.deps import SettingsDep
from services.reporting.exports import service
from services.reporting.exports.service import Export, ReportFormat
from services.reporting.indicators.access import ReportScopeDep, ReportSessionDep
from shared.kit.pagination import PageParamsDep
from shared.kit.problems import problem_responses

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv"
DOWNLOAD_MEDIA_TYPES = {
    ReportFormat.csv: "text/csv; charset=utf-8",
    ReportFormat.xlsx: XLSX_MEDIA_TYPE,
}

router = APIRouter(prefix="/v1/reports", tags=["reports"])


def report_format(
    request: Request,
    format: Annotated[
        ReportFormat | None, Query(description="json, csv or xlsx; else from Accept")
    ] = None,
) -> ReportFormat:
    if format is not None:
        return format
    accept = request.headers.get("accept", "")
    if XLSX_MEDIA_TYPE in accept:
        return ReportFormat.xlsx
    if CSV_MEDIA_TYPE in accept:
        return ReportFormat.csv
    return ReportFormat.json


FormatDep = Annotated[ReportFormat, Depends(report_format)]
EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The report as JSON (with an ETag), CSV or an XLSX workbook",
        "content": {CSV_MEDIA_TYPE: {}, XLSX_MEDIA_TYPE: {}},
    },
    304: {"description": "Not modified (If-None-Match matched the ETag)"},
    **problem_responses(401, 403, 404, 422),
}


def _respond(request: Request, export: Export) -> Response:
    """JSON with a strong ETag of its bytes (``If-None-Match`` with it answers 304); CSV and
    XLSX as a download."""
    if export.format != ReportFormat.json:
        disposition = f'attachment; filename="{export.filename}.{export.format.value}"'
        return Response(
            export.body,
            media_type=DOWNLOAD_MEDIA_TYPES[export.format],
            headers={"Content-Disposition": disposition},
        )
    etag = '"' + hashlib.sha256(export.body).hexdigest()[:40] + '"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache", "Vary": "Authorization, Accept"}
    wanted = request.headers.get("if-none-match", "")
    tags = {tag.strip().removeprefix("W/") for tag in wanted.split(",")}
    if etag in tags or "*" in tags:
        return Response(status_code=304, headers=headers)
    return Response(export.body, media_type="application/json", headers=headers)


@router.get(
    "/summary",
    summary="Programme indicators for a region as of a date",
    responses=EXPORT_RESPONSES,
)
def get_summary(
    request: Request,
    session: ReportSessionDep,
    scope: ReportScopeDep,
    fmt: FormatDep,
    settings: SettingsDep,
) -> Response:
    return _respond(request, service.summary(session, scope, fmt, settings.regency_code))


@router.get("/villages", summary="A row per village", responses=EXPORT_RESPONSES)
def get_villages(
    request: Request,
    session: ReportSessionDep,
    scope: ReportScopeDep,
    fmt: FormatDep,
    page: PageParamsDep,
    settings: SettingsDep,
) -> Response:
    export = service.villages(session, scope, fmt, settings.regency_code, page)
    return _respond(request, export)


@router.get("/providers", summary="A row per provider organisation", responses=EXPORT_RESPONSES)
def get_providers(
    request: Request,
    session: ReportSessionDep,
    scope: ReportScopeDep,
    fmt: FormatDep,
    page: PageParamsDep,
) -> Response:
    return _respond(request, service.providers(session, scope, fmt, page))
