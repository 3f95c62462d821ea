"""Reading an uploaded CSV or XLSX into rows of text cells, within bounds.

An XLSX is a zip: its members' declared sizes are checked before openpyxl reads a byte of XML,
so a small upload cannot expand into gigabytes (a zip bomb), and the sheet's declared
dimension is checked before its rows are read.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime
from typing import Any

XLSX_MAGIC = b"PK\x03\x04"
# Compressed XML rarely shrinks by more than this; more means a crafted file.
MAX_XLSX_RATIO = 200


class FileRejected(Exception):
    """The whole file is unusable; the message says why (never a cell's content)."""


def detect_format(filename: str | None, content: bytes) -> str:
    name = (filename or "").lower()
    if content.startswith(XLSX_MAGIC) or name.endswith(".xlsx"):
        return "xlsx"
    return "csv"


def check_xlsx_bounds(content: bytes, max_uncompressed: int, max_rows: int) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile as exc:
        raise FileRejected("not a readable XLSX file") from exc
    with archive:
        total = 0
        for member in archive.infolist():
            total += member.file_size
            if member.compress_size and member.file_size / member.compress_size > MAX_XLSX_RATIO:
                raise FileRejected(f"XLSX member {member.filename} is suspiciously compressed")
        if total > max_uncompressed:
            raise FileRejected(
                f"XLSX expands to {total} bytes, more than the limit of {max_uncompressed}"
            )
    rows = _declared_rows(content)
    if rows is not None and rows - 1 > max_rows:
        raise FileRejected(f"the sheet declares {rows - 1} data rows; the limit is {max_rows}")


def _open_workbook(content: bytes) -> Any:
    from openpyxl import load_workbook

    try:
        return load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds of error for a broken file
        raise FileRejected("not a readable XLSX file") from exc


def _declared_rows(content: bytes) -> int | None:
    workbook = _open_workbook(content)
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        return sheet.max_row if sheet is not None else None
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_xlsx(content: bytes, max_rows: int) -> tuple[list[str], list[list[str]]]:
    workbook = _open_workbook(content)
    try:
        if not workbook.worksheets:
            raise FileRejected("the workbook has no sheet")
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        header = [_cell_text(v) for v in next(rows, ())]
        data: list[list[str]] = []
        filled = 0
        for values in rows:
            cells = [_cell_text(v) for v in values]
            # Empty rows are kept, so row numbers match the sheet; they are skipped later.
            data.append(cells if any(cells) else [])
            filled += bool(cells and any(cells))
            if filled > max_rows:
                raise FileRejected(f"more than {max_rows} data rows")
        while data and not data[-1]:
            data.pop()
        return header, data
    finally:
        workbook.close()


def read_csv(content: bytes, max_rows: int) -> tuple[list[str], list[list[str]]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRejected("the CSV must be UTF-8 encoded") from exc
    first_line = text.split("\n", 1)[0]
    # Spreadsheets set to Indonesian export with semicolons.
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, [])
    data: list[list[str]] = []
    filled = 0
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                data.append([])  # kept, so row numbers match the file; skipped later
                continue
            data.append([cell.strip() for cell in cells])
            filled += 1
            if filled > max_rows:
                raise FileRejected(f"more than {max_rows} data rows")
    except csv.Error as exc:
        raise FileRejected(f"the CSV is malformed near line {reader.line_num}") from exc
    return [h.strip().lower() for h in header], data


def read_file(
    file_format: str, content: bytes, *, max_rows: int, max_uncompressed: int
) -> tuple[list[str], list[list[str]]]:
    if file_format == "xlsx":
        check_xlsx_bounds(content, max_uncompressed, max_rows)
        header, data = read_xlsx(content, max_rows)
        return [h.strip().lower() for h in header], data
    return read_csv(content, max_rows)
