"""One report, three shapes: JSON (with an ETag), CSV (stdlib csv) and an XLSX workbook a
district officer can print (a sheet per table, frozen headers, formatted numbers and a funnel
chart per district). All three are rendered from the same rows, so they agree."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Query, Request, Response
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv"
INTEGER_FORMAT = "#,##0"
RUPIAH_FORMAT = '"Rp" #,##0'
RATIO_FORMAT = "0.0%"
FUNNEL_STAGES = ("proposed", "offered", "accepted", "started", "completed", "independent")


class ReportFormat(StrEnum):
    json = "json"
    csv = "csv"
    xlsx = "xlsx"


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


@dataclass
class Sheet:
    title: str
    columns: Sequence[str]
    rows: Sequence[Mapping[str, Any]]
    # District funnels to chart below the table: (title, row index) of each district's row.
    charts: list[tuple[str, int]] = field(default_factory=list)


def json_response(request: Request, content: Any) -> Response:
    """JSON with a strong ETag of its bytes; ``If-None-Match`` with it answers 304."""
    body = json.dumps(content, separators=(",", ":"), default=str).encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:40] + '"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache", "Vary": "Authorization, Accept"}
    wanted = request.headers.get("if-none-match", "")
    tags = {tag.strip().removeprefix("W/") for tag in wanted.split(",")}
    if etag in tags or "*" in tags:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


def flatten(content: Mapping[str, Any], prefix: str = "") -> list[dict[str, Any]]:
    """A nested summary as ``indicator, value`` rows: ``residents.in_target_group_by.sex.F``."""
    rows: list[dict[str, Any]] = []
    for key, value in content.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            rows.extend(flatten(value, name + "."))
        else:
            rows.append({"indicator": name, "value": value})
    return rows


def _csv_value(value: Any) -> Any:
    # A suppressed or undefined cell is empty, never a made-up zero.
    return "" if value is None else value


def csv_response(sheet: Sheet, filename: str) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(sheet.columns)
    for row in sheet.rows:
        writer.writerow([_csv_value(row.get(column)) for column in sheet.columns])
    return Response(
        buffer.getvalue().encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
    )


def _number_format(column: str, indicator: str | None = None) -> str:
    name = indicator or column
    if name.endswith("_idr"):
        return RUPIAH_FORMAT
    if "ratio" in name or "progress" in name:
        return RATIO_FORMAT
    return INTEGER_FORMAT


def _write_sheet(sheet: Worksheet, spec: Sheet) -> None:
    sheet.append(list(spec.columns))
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = header_fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in spec.rows:
        sheet.append([row.get(column) for column in spec.columns])
    for index, column in enumerate(spec.columns, start=1):
        letter = get_column_letter(index)
        width = max([len(column), *(len(str(r.get(column) or "")) for r in spec.rows)])
        sheet.column_dimensions[letter].width = min(max(width + 2, 10), 48)
        for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
            if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                indicator = str(sheet.cell(cell.row, 1).value) if column == "value" else None
                cell.number_format = _number_format(column, indicator)
    sheet.freeze_panes = "A2"
    sheet.print_title_rows = "1:1"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True


def _funnel_charts(sheet: Worksheet, spec: Sheet) -> None:
    """A native bar chart per district of its funnel stages, widest stage at the top."""
    first = spec.columns.index(FUNNEL_STAGES[0]) + 1
    last = spec.columns.index(FUNNEL_STAGES[-1]) + 1
    anchor_column = get_column_letter(len(spec.columns) + 2)
    for position, (title, index) in enumerate(spec.charts):
        row = index + 2  # header row, then 1-based rows
        chart = BarChart()
        chart.type = "bar"  # horizontal bars read as a funnel
        chart.title = title
        chart.legend = None
        chart.y_axis.title = "residents"
        chart.x_axis.scaling.orientation = "maxMin"  # first stage on top
        data = Reference(sheet, min_col=first, max_col=last, min_row=row, max_row=row)
        stages = Reference(sheet, min_col=first, max_col=last, min_row=1, max_row=1)
        chart.add_data(data, from_rows=True, titles_from_data=False)
        chart.set_categories(stages)
        chart.height, chart.width = 7, 14
        sheet.add_chart(chart, f"{anchor_column}{2 + position * 15}")


def xlsx_response(sheets: Sequence[Sheet], filename: str) -> Response:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for spec in sheets:
        sheet = workbook.create_sheet(spec.title[:31])
        _write_sheet(sheet, spec)
        if spec.charts:
            _funnel_charts(sheet, spec)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return Response(
        buffer.getvalue(),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}.xlsx"'},
    )


def funnel_sheet(funnels: Sequence[Mapping[str, Any]]) -> Sheet:
    columns = ("district_code", "district_name", *FUNNEL_STAGES)
    return Sheet(
        title="Funnel by district",
        columns=columns,
        rows=funnels,
        charts=[
            (f"{row['district_name'] or row['district_code']} ({row['district_code']})", i)
            for i, row in enumerate(funnels)
        ],
    )
