"""Reading an uploaded CSV or XLSX into rows of text cells, within bounds.

Every bound is checked on what the file *says* before anything is expanded:

- every row index counts toward the row limit, blank and padded rows too: an XLSX row numbered
  1,000,000,000 fails when its ``<row r=...>`` is read, not after a billion empty rows;
- a sheet without ``<dimension>`` is of unknown size (not small): its rows are counted as read;
- the shared strings are counted as they are read and capped;
- an XLSX is a zip: its members' declared sizes and ratios are checked before a byte of XML
  is inflated (a zip bomb), and XML is read by a streaming parser that refuses any DTD, so
  no entity can expand.

The reader streams the workbook's XML itself (openpyxl's reader expands missing rows and loads
every shared string before the first row). It runs in a child process with a memory and time
bound (``isolated``), so a file crafted past these checks fails its job instead of the registry.
"""

from __future__ import annotations

import csv
import gc
import io
import multiprocessing
import posixpath
import re
import resource
import threading
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from multiprocessing.connection import Connection
from typing import Any, overload
from xml.parsers import expat

XLSX_MAGIC = b"PK\x03\x04"
# Compressed XML rarely shrinks by more than this; more means a crafted file.
MAX_XLSX_RATIO = 200
# A zip of an honest workbook has a few dozen members.
MAX_XLSX_MEMBERS = 1000
# Excel's own limit of a cell's text.
MAX_CELL_CHARS = 32_767
# Cells to the right of the last column the header can name are never read: a cell in column
# XFD would otherwise pad every row to 16,384 cells.
MAX_COLUMNS = 200
READ_CHUNK = 64 * 1024

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
SHARED_STRINGS_TYPE = REL_NS + "/sharedStrings"
STYLES_TYPE = REL_NS + "/styles"
_CELL_REF = re.compile(r"^([A-Z]{1,3})(\d+)$")


class FileRejected(Exception):
    """The whole file is unusable; the message says why (never a cell's content)."""


class MalformedXml(FileRejected):
    """A part of the workbook is not well-formed XML (or was cut off)."""


@dataclass(frozen=True, slots=True)
class Bounds:
    """What a file may make the reader hold: data rows, unique strings, uncompressed bytes."""

    max_rows: int
    max_uncompressed: int
    max_shared_strings: int


def detect_format(filename: str | None, content: bytes) -> str:
    name = (filename or "").lower()
    if content.startswith(XLSX_MAGIC) or name.endswith(".xlsx"):
        return "xlsx"
    return "csv"


def _too_many_rows(max_rows: int) -> FileRejected:
    return FileRejected(f"more than {max_rows} data rows")


# --- XML, streamed, without DTDs -----------------------------------------------------------


def _refuse_dtd(*_: object) -> None:
    raise FileRejected("the XLSX contains a document type declaration, which is not allowed")


def _xml_events(stream: Any, text_of: frozenset[str]) -> Iterator[tuple[str, str, Any]]:
    """("start", name, attributes) and ("end", name, text) of a zip member, read in chunks.

    Names are local (namespace dropped); attributes keep the namespace of ``r:id`` as
    ``"{ns}id"``. Text is gathered only inside elements named in ``text_of`` and is capped at
    a cell's limit, so one 300 MB string cannot be held."""
    parser = expat.ParserCreate(namespace_separator="}")
    # No DTD, hence no entity of any kind (billion laughs, external entities).
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    pending: list[tuple[str, str, Any]] = []
    text: list[str] = []
    size = 0
    depth = 0

    def local(name: str) -> str:
        return name.rpartition("}")[2]

    def start(name: str, attributes: dict[str, str]) -> None:
        nonlocal depth, size
        tag = local(name)
        if tag in text_of:
            depth += 1
            if depth == 1:
                text.clear()
                size = 0
        pending.append(
            ("start", tag, {("{" + k if "}" in k else k): v for k, v in attributes.items()})
        )

    def end(name: str) -> None:
        nonlocal depth
        tag = local(name)
        if tag in text_of:
            depth -= 1
        pending.append(("end", tag, "".join(text) if tag in text_of and depth == 0 else ""))

    def characters(data: str) -> None:
        nonlocal size
        if depth:
            size += len(data)
            if size > MAX_CELL_CHARS:
                raise FileRejected(f"a cell holds more than {MAX_CELL_CHARS} characters")
            text.append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    try:
        while chunk := stream.read(READ_CHUNK):
            parser.Parse(chunk, False)
            yield from pending
            pending.clear()
        parser.Parse(b"", True)
        yield from pending
    except expat.ExpatError as exc:
        raise MalformedXml("the XLSX contains malformed XML") from exc


# --- XLSX ----------------------------------------------------------------------------------


def check_xlsx_bounds(archive: zipfile.ZipFile, max_uncompressed: int) -> None:
    members = archive.infolist()
    if len(members) > MAX_XLSX_MEMBERS:
        raise FileRejected(f"the XLSX has more than {MAX_XLSX_MEMBERS} parts")
    total = 0
    for member in members:
        total += member.file_size
        if member.compress_size and member.file_size / member.compress_size > MAX_XLSX_RATIO:
            raise FileRejected(f"XLSX member {member.filename} is suspiciously compressed")
    if total > max_uncompressed:
        raise FileRejected(
            f"XLSX expands to {total} bytes, more than the limit of {max_uncompressed}"
        )


# An honest workbook's own parts are a few KiB; the check at upload reads no larger one.
MAX_UPLOAD_CHECK_PART = 1024 * 1024
# How much of the sheet the check at upload inflates looking for its <dimension>.
MAX_UPLOAD_CHECK_SHEET = 256 * 1024
_EOCD = b"PK\x05\x06"


def _declared_members(content: bytes) -> int | None:
    """The entry count the zip's end record declares, read without parsing the directory."""
    at = content.rfind(_EOCD, max(0, len(content) - 65_557))
    if at < 0 or at + 12 > len(content):
        return None
    return int.from_bytes(content[at + 10 : at + 12], "little")


@contextmanager
def _open_xlsx(content: bytes, bounds: Bounds) -> Iterator[zipfile.ZipFile]:
    """The XLSX as a zip whose declared sizes are within bounds, refused before any is read."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise FileRejected("not a readable XLSX file") from exc
    with archive:
        check_xlsx_bounds(archive, bounds.max_uncompressed)
        yield archive


def check_at_upload(content: bytes, bounds: Bounds) -> None:
    """What can be refused in the request, in bounded work, before a job is queued: a zip
    that declares too many members, too large or too compressed a member (a zip bomb), and a
    sheet whose <dimension> declares more rows than the limit. Everything else (a sheet that
    declares nothing, the shared strings, the cells) is the job's, in its bounded child."""
    if not content.startswith(XLSX_MAGIC):
        raise FileRejected("not a readable XLSX file")
    members = _declared_members(content)
    if members is not None and members > MAX_XLSX_MEMBERS:
        raise FileRejected(f"the XLSX has more than {MAX_XLSX_MEMBERS} parts")
    with _open_xlsx(content, bounds) as archive:
        sizes = {member.filename: member.file_size for member in archive.infolist()}
        own_parts = ("xl/workbook.xml", "xl/_rels/workbook.xml.rels")
        if any(sizes.get(part, 0) > MAX_UPLOAD_CHECK_PART for part in own_parts):
            return  # left to the job
        sheet_part = _parts(archive)[0]
        stream = _member(archive, sheet_part)
        if stream is None:
            raise FileRejected("the workbook has no sheet")
        with stream:
            bounded = io.BytesIO(stream.read(MAX_UPLOAD_CHECK_SHEET))
        try:
            for kind, tag, payload in _xml_events(bounded, frozenset()):
                if kind != "start":
                    continue
                if tag == "dimension":
                    declared = _CELL_REF.match(payload.get("ref", "").rpartition(":")[2])
                    if declared and int(declared.group(2)) - 1 > bounds.max_rows:
                        raise FileRejected(
                            f"the sheet declares {int(declared.group(2)) - 1} data rows; "
                            f"the limit is {bounds.max_rows}"
                        )
                    return
                if tag in ("sheetData", "row"):
                    return
        except MalformedXml:
            # A sheet cut off at the check's bound is not malformed: the job reads all of it.
            if len(bounded.getvalue()) == MAX_UPLOAD_CHECK_SHEET:
                return
            raise


def _member(archive: zipfile.ZipFile, name: str) -> Any | None:
    try:
        return archive.open(name)
    except KeyError:
        return None


def _parts(archive: zipfile.ZipFile) -> tuple[str, str | None, str | None, bool]:
    """The first sheet's part, the shared strings' and styles' parts, and the 1904 epoch flag,
    from the workbook and its relationships."""
    first_rid: str | None = None
    date1904 = False
    workbook = _member(archive, "xl/workbook.xml")
    if workbook is None:
        raise FileRejected("not a readable XLSX file")
    with workbook:
        for kind, tag, attributes in _xml_events(workbook, frozenset()):
            if kind != "start":
                continue
            if tag == "workbookPr":
                date1904 = attributes.get("date1904", "0") in ("1", "true")
            elif tag == "sheet" and first_rid is None:
                first_rid = attributes.get("{" + REL_NS + "}id")
    targets: dict[str, str] = {}
    types: dict[str, str] = {}
    rels = _member(archive, "xl/_rels/workbook.xml.rels")
    if rels is not None:
        with rels:
            for kind, tag, attributes in _xml_events(rels, frozenset()):
                if kind == "start" and tag == "Relationship":
                    target = attributes.get("Target", "")
                    target = target[1:] if target.startswith("/") else posixpath.join("xl", target)
                    targets[attributes.get("Id", "")] = posixpath.normpath(target)
                    types[attributes.get("Type", "")] = posixpath.normpath(target)
    sheet = targets.get(first_rid or "", "xl/worksheets/sheet1.xml")
    strings = types.get(SHARED_STRINGS_TYPE, "xl/sharedStrings.xml")
    styles = types.get(STYLES_TYPE, "xl/styles.xml")
    return sheet, strings, styles, date1904


def _shared_strings(archive: zipfile.ZipFile, part: str | None, cap: int) -> list[str]:
    stream = _member(archive, part) if part else None
    if stream is None:
        return []
    strings: list[str] = []
    pieces: list[str] = []
    phonetic = 0
    with stream:
        for kind, tag, payload in _xml_events(stream, frozenset({"t"})):
            if tag == "rPh":  # phonetic guide: not part of the text
                phonetic += 1 if kind == "start" else -1
            elif tag == "t" and kind == "end" and not phonetic:
                pieces.append(payload)
            elif tag == "si" and kind == "start":
                pieces = []
            elif tag == "si" and kind == "end":
                if len(strings) >= cap:
                    raise FileRejected(f"the XLSX holds more than {cap} shared strings")
                strings.append("".join(pieces))
    return strings


def _date_styles(archive: zipfile.ZipFile, part: str | None) -> set[int]:
    """Indices of the cell styles that show a number as a date (Excel keeps dates as numbers)."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

    stream = _member(archive, part) if part else None
    if stream is None:
        return set()
    formats: dict[int, str] = dict(BUILTIN_FORMATS)
    styles: set[int] = set()
    in_cell_xfs = False
    index = 0
    with stream:
        for kind, tag, attributes in _xml_events(stream, frozenset()):
            if tag == "cellXfs":
                in_cell_xfs = kind == "start"
            elif kind != "start":
                continue
            elif tag == "numFmt":
                try:
                    formats[int(attributes.get("numFmtId", "-1"))] = attributes.get(
                        "formatCode", ""
                    )
                except ValueError:
                    continue
            elif tag == "xf" and in_cell_xfs:
                try:
                    number_format = formats.get(int(attributes.get("numFmtId", "0")), "")
                except ValueError:
                    number_format = ""
                if number_format and is_date_format(number_format):
                    styles.add(index)
                index += 1
    return styles


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index


def _number_text(raw: str, is_date: bool, date1904: bool) -> str:
    from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH, from_excel

    try:
        number: float | int = float(raw) if any(c in raw for c in ".eE") else int(raw)
    except ValueError:
        return raw.strip()
    if is_date:
        try:
            moment = from_excel(number, MAC_EPOCH if date1904 else WINDOWS_EPOCH)
        except (OverflowError, ValueError):
            return raw.strip()
        if isinstance(moment, datetime):
            return moment.date().isoformat()
        if isinstance(moment, date):
            return moment.isoformat()
        return raw.strip()
    if isinstance(number, float) and number.is_integer():
        return str(int(number))
    return str(number)


def read_xlsx(content: bytes, bounds: Bounds) -> tuple[list[str], list[list[str]]]:
    with _open_xlsx(content, bounds) as archive:
        sheet_part, strings_part, styles_part, date1904 = _parts(archive)
        strings = _shared_strings(archive, strings_part, bounds.max_shared_strings)
        date_styles = _date_styles(archive, styles_part)
        stream = _member(archive, sheet_part)
        if stream is None:
            raise FileRejected("the workbook has no sheet")
        with stream:
            return _read_sheet(stream, bounds.max_rows, strings, date_styles, date1904)


def _read_sheet(
    stream: Any, max_rows: int, strings: list[str], date_styles: set[int], date1904: bool
) -> tuple[list[str], list[list[str]]]:
    # Row 1 is the header: data rows are rows 2 .. max_rows + 1, whatever is in them.
    last_allowed = max_rows + 1
    rows: list[list[str]] = []
    width = MAX_COLUMNS
    row_number = 0
    cells: list[str] = []
    column = 0
    cell_type = "n"
    cell_style = 0
    value: str | None = None
    inline: str | None = None
    for kind, tag, payload in _xml_events(stream, frozenset({"v", "t"})):
        if kind == "start":
            if tag == "dimension":
                declared = _CELL_REF.match(payload.get("ref", "").rpartition(":")[2])
                # Only a declared size above the limit decides anything; a missing or small
                # one proves nothing, and the rows are counted as they come.
                if declared and int(declared.group(2)) > last_allowed:
                    raise FileRejected(
                        f"the sheet declares {int(declared.group(2)) - 1} data rows; "
                        f"the limit is {max_rows}"
                    )
            elif tag == "row":
                try:
                    number = int(payload.get("r") or row_number + 1)
                except ValueError as exc:
                    raise FileRejected("the sheet has a row without a valid number") from exc
                if number <= row_number:
                    raise FileRejected(f"the sheet's row {number} is out of order")
                if number > last_allowed:
                    raise _too_many_rows(max_rows)
                # Rows the sheet skips are blank rows: kept, so numbering matches the sheet.
                rows.extend([] for _ in range(number - row_number - 1))
                row_number = number
                cells = []
                column = 0
            elif tag == "c":
                reference = _CELL_REF.match(payload.get("r", ""))
                column = _column_index(reference.group(1)) if reference else column + 1
                cell_type = payload.get("t", "n")
                try:
                    cell_style = int(payload.get("s", "0"))
                except ValueError:
                    cell_style = 0
                value = inline = None
            continue
        if tag == "v":
            value = payload
        elif tag == "t":
            inline = (inline or "") + payload
        elif tag == "c":
            if column > width:
                continue  # no header can name this column
            text = _cell(cell_type, value, inline, cell_style, strings, date_styles, date1904)
            if text:
                cells.extend("" for _ in range(column - len(cells)))
                cells[column - 1] = text
        elif tag == "row":
            if row_number == 1:
                header = cells
                width = min(len(header), MAX_COLUMNS)
            # Empty rows are kept, so row numbers match the sheet; they are skipped later.
            rows.append(cells if any(cells) else [])
    if not rows:
        return [], []
    header, data = rows[0], rows[1:]
    while data and not data[-1]:
        data.pop()
    return header, data


def _cell(
    cell_type: str,
    value: str | None,
    inline: str | None,
    style: int,
    strings: list[str],
    date_styles: set[int],
    date1904: bool,
) -> str:
    if cell_type == "inlineStr":
        return (inline or "").strip()
    if value is None:
        return ""
    if cell_type == "s":
        try:
            return strings[int(value)].strip()
        except (ValueError, IndexError) as exc:
            raise FileRejected("the sheet refers to a shared string that does not exist") from exc
    if cell_type == "b":
        return "true" if value.strip() in ("1", "true") else "false"
    if cell_type == "d":
        return value.strip()[:10]
    if cell_type in ("str", "e"):
        return value.strip()
    return _number_text(value, style in date_styles, date1904)


# --- CSV -----------------------------------------------------------------------------------


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
    try:
        for cells in reader:
            # Every line counts, blank ones too: they are kept (row numbers match the file)
            # and would otherwise be an unbounded list.
            if len(data) >= max_rows:
                raise _too_many_rows(max_rows)
            stripped = [cell.strip() for cell in cells]  # each cell stripped once
            if not any(stripped):
                data.append([])  # skipped later
                continue
            data.append(stripped if len(stripped) <= MAX_COLUMNS else stripped[:MAX_COLUMNS])
    except csv.Error as exc:
        raise FileRejected(f"the CSV is malformed near line {reader.line_num}") from exc
    while data and not data[-1]:
        data.pop()
    return [h.strip() for h in header[:MAX_COLUMNS]], data


def read_file(
    file_format: str, content: bytes, bounds: Bounds
) -> tuple[list[str], list[list[str]]]:
    if file_format == "xlsx":
        header, data = read_xlsx(content, bounds)
        return [h.strip() for h in header], data
    return read_csv(content, bounds.max_rows)


# --- in a child process, with a memory and time bound ----------------------------------------


@dataclass(frozen=True, slots=True)
class Isolation:
    memory_bytes: int
    seconds: float


def _child(
    answer: Connection, file_format: str, content: bytes, bounds: Bounds, isolation: Isolation
) -> None:
    """Runs in the child: bound its address space and CPU time, read, send the rows back."""
    resource.setrlimit(resource.RLIMIT_AS, (isolation.memory_bytes, isolation.memory_bytes))
    cpu = max(1, int(isolation.seconds) + 1)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    if file_format == "csv":
        # A CSV's rows hold no cycles, and the process ends once they are sent.
        gc.disable()
    try:
        outcome: tuple[str, Any] = ("rows", _packed(*read_file(file_format, content, bounds)))
    except FileRejected as exc:
        outcome = ("rejected", str(exc))
    except MemoryError:
        outcome = ("memory", None)
    del content
    try:
        answer.send(outcome)
    except MemoryError:
        answer.send(("memory", None))
    answer.close()


def isolated(
    file_format: str, content: bytes, bounds: Bounds, isolation: Isolation
) -> tuple[list[str], Sequence[list[str]]]:
    """``read_file`` in a fresh process whose address space and time are bounded: a file
    that needs more fails with FileRejected, and the registry's own process never holds more
    than the rows it gets back. Spawned, not forked: a fork would copy the server's threads'
    state and its memory."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_child,
        args=(sender, file_format, content, bounds, isolation),
        name="sinergi-import-reader",
        daemon=True,
    )
    process.start()
    sender.close()
    megabytes = isolation.memory_bytes // (1024 * 1024)
    answered = False
    try:
        if not receiver.poll(isolation.seconds):
            raise FileRejected(f"reading the file took longer than {isolation.seconds:g} s")
        try:
            kind, payload = receiver.recv()
        except (EOFError, OSError) as exc:
            # The child died without an answer: killed at its memory or CPU bound.
            raise FileRejected(
                f"reading the file needed more than {megabytes} MB of memory or "
                f"{isolation.seconds:g} s"
            ) from exc
        answered = True
    finally:
        receiver.close()
        # A child that answered exits at once; one that did not is stopped now.
        process.join(5 if answered else 0)
        if process.is_alive():
            process.kill()
        process.join()
    if kind == "memory":
        raise FileRejected(f"reading the file needed more than {megabytes} MB of memory")
    if kind == "rejected":
        raise FileRejected(str(payload))
    header, data = payload
    return header, _unpacked(data)


# Rows cross from the child as one string, cells and rows joined by separators no honest cell
# holds: a list of a million small strings takes seconds to pickle and unpickle, one string
# almost none. A file whose cells do hold them crosses as the list itself.
_CELL, _ROW = "\x1f", "\x1e"


def _packed(header: list[str], data: list[list[str]]) -> tuple[list[str], str | list[list[str]]]:
    packed = _ROW.join(_CELL.join(cells) for cells in data)
    separators = max(0, len(data) - 1) + sum(max(0, len(row) - 1) for row in data)
    if packed.count(_CELL) + packed.count(_ROW) != separators or (data and not packed):
        return header, data
    return header, packed


def _unpacked(data: str | list[list[str]]) -> Sequence[list[str]]:
    if isinstance(data, list):
        return data
    if not data:
        return []
    return Rows(data.split(_ROW))


class Rows(Sequence[list[str]]):
    """The file's rows as they crossed from the child, each split into cells when it is
    asked for: the validating thread splits a batch at a time, while the writer thread waits
    on the database, instead of the whole file being split before the first row is checked."""

    def __init__(self, lines: list[str]) -> None:
        self._lines = lines

    def __len__(self) -> int:
        return len(self._lines)

    @overload
    def __getitem__(self, index: int) -> list[str]: ...

    @overload
    def __getitem__(self, index: slice) -> list[list[str]]: ...

    def __getitem__(self, index: int | slice) -> list[str] | list[list[str]]:
        if isinstance(index, slice):
            return [line.split(_CELL) if line else [] for line in self._lines[index]]
        line = self._lines[index]
        return line.split(_CELL) if line else []

    def non_empty(self) -> int:
        """How many rows hold a cell (an empty row crossed as an empty line)."""
        return len(self._lines) - self._lines.count("")


def non_empty(data: Sequence[list[str]]) -> int:
    """The rows of ``data`` that hold a cell (empty ones are skipped but keep their number)."""
    if isinstance(data, Rows):
        return data.non_empty()
    return sum(1 for cells in data if cells)


# --- Python's cycle collector, paused while rows are built ---------------------------------

# An import makes hundreds of thousands of small lists and dicts (a row, its values) that hold
# no cycles and are freed by their reference counts. Each 700 new ones trigger a collection,
# and the older generations' collections then walk every row made so far: measured, a quarter
# of the validation's time (of 100,000 rows). Pausing it for one batch of rows at a time costs
# nothing (the rows are not garbage), and it runs again between batches for the rest of the
# process.

_lock = threading.Lock()
_pausing = 0  # the batches, of any thread, in progress
_resume = False  # whether the collector was on when the first of them began


@contextmanager
def collector_paused() -> Iterator[None]:
    """The collector off for the block, back on when the last paused block of any thread
    ends (if it was on when the first began)."""
    global _pausing, _resume
    with _lock:
        if _pausing == 0:
            _resume = gc.isenabled()
            gc.disable()
        _pausing += 1
    try:
        yield
    finally:
        with _lock:
            _pausing -= 1
            if _pausing == 0 and _resume:
                gc.enable()
