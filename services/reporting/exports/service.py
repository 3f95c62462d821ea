"""One report, three shapes: JSON, CSV (stdlib csv) and an XLSX workbook a district officer
can print (a sheet per table, frozen headers, formatted numbers and a funnel chart per
district). All three are rendered from the same rows, so they agree. This module renders
bytes; how they travel (media types, ETags, downloads) is ``views.py``'s business."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.orm import Session

from services.reporting.indicators import service as indicators
from services.reporting.indicators.models import ReportScope
from shared.kit.pagination import PageParams, decode_cursor, encode_cursor

INTEGER_FORMAT = "#,##0"
RUPIAH_FORMAT = '"Rp" #,##0'
RATIO_FORMAT = "0.0%"
FUNNEL_STAGES = ("proposed", "offered", "accepted", "started", "completed", "independent")


class ReportFormat(StrEnum):
    json = "json"
    csv = "csv"
    xlsx = "xlsx"


@dataclass
class Sheet:
    title: str
    columns: Sequence[str]
    rows: Sequence[Mapping[str, Any]]
    # District funnels to chart below the table: (title, row index) of each district's row.
    charts: list[tuple[str, int]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Export:
    """A report rendered in one format, and the name (without extension) it downloads as."""

    format: ReportFormat
    body: bytes
    filename: str


def json_body(content: Any) -> bytes:
    return json.dumps(content, separators=(",", ":"), default=str).encode()


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


def csv_body(sheet: Sheet) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(sheet.columns)
    for row in sheet.rows:
        writer.writerow([_csv_value(row.get(column)) for column in sheet.columns])
    return buffer.getvalue().encode("utf-8")


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


def xlsx_body(sheets: Sequence[Sheet]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for spec in sheets:
        sheet = workbook.create_sheet(spec.title[:31])
        _write_sheet(sheet, spec)
        if spec.charts:
            _funnel_charts(sheet, spec)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


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


def _filename(kind: str, scope: ReportScope) -> str:
    region = (scope.region or "all").replace(".", "-")
    return f"sinergi-{kind}-{region}-{scope.as_of.isoformat()}"


def _page(
    rows: Sequence[Mapping[str, Any]], key: str, page: PageParams
) -> tuple[Sequence[Mapping[str, Any]], str | None]:
    """Keyset pagination over rows already aggregated and sorted by ``key``."""
    if page.cursor:
        (after,) = decode_cursor(page.cursor, 1)
        rows = [row for row in rows if str(row[key]) > str(after)]
    items = rows[: page.limit]
    more = len(rows) > page.limit
    return items, encode_cursor([items[-1][key]]) if more and items else None


def summary(session: Session, scope: ReportScope, fmt: ReportFormat, regency_code: str) -> Export:
    """The programme's indicators; the workbook adds the villages and the district funnels."""
    filename = _filename("summary", scope)
    content = indicators.summary(session, scope)
    if fmt == ReportFormat.json:
        return Export(fmt, json_body(content), filename)
    summary_sheet = Sheet("Summary", ("indicator", "value"), flatten(content))
    if fmt == ReportFormat.csv:
        return Export(fmt, csv_body(summary_sheet), filename)
    villages = indicators.village_rows(session, scope, regency_code)
    sheets = [
        summary_sheet,
        Sheet("Villages", indicators.VILLAGE_COLUMNS, villages),
        funnel_sheet(indicators.district_funnels(session, scope)),
    ]
    return Export(fmt, xlsx_body(sheets), filename)


def _table(
    fmt: ReportFormat,
    scope: ReportScope,
    kind: str,
    sheet: Sheet,
    key: str,
    page: PageParams,
    more_sheets: Sequence[Sheet] = (),
) -> Export:
    """A table of rows: JSON a page at a time, CSV and XLSX whole."""
    filename = _filename(kind, scope)
    if fmt == ReportFormat.json:
        items, next_cursor = _page(sheet.rows, key, page)
        content = {"as_of": scope.as_of.isoformat(), "items": items, "next_cursor": next_cursor}
        return Export(fmt, json_body(content), filename)
    if fmt == ReportFormat.csv:
        return Export(fmt, csv_body(sheet), filename)
    return Export(fmt, xlsx_body([sheet, *more_sheets]), filename)


def villages(
    session: Session, scope: ReportScope, fmt: ReportFormat, regency_code: str, page: PageParams
) -> Export:
    rows = indicators.village_rows(session, scope, regency_code)
    sheet = Sheet("Villages", indicators.VILLAGE_COLUMNS, rows)
    # The funnels are counted only for the workbook, which charts them.
    funnels = (
        [funnel_sheet(indicators.district_funnels(session, scope))]
        if fmt == ReportFormat.xlsx
        else []
    )
    return _table(fmt, scope, "villages", sheet, "village_code", page, funnels)


def providers(session: Session, scope: ReportScope, fmt: ReportFormat, page: PageParams) -> Export:
    rows = indicators.provider_rows(session, scope)
    sheet = Sheet("Providers", indicators.PROVIDER_COLUMNS, rows)
    return _table(fmt, scope, "providers", sheet, "provider_org_id", page)
