"""Benchmark 2, import: a resident CSV through ``POST /v1/residents/import`` until its job
finishes, against PostgreSQL's ``COPY`` of the same rows into a table of the same shape
(``CREATE TABLE ... (LIKE resident INCLUDING ALL)``: same columns, constraints and indexes).

The import does per row what the registry must (validation, NIK rules, duplicate check, the
change history and the change feed); ``COPY`` is the floor: the database writing the rows and
their indexes and nothing else.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime

import httpx
import psycopg

from bench.clients import import_residents, resident_csv
from bench.harness import (
    SEED,
    BenchKeys,
    Report,
    Service,
    Stopwatch,
    fresh_database,
    ratio,
    service_env,
    workdir,
)
from services.registry.residents.models import normalise_phone
from services.registry.residents.records import name_key

SIZES = {"quick": {"rows": 2_000}, "full": {"rows": 100_000}}
COPY_COLUMNS = (
    "id",
    "nik",
    "family_card_number",
    "full_name",
    "name_key",
    "sex",
    "birth_date",
    "village_code",
    "district_code",
    "regency_code",
    "address",
    "phone",
    "education_level",
    "skills",
    "employment_status",
    "monthly_income_idr",
    "household_size",
    "welfare_decile",
    "disability",
    "status",
    "version",
    "source_org_id",
    "registered_at",
    "updated_at",
)


def copy_rows(content: bytes) -> list[tuple[object, ...]]:
    """The CSV's rows as the resident table stores them (derived columns filled in), prepared
    before the clock starts: the baseline is the database's floor, not a CSV parser."""
    now = datetime.now(UTC)
    rows: list[tuple[object, ...]] = []
    for row in csv.DictReader(io.StringIO(content.decode())):
        village = row["village_code"]
        skills = [s for s in row["skills"].split(";") if s]
        disability = [s for s in row["disability"].split(";") if s]
        rows.append(
            (
                str(uuid.uuid4()),
                row["nik"],
                row["family_card_number"],
                row["full_name"],
                name_key(row["full_name"]),
                row["sex"],
                row["birth_date"],
                village,
                village.rsplit(".", 1)[0],
                village[:5],
                row["address"],
                normalise_phone(row["phone"]),
                row["education_level"],
                psycopg.types.json.Jsonb(skills),
                row["employment_status"],
                int(row["monthly_income_idr"]),
                int(row["household_size"]),
                int(row["welfare_decile"]),
                psycopg.types.json.Jsonb(disability),
                "registered",
                1,
                "bench",
                now,
                now,
            )
        )
    return rows


def copy_baseline(database_url: str, rows: list[tuple[object, ...]]) -> float:
    """Seconds to COPY the rows into a fresh table shaped like ``resident``, committed."""
    with psycopg.connect(database_url) as conn:
        conn.execute("CREATE TABLE resident_copy (LIKE resident INCLUDING ALL)")
        conn.commit()
        clock = Stopwatch()
        with conn.cursor() as cursor:
            columns = ", ".join(COPY_COLUMNS)
            with cursor.copy(f"COPY resident_copy ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        conn.commit()
        seconds = clock.seconds
        copied = conn.execute("SELECT count(*) FROM resident_copy").fetchone()
    if not copied or copied[0] != len(rows):
        raise RuntimeError(f"COPY wrote {copied} rows, expected {len(rows)}")
    return seconds


def run(*, quick: bool) -> Report:
    rows = SIZES["quick" if quick else "full"]["rows"]
    report = Report("imports", "Import: resident CSV", quick, sizes={"rows": rows})
    content = resident_csv(rows, SEED + 2)
    report.sizes["csv_bytes"] = len(content)
    with (
        workdir("import") as work,
        fresh_database("import_registry", "registry") as registry_db,
    ):
        keys = BenchKeys(work)
        registry_env = service_env("REGISTRY", registry_db, keys)
        with Service("registry", "services.registry.main:create_app", registry_env, work) as reg:
            # An agency's staff import lists; the registry checks the token's signature alone.
            auth = {"Authorization": keys.authorization("government_agency")}
            with httpx.Client(base_url=reg.url, headers=auth, timeout=300) as client:
                clock = Stopwatch()
                job = import_residents(client, content)
                import_seconds = clock.seconds
        if job["created"] != rows:
            raise RuntimeError(f"the import created {job['created']} residents, not {rows}")
        copy_seconds = copy_baseline(registry_db, copy_rows(content))
    report.add(
        "POST /v1/residents/import (upload to job done)",
        rows=rows,
        seconds=round(import_seconds, 2),
        rows_per_second=round(rows / import_seconds),
    )
    report.add(
        "COPY into a table of the same shape",
        rows=rows,
        seconds=round(copy_seconds, 2),
        rows_per_second=round(rows / copy_seconds),
    )
    report.add_ratio("import/copy", ratio(copy_seconds, import_seconds))
    report.notes.append("import/copy is rows per second of the import over those of COPY")
    report.write()
    return report
