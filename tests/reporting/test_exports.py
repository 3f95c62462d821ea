"""JSON, CSV and XLSX of the same report agree cell for cell (the XLSX read back with
openpyxl); JSON carries an ETag and honours If-None-Match."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from services.reporting.exports.service import flatten
from services.reporting.exports.views import XLSX_MEDIA_TYPE
from tests.reporting.programme import KELUMPANG_HILIR, Stack
from tests.support.tokens import TestKeys

pytestmark = pytest.mark.anyio


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _as_text(value: object) -> str:
    return "" if value is None else str(value)


def _sheet_rows(sheet: openpyxl.worksheet.worksheet.Worksheet) -> list[dict[str, object]]:
    rows = list(sheet.iter_rows(values_only=True))
    header = [str(cell) for cell in rows[0]]
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]


async def test_summary_json_csv_xlsx_agree(stack: Stack, keys: TestKeys) -> None:
    admin = keys.headers("admin")
    url = "/v1/reports/summary"
    as_json = (await stack.client.get(url, headers=admin)).json()
    expected = flatten(as_json)
    assert {"indicator": "residents.in_target_group_by.sex.F", "value": 4} in expected

    as_csv = await stack.client.get(url, params={"format": "csv"}, headers=admin)
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.headers["content-disposition"].endswith('.csv"')
    assert _csv(as_csv.text) == [
        {"indicator": row["indicator"], "value": _as_text(row["value"])} for row in expected
    ]

    # Accept picks the format when no format= is given.
    as_xlsx = await stack.client.get(url, headers={**admin, "Accept": XLSX_MEDIA_TYPE})
    assert as_xlsx.headers["content-type"] == XLSX_MEDIA_TYPE
    workbook = openpyxl.load_workbook(io.BytesIO(as_xlsx.content))
    assert workbook.sheetnames == ["Summary", "Villages", "Funnel by district"]
    summary = workbook["Summary"]
    assert _sheet_rows(summary) == expected
    assert summary.freeze_panes == "A2"
    formats = {row[0].value: row[1].number_format for row in summary.iter_rows(min_row=2)}
    assert formats["placements.total.capital_disbursed_idr"] == '"Rp" #,##0'
    assert formats["funnel.offered.ratio_to_previous"] == "0.0%"
    assert formats["residents.registered"] == "#,##0"

    villages = (
        await stack.client.get("/v1/reports/villages", params={"limit": 500}, headers=admin)
    ).json()["items"]
    assert _sheet_rows(workbook["Villages"]) == villages

    funnel = workbook["Funnel by district"]
    funnel_rows = _sheet_rows(funnel)
    assert [row["district_code"] for row in funnel_rows] == ["63.02.06", KELUMPANG_HILIR]
    kelumpang = funnel_rows[1]
    assert [kelumpang[s] for s in ("proposed", "offered", "accepted", "started")] == [4, 3, 2, 2]
    assert len(funnel._charts) == 2  # a native chart per district


async def test_villages_and_providers_exports_agree(stack: Stack, keys: TestKeys) -> None:
    district = keys.headers("district_government", region=KELUMPANG_HILIR)
    for path, sheet_name in (
        ("/v1/reports/villages", "Villages"),
        ("/v1/reports/providers", "Providers"),
    ):
        items = (await stack.client.get(path, headers=district)).json()["items"]
        assert items
        as_csv = await stack.client.get(path, headers={**district, "Accept": "text/csv"})
        assert _csv(as_csv.text) == [
            {key: _as_text(value) for key, value in row.items()} for row in items
        ]
        as_xlsx = await stack.client.get(path, params={"format": "xlsx"}, headers=district)
        workbook = openpyxl.load_workbook(io.BytesIO(as_xlsx.content))
        assert _sheet_rows(workbook[sheet_name]) == items
        assert workbook[sheet_name].freeze_panes == "A2"


async def test_suppressed_cells_are_empty_in_every_format(stack: Stack, keys: TestKeys) -> None:
    agency = keys.headers("regional_agency")
    as_json = (await stack.client.get("/v1/reports/summary", headers=agency)).json()
    as_csv = await stack.client.get("/v1/reports/summary?format=csv", headers=agency)
    cells = {row["indicator"]: row["value"] for row in _csv(as_csv.text)}
    assert as_json["residents"]["prioritised"] is None
    assert cells["residents.prioritised"] == ""
    assert cells["residents.registered"] == "7"


async def test_if_none_match_gives_304_until_the_numbers_change(
    stack: Stack, keys: TestKeys
) -> None:
    admin = keys.headers("admin")
    first = await stack.client.get("/v1/reports/summary", headers=admin)
    etag = first.headers["etag"]
    assert etag.startswith('"')
    again = await stack.client.get("/v1/reports/summary", headers={**admin, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    weak = await stack.client.get(
        "/v1/reports/summary", headers={**admin, "If-None-Match": f'"other", W/{etag}'}
    )
    assert weak.status_code == 304

    stack.programme.register("r9", KELUMPANG_HILIR + ".2003", "M", 40, "primary", 2, "07-09")
    await stack.sync()
    changed = await stack.client.get(
        "/v1/reports/summary", headers={**admin, "If-None-Match": etag}
    )
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert changed.json()["residents"]["registered"] == 8
