"""Bulk import: the report with bad rows, the same file twice, dry runs, XLSX, bounds, and a
worker that dies half-way and is resumed, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, date, datetime
from typing import Any

import httpx
import psycopg
import pytest
from openpyxl import Workbook
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import col

from services.registry.imports.service import run_job
from services.registry.models import ImportJob, Resident
from tests.registry.support import (
    MEGASARI,
    TARJUN,
    feed,
    make_nik,
    register,
    registry_client,
    resident,
)
from tests.support.databases import DatabaseFactory
from tests.support.tokens import TestKeys

pytestmark = pytest.mark.anyio

COLUMNS = [
    "nik",
    "full_name",
    "sex",
    "birth_date",
    "village_code",
    "welfare_decile",
    "skills",
    "phone",
]


def row(serial: int, **fields: Any) -> dict[str, Any]:
    born = date(1990, 1, 1 + serial % 28)
    values = {
        "nik": make_nik(born, "M", serial=f"{serial:04d}"),
        "full_name": f"Budi {serial}",
        "sex": "M",
        "birth_date": born.isoformat(),
        "village_code": TARJUN,
        "welfare_decile": "3",
        "skills": "cement-kiln-operation;welding-smaw",
        "phone": "0812345678",
    }
    values.update(fields)
    return values


def to_csv(rows: list[dict[str, Any]], columns: list[str] = COLUMNS, delimiter: str = ",") -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, delimiter=delimiter)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def queued_job(
    job_id: str, content: bytes, *, sha256: str | None = None, created_at: datetime | None = None
) -> ImportJob:
    """A CSV import an agency queued (the job's hash its id unless given), for a worker to run."""
    return ImportJob(
        id=job_id,
        org_id="org-agency",
        org_type="government_agency",
        subject="user:x",
        file_format="csv",
        content=content,
        content_sha256=job_id if sha256 is None else sha256,
        created_at=created_at or datetime.now(UTC),
    )


async def upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    content: bytes,
    name: str = "list.csv",
    **params: Any,
) -> dict[str, Any]:
    response = await client.post(
        "/v1/residents/import", files={"file": (name, content)}, params=params, headers=headers
    )
    assert response.status_code == 202, response.text
    job: dict[str, Any] = (await client.get(response.headers["location"], headers=headers)).json()
    return job


async def test_report_names_bad_rows_and_the_same_file_twice_changes_nothing(
    keys: TestKeys, backend: str, databases: DatabaseFactory
) -> None:
    village = keys.headers("village_government", region=TARJUN)
    rows = [row(i) for i in range(1, 9)]
    rows[2]["nik"] = rows[2]["nik"][:12] + "0000"  # row 4
    rows[4]["sex"] = "F"  # row 6: NIK says a man
    rows[5]["village_code"] = MEGASARI  # row 7: outside the village's region
    rows[6]["skills"] = "juggling"  # row 8
    rows[6]["welfare_decile"] = "11"
    rows.append(dict(rows[0], full_name="Again"))  # row 10: the NIK of row 2 again
    content = to_csv(rows)
    async with registry_client(
        databases.new(backend, "registry"), keys, import_chunk_size=3
    ) as client:
        job = await upload(client, village, content)
        assert job["status"] == "done", job
        assert (
            job["total_rows"],
            job["created"],
            job["updated"],
            job["unchanged"],
            job["rejected"],
        ) == (9, 4, 0, 0, 5)
        assert sorted((r["row"], r["column"]) for r in job["rejections"]) == [
            (4, "nik"),
            (6, "nik"),
            (7, "village_code"),
            (8, "skills"),
            (8, "welfare_decile"),
            (10, "nik"),
        ]
        messages = {(r["row"], r["column"]): r["message"] for r in job["rejections"]}
        assert "0000" in messages[(4, "nik")] and "row 2" in messages[(10, "nik")]
        listed = (await client.get("/v1/residents", headers=village)).json()["items"]
        assert len(listed) == 4 and {r["phone"] for r in listed} == {"+62812345678"}
        assert {tuple(r["skills"]) for r in listed} == {("cement-kiln-operation", "welding-smaw")}

        again = await upload(client, village, content)
        assert (again["created"], again["updated"], again["unchanged"], again["rejected"]) == (
            0,
            0,
            4,
            5,
        )

        # A fix to one row and one new column value: updates only those residents.
        rows[0]["welfare_decile"] = "1"
        rows[2]["nik"] = make_nik(date(1990, 1, 4), "M", serial="0003")
        fixed = await upload(client, village, to_csv(rows[:3]))
        assert (fixed["created"], fixed["updated"], fixed["unchanged"], fixed["rejected"]) == (
            1,
            1,
            1,
            0,
        )
        pages = await client.get(
            f"/v1/residents/imports/{job['id']}/rejections?limit=4", headers=village
        )
        assert len(pages.json()["items"]) == 4 and pages.json()["next_cursor"]
        other = keys.headers("village_government", region=TARJUN)
        assert (
            await client.get(f"/v1/residents/imports/{job['id']}", headers=other)
        ).status_code == 404


async def test_dry_run_xlsx_and_refused_files(keys, backend: str, databases) -> None:  # type: ignore[no-untyped-def]
    agency = keys.headers("government_agency")
    async with registry_client(
        databases.new(backend, "registry"), keys, import_max_rows=50
    ) as client:
        dry = await upload(client, agency, to_csv([row(1), row(2)]), dry_run="true")
        assert dry["status"] == "done" and dry["dry_run"] and dry["created"] == 2
        assert (await client.get("/v1/residents", headers=agency)).json()["items"] == []

        book = Workbook()
        sheet = book.active
        sheet.append(COLUMNS)
        for serial in (1, 2):
            values = row(serial)
            values["birth_date"] = date.fromisoformat(values["birth_date"])  # a real date cell
            values["welfare_decile"] = 3  # a number cell
            sheet.append([values[c] for c in COLUMNS])
        sheet.append([])  # an empty row in the middle keeps numbering
        sheet.append([row(3)[c] if c != "sex" else "X" for c in COLUMNS])
        buffer = io.BytesIO()
        book.save(buffer)
        xlsx = await upload(client, agency, buffer.getvalue(), "daftar.xlsx")
        assert (xlsx["status"], xlsx["created"], xlsx["rejected"]) == ("done", 2, 1), xlsx
        assert [(r["row"], r["column"]) for r in xlsx["rejections"]] == [(5, "sex")]

        semicolons = await upload(client, agency, to_csv([row(4)], delimiter=";"))
        assert semicolons["created"] == 1

        unknown = await upload(client, agency, to_csv([row(5, extra="x")], [*COLUMNS, "extra"]))
        assert unknown["status"] == "failed" and "unknown column(s) extra" in unknown["error"]
        too_many = await upload(client, agency, to_csv([row(i) for i in range(1, 60)]))
        assert too_many["status"] == "failed" and "more than 50" in too_many["error"]

        bomb = io.BytesIO()
        with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("xl/worksheets/sheet1.xml", b"0" * 20_000_000)
        # A bomb and a zip that is no workbook are refused at upload, by bounded checks of
        # what the zip declares; no job is queued for them.
        refused = await client.post(
            "/v1/residents/import", files={"file": ("bomb.xlsx", bomb.getvalue())}, headers=agency
        )
        assert refused.status_code == 422 and "compressed" in refused.json()["detail"]
        broken = io.BytesIO()
        with zipfile.ZipFile(broken, "w") as archive:
            archive.writestr("hello.txt", b"not a workbook")
        unreadable = await client.post(
            "/v1/residents/import", files={"file": ("x.xlsx", broken.getvalue())}, headers=agency
        )
        assert unreadable.status_code == 422 and "not a readable XLSX" in unreadable.text
        not_a_zip = await client.post(
            "/v1/residents/import", files={"file": ("x.xlsx", b"nik,name")}, headers=agency
        )
        assert not_a_zip.status_code == 422 and "not a readable XLSX" in not_a_zip.text
        huge = await client.post(
            "/v1/residents/import",
            files={"file": ("big.csv", b"x" * 1024)},
            headers={**agency, "content-length": str(60 * 1024 * 1024)},
        )
        assert huge.status_code == 413
        village = keys.headers("regional_agency")
        assert (
            await client.post(
                "/v1/residents/import", files={"file": ("a.csv", b"nik")}, headers=village
            )
        ).status_code == 403


async def test_a_worker_that_dies_half_way_loses_nothing_and_applies_nothing_twice(
    keys: TestKeys, backend: str, databases: DatabaseFactory
) -> None:
    agency = keys.headers("government_agency")
    content = to_csv([row(i) for i in range(1, 11)])
    async with registry_client(
        databases.new(backend, "registry"), keys, import_chunk_size=4, import_lease_seconds=0
    ) as client:
        app = client.app  # type: ignore[attr-defined]
        # Registered by hand meanwhile: the import must update, not duplicate, this one.
        await register(
            client,
            agency,
            resident(1)
            | {k: v for k, v in row(2).items() if k in ("nik", "sex", "birth_date")}
            | {"full_name": "Budi 2", "welfare_decile": 3},
        )
        with app.state.db.session() as session:
            session.add(queued_job("job-1", content, sha256="x"))
        settings = app.state.settings
        run_job(app.state.db, "job-1", settings, max_chunks=1)  # dies after the first chunk
        with app.state.db.session(write=False) as session:
            job = session.get(ImportJob, "job-1")
            assert (job.status, job.processed_rows) == ("running", 4)
            assert session.scalar(select(func.count()).select_from(Resident)) == 4
        run_job(app.state.db, "job-1", settings)  # another worker takes over after the lease
        run_job(app.state.db, "job-1", settings)  # and a late retry finds nothing to do
        with app.state.db.session(write=False) as session:
            job = session.get(ImportJob, "job-1")
            assert (job.status, job.processed_rows, job.created, job.updated, job.unchanged) == (
                "done",
                10,
                9,
                1,  # the resident registered by hand gains the file's phone and skills
                0,
            )
            assert session.scalar(select(func.count()).select_from(Resident)) == 10
        changes = await feed(client, keys.headers("service"), expected=11)
        assert sorted(c["event"] for c in changes) == ["created"] * 10 + ["updated"]


async def test_a_job_that_keeps_failing_is_marked_failed_after_its_attempts(
    keys: TestKeys, backend: str, databases: DatabaseFactory
) -> None:
    admin = keys.headers("admin")
    async with registry_client(
        databases.new(backend, "registry"), keys, import_lease_seconds=0, import_max_attempts=3
    ) as client:
        app = client.app  # type: ignore[attr-defined]
        db, settings = app.state.db, app.state.settings
        with db.session() as session:
            session.add(queued_job("job-error", to_csv([row(1), row(2)])))
            session.add(queued_job("job-crash", to_csv([row(3)])))
            # A real database error on every chunk: the table of residents' history is gone.
            session.execute(text("DROP TABLE resident_change"))

        for _ in range(2):
            # PostgreSQL's bulk path (COPY) raises psycopg's own error.
            with pytest.raises((DBAPIError, psycopg.Error)):
                run_job(db, "job-error", settings)  # left for a retry after the lease
        run_job(db, "job-error", settings)  # the third attempt gives up
        run_job(db, "job-error", settings)  # and no worker takes it again

        # A worker that dies on the job each time (max_chunks=0 stops it before any chunk).
        for _ in range(3):
            run_job(db, "job-crash", settings, max_chunks=0)
        run_job(db, "job-crash", settings)

        for job_id, cause in (("job-error", "unexpected error"), ("job-crash", "stopped")):
            job = (await client.get(f"/v1/residents/imports/{job_id}", headers=admin)).json()
            assert (job["status"], job["attempts"], job["processed_rows"]) == ("failed", 3, 0)
            assert job["error"].startswith("gave up after 3 attempts") and cause in job["error"]
            assert job["finished_at"] is not None
        with db.session(write=False) as session:
            assert session.scalar(select(func.count()).select_from(Resident)) == 0


async def test_consent_status_is_the_same_word_whichever_path_records_consent(
    registry: httpx.AsyncClient, keys: TestKeys
) -> None:
    agency = keys.headers("government_agency")
    given = row(1, consent_given="true", consent_purpose="programme")
    await register(
        registry,
        agency,
        {
            **{k: given[k] for k in ("nik", "full_name", "sex", "birth_date", "village_code")},
            "consent": {"given": True, "purpose": "programme"},
        },
    )
    columns = [*COLUMNS, "consent_given", "consent_purpose"]
    withdrawn = {**given, "consent_given": "false"}
    refused = row(2, consent_given="false", consent_purpose="programme")
    job = await upload(registry, agency, to_csv([withdrawn, refused], columns))
    assert (job["created"], job["updated"]) == (1, 1), job
    api = await register(
        registry, agency, {**resident(3), "consent": {"given": False, "purpose": "programme"}}
    )
    db = registry.app.state.db  # type: ignore[attr-defined]
    with db.session(write=False) as session:
        statuses = dict(
            session.execute(select(col(Resident.nik), col(Resident.consent_status))).all()
        )
    # A refusal after a consent is a withdrawal, in an import as through the API.
    assert statuses == {
        given["nik"]: "withdrawn",
        refused["nik"]: "refused",
        api["nik"]: "refused",
    }
