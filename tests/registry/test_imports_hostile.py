"""Hostile uploads (issue 13, item 3): files made to exhaust the registry's memory fail their
job quickly with a clear error, read in a bounded child process, while the registry keeps
answering; on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import time
import zipfile
from typing import Any

import anyio
import httpx
import pytest

from tests.registry.support import registry_client
from tests.support.databases import DatabaseFactory
from tests.support.tokens import TestKeys

pytestmark = pytest.mark.anyio

HEADER = ["nik", "full_name", "sex", "birth_date", "village_code"]
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def xlsx(sheet: str, shared_strings: str | None = None) -> bytes:
    """A workbook of the given first-sheet XML, built part by part as Excel lays it out."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="xml" ContentType="application/xml"/></Types>',
        )
        archive.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0"?><workbook xmlns="{MAIN}" xmlns:r="{RELS}"><sheets>'
            '<sheet name="Daftar" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        relations = (
            f'<Relationship Id="rId1" Type="{RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
        )
        if shared_strings is not None:
            relations += (
                f'<Relationship Id="rId2" Type="{RELS}/sharedStrings" Target="sharedStrings.xml"/>'
            )
            archive.writestr("xl/sharedStrings.xml", shared_strings)
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            f'package/2006/relationships">{relations}</Relationships>',
        )
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
    return buffer.getvalue()


def inline_row(number: int, values: list[str]) -> str:
    cells = "".join(
        f'<c r="{chr(65 + i)}{number}" t="inlineStr"><is><t>{v}</t></is></c>'
        for i, v in enumerate(values)
    )
    return f'<row r="{number}">{cells}</row>'


def sheet_xml(rows: str, dimension: str = "") -> str:
    return (
        f'<?xml version="1.0"?><worksheet xmlns="{MAIN}">{dimension}<sheetData>{rows}'
        "</sheetData></worksheet>"
    )


async def upload_while_serving(
    client: httpx.AsyncClient, headers: dict[str, str], name: str, content: bytes
) -> tuple[dict[str, Any], float, int]:
    """Upload, and read the registry meanwhile: the job's final state, how long the upload
    took (the job runs before the in-process transport returns) and how many reads the
    registry answered while the job ran."""
    answered = 0
    done = anyio.Event()
    result: dict[str, Any] = {}

    async def send() -> None:
        started = time.monotonic()
        response = await client.post(
            "/v1/residents/import", files={"file": (name, content)}, headers=headers
        )
        result["elapsed"] = time.monotonic() - started
        result["response"] = response
        done.set()

    async def read() -> None:
        nonlocal answered
        while not done.is_set():
            listed = await client.get("/v1/residents", headers=headers)
            assert listed.status_code == 200, listed.text
            answered += 1
            await anyio.sleep(0.05)

    async with anyio.create_task_group() as group:
        group.start_soon(send)
        group.start_soon(read)
    response = result["response"]
    assert response.status_code == 202, response.text
    job: dict[str, Any] = (await client.get(response.headers["location"], headers=headers)).json()
    # And after it: the registry still serves.
    assert (await client.get("/v1/residents", headers=headers)).status_code == 200
    return job, result["elapsed"], answered


def _assert_failed_while_serving(
    job: dict[str, Any], elapsed: float, answered: int, error: str
) -> None:
    """The import failed with ``error``, soon, and the registry kept answering meanwhile."""
    assert job["status"] == "failed", job
    assert job["error"] == error
    assert elapsed < 20 and answered >= 1


async def test_a_row_numbered_a_billion_fails_at_once(keys, backend: str, databases) -> None:  # type: ignore[no-untyped-def]
    agency = keys.headers("government_agency")
    # No <dimension>: the size is unknown, and the one data row says it is row 1,000,000,000.
    content = xlsx(sheet_xml(inline_row(1, HEADER) + inline_row(1_000_000_000, ["x"] * 5)))
    assert len(content) < 5 * 1024
    async with registry_client(databases.new(backend, "registry"), keys) as client:
        job, elapsed, answered = await upload_while_serving(client, agency, "a.xlsx", content)
    _assert_failed_while_serving(job, elapsed, answered, "more than 100000 data rows")


async def test_two_million_blank_csv_lines_count_toward_the_limit(
    keys: TestKeys, backend: str, databases: DatabaseFactory
) -> None:
    agency = keys.headers("government_agency")
    content = (",".join(HEADER) + "\n").encode() + b"\n" * 2_000_000
    async with registry_client(databases.new(backend, "registry"), keys) as client:
        job, elapsed, answered = await upload_while_serving(client, agency, "a.csv", content)
        _assert_failed_while_serving(job, elapsed, answered, "more than 100000 data rows")
        # Blank lines count, padded delimiters too: 3 rows of a limit of 2 is refused.
        async with registry_client(
            databases.new(backend, "registry"), keys, import_max_rows=2
        ) as small:
            padded = (",".join(HEADER) + "\n" + ",,,,\n" * 3).encode()
            job, _, _ = await upload_while_serving(small, agency, "b.csv", padded)
            assert (job["status"], job["error"]) == ("failed", "more than 2 data rows")


async def test_half_a_million_shared_strings_are_capped(keys, backend: str, databases) -> None:  # type: ignore[no-untyped-def]
    agency = keys.headers("government_agency")
    strings = "".join(f"<si><t>{n:07d}</t></si>" for n in range(500_000))
    content = xlsx(
        sheet_xml('<row r="1"><c r="A1" t="s"><v>0</v></c></row>'),
        f'<?xml version="1.0"?><sst xmlns="{MAIN}" count="500000">{strings}</sst>',
    )
    # By default the cap follows the row limit: 10,000 rows of our 18 columns at most.
    async with registry_client(
        databases.new(backend, "registry"), keys, import_max_rows=10_000
    ) as client:
        job, elapsed, answered = await upload_while_serving(client, agency, "s.xlsx", content)
        _assert_failed_while_serving(
            job, elapsed, answered, "the XLSX holds more than 180018 shared strings"
        )
    # And it is a setting of its own.
    async with registry_client(
        databases.new(backend, "registry"), keys, import_max_shared_strings=1000
    ) as client:
        job, _, _ = await upload_while_serving(client, agency, "s.xlsx", content)
        assert job["error"] == "the XLSX holds more than 1000 shared strings"


async def test_entities_are_refused_and_the_reader_is_bounded(
    keys: TestKeys, backend: str, databases: DatabaseFactory
) -> None:
    agency = keys.headers("government_agency")
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c t="inlineStr"><is><t>&lol2;</t>'
        "</is></c></row></sheetData></worksheet>"
    )
    # A big honest-looking CSV: 100,000 rows of 30 distinct cells.
    big = (",".join(HEADER) + "\n").encode() + b"".join(
        (",".join(f"{r:06d}{c:02d}" for c in range(30)) + "\n").encode() for r in range(100_000)
    )
    async with registry_client(databases.new(backend, "registry"), keys) as client:
        # The DTD is found at upload, in the bounded look for the sheet's declared size.
        refused = await client.post(
            "/v1/residents/import", files={"file": ("l.xlsx", xlsx(laughs))}, headers=agency
        )
        assert refused.status_code == 422, refused.text
        assert "document type declaration" in refused.json()["detail"]
    async with registry_client(
        databases.new(backend, "registry"), keys, import_reader_memory_bytes=300 * 1024 * 1024
    ) as client:
        job, _, answered = await upload_while_serving(client, agency, "big.csv", big)
        assert job["status"] == "failed", job
        assert job["error"].startswith("reading the file needed more than 300 MB of memory")
        assert answered >= 1
    async with registry_client(
        databases.new(backend, "registry"), keys, import_reader_seconds=0.01
    ) as client:
        job, _, _ = await upload_while_serving(client, agency, "big.csv", big + b"\n")
        assert (job["status"], job["error"]) == (
            "failed",
            "reading the file took longer than 0.01 s",
        )
